//! Why a notification was not delivered: said in the room once, and retried.

/// Why a notification was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// The channel is not configured (any more: the configuration changed).
    #[error("[notify.{0}] is not configured")]
    Unconfigured(&'static str),
    /// The page it is about is unknown (the record holds none).
    #[error("the page it is about is not known")]
    NoPage,
    /// `web.public_url` makes no link.
    #[error("the acknowledge link cannot be made: {0}")]
    Link(#[from] url::ParseError),
    /// The mail could not be written.
    #[error("the mail cannot be written: {0}")]
    Mail(#[from] lettre::error::Error),
    /// The mail server refused it, or could not be reached.
    #[error("{0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    /// The webhook's secret does not sign (it is checked at start, so only if it changed).
    #[error("the webhook's secret cannot sign: {0}")]
    Secret(#[from] standardwebhooks::WebhookError),
    /// The HTTP server could not be reached, or did not answer in time.
    #[error("{0}")]
    Http(#[from] reqwest::Error),
    /// The HTTP server answered, with an error.
    #[error("{server} answered {status}{}", reason.as_deref().map(|reason| format!(": {reason}")).unwrap_or_default())]
    Refused {
        /// Which one: `ntfy`, `the gateway`.
        server: &'static str,
        /// Its status.
        status: reqwest::StatusCode,
        /// What it said, cut short.
        reason: Option<String>,
    },
}
