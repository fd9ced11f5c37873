//! The channels outside Matrix that reach paged people (SPEC §14): email over SMTP, pushes
//! through ntfy, and a signed webhook for SMS and voice gateways. Each is sent the same
//! [`message::PageNotice`]; [`Channels`] holds their clients and sends to a
//! [`crate::reach::Target`].

pub mod error;
mod http;
pub mod mail;
pub mod message;
pub mod ntfy;
pub mod webhook;

use matrix_sdk::ruma::ServerName;
use tracing::error;

use self::{error::ChannelError, mail::Mailer, message::PageNotice};
use crate::{config::NotifyConfig, reach::Target};

/// The clients of the configured channels.
#[derive(Debug)]
pub struct Channels {
    mailer: Option<Mailer>,
    http: Option<reqwest::Client>,
}

impl Channels {
    /// The clients for what `notify` configures. One that cannot be made is said once here,
    /// and each notification on its channel then fails saying so.
    pub fn new(notify: &NotifyConfig) -> Self {
        let mailer = notify.email.as_ref().and_then(|email| {
            mail::mailer(email)
                .inspect_err(|error| {
                    error!(%error, "notify.email.smtp cannot be used: no email notifications");
                })
                .ok()
        });
        let http = http::client()
            .inspect_err(|error| {
                error!(%error, "no HTTP client: no ntfy or webhook notifications");
            })
            .ok();
        Self { mailer, http }
    }

    /// Sends `notice` to `target` as `notify` says, from the bot of `server`, at `now_millis`.
    pub async fn send(
        &self,
        notify: &NotifyConfig,
        server: &ServerName,
        target: Target,
        notice: &PageNotice,
        now_millis: u64,
    ) -> Result<(), ChannelError> {
        match target {
            Target::Email(address) => {
                let email = notify
                    .email
                    .as_ref()
                    .ok_or(ChannelError::Unconfigured("email"))?;
                let mailer = self
                    .mailer
                    .as_ref()
                    .ok_or(ChannelError::Unusable("email"))?;
                mail::send(mailer, email, (address, server), notice).await
            }
            Target::Ntfy(topic) => {
                let ntfy = notify
                    .ntfy
                    .as_ref()
                    .ok_or(ChannelError::Unconfigured("ntfy"))?;
                let http = self.http.as_ref().ok_or(ChannelError::Unusable("ntfy"))?;
                ntfy::send(http, ntfy, &topic, notice).await
            }
            Target::Phone(phone) => {
                let hook = notify
                    .webhook
                    .as_ref()
                    .ok_or(ChannelError::Unconfigured("webhook"))?;
                let http = self
                    .http
                    .as_ref()
                    .ok_or(ChannelError::Unusable("webhook"))?;
                webhook::send(http, hook, &phone, notice, now_millis).await
            }
        }
    }
}
