//! Why a notification was not delivered: logged in full, said in the room without what a
//! server answered (which may repeat an address or a number) and without URLs (which may hold
//! a secret), and retried.

/// Why a notification was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// The channel is not configured (any more: the configuration changed).
    #[error("[notify.{0}] is not configured")]
    Unconfigured(&'static str),
    /// The channel is configured, but its client could not be made (said in the log at start).
    #[error("[notify.{0}] cannot be used (the bot's log at its start says why)")]
    Unusable(&'static str),
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
    /// The HTTP server could not be reached, or did not answer in time (without the URL).
    #[error("{0}")]
    Http(reqwest::Error),
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

impl From<reqwest::Error> for ChannelError {
    fn from(error: reqwest::Error) -> Self {
        Self::Http(error.without_url())
    }
}

impl ChannelError {
    /// What the incident's room is told: the kind of failure, without a server's own words.
    pub fn for_room(&self) -> String {
        match self {
            Self::Smtp(error) => {
                let code = error
                    .status()
                    .map_or_else(String::new, |code| format!(" ({code})"));
                if error.is_permanent() {
                    format!("the mail server refused it{code}")
                } else if error.is_transient() {
                    format!("the mail server put it off{code}")
                } else if error.is_timeout() {
                    "the mail server did not answer in time".to_owned()
                } else {
                    "the mail server could not be reached".to_owned()
                }
            }
            Self::Http(error) if error.is_timeout() => {
                "its server did not answer in time".to_owned()
            }
            Self::Http(_) => "its server could not be reached".to_owned(),
            Self::Refused { server, status, .. } => format!("{server} answered {status}"),
            other => other.to_string(),
        }
    }
}
