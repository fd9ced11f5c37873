//! `[notify]`: how paged people are reached outside Matrix when an escalation level's page goes
//! unacknowledged (SPEC §14): email over SMTP, pushes through an ntfy server, a signed webhook
//! for an SMS or voice gateway, and where each person is reached on each.

use std::path::PathBuf;

use brigade_core::{record::Channel, secret::Secret};
use lettre::{message::Mailbox, Address};
use matrix_sdk::ruma::{OwnedUserId, UserId};
use serde::Deserialize;
use url::Url;

use super::error::ConfigError;
use crate::reach;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotify {
    email: Option<RawEmail>,
    ntfy: Option<RawNtfy>,
    webhook: Option<RawWebhook>,
    #[serde(default)]
    people: Vec<RawPerson>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNtfy {
    url: Url,
    token_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    url: Url,
    secret_file: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmail {
    smtp: Url,
    from: String,
    username: Option<String>,
    password_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPerson {
    user: OwnedUserId,
    email: Option<String>,
    ntfy: Option<String>,
    phone: Option<String>,
}

/// How the bot sends email.
#[derive(Debug, Clone)]
pub struct EmailConfig {
    /// The SMTP server: `smtp://host:port` (plain, for a relay on loopback),
    /// `smtp://host:587?tls=required` (STARTTLS) or `smtps://host:465` (TLS).
    pub smtp: Url,
    /// The sender.
    pub from: Mailbox,
    /// The SMTP login, if the server wants one.
    pub credentials: Option<(String, Secret)>,
}

/// The ntfy server the bot pushes to.
#[derive(Debug, Clone)]
pub struct NtfyConfig {
    /// Its base URL: every topic is under it.
    pub url: Url,
    /// The access token sent as `Authorization: Bearer`, if the server wants one.
    pub token: Option<Secret>,
}

/// The webhook of an SMS or voice gateway, signed as Standard Webhooks says.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Where each notification is posted.
    pub url: Url,
    /// The signing secret, `whsec_` and its base64.
    pub secret: Secret,
}

/// How one person is reached outside Matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Their Matrix ID.
    pub user: OwnedUserId,
    /// Their email address.
    pub email: Option<Address>,
    /// Their ntfy topic's name, on `[notify.ntfy]`'s server.
    pub ntfy: Option<String>,
    /// Their phone number (E.164), for `[notify.webhook]`'s gateway.
    pub phone: Option<String>,
}

/// `[notify]`.
#[derive(Debug, Clone, Default)]
pub struct NotifyConfig {
    /// Email over SMTP, when configured.
    pub email: Option<EmailConfig>,
    /// Pushes through ntfy, when configured.
    pub ntfy: Option<NtfyConfig>,
    /// The SMS or voice gateway's webhook, when configured.
    pub webhook: Option<WebhookConfig>,
    /// Each person's channels.
    pub people: Vec<Person>,
}

impl NotifyConfig {
    /// How `user` is reached, if the configuration says.
    pub fn person(&self, user: &UserId) -> Option<&Person> {
        self.people.iter().find(|person| person.user == user)
    }

    /// Whether any channel outside Matrix is configured.
    pub fn any(&self) -> bool {
        Channel::ALL
            .into_iter()
            .any(|channel| self.configures(channel))
    }

    /// Whether `channel` is configured.
    pub fn configures(&self, channel: Channel) -> bool {
        match channel {
            Channel::Email => self.email.is_some(),
            Channel::Ntfy => self.ntfy.is_some(),
            Channel::Phone => self.webhook.is_some(),
        }
    }
}

fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Notify {
        key,
        reason: reason.into(),
    }
}

/// The secret in the file at `path`, for `key`.
fn secret_file(key: &'static str, path: &std::path::Path) -> Result<Secret, ConfigError> {
    match Secret::from_file(path) {
        Ok(Some(secret)) => Ok(secret),
        Ok(None) => Err(invalid(key, format!("{} is empty", path.display()))),
        Err(error) => Err(invalid(
            key,
            format!("cannot read {}: {error}", path.display()),
        )),
    }
}

/// A URL the bot posts to: http or https, with a host and no login in it.
fn http_url(key: &'static str, url: &Url) -> Result<(), ConfigError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(
            key,
            format!("`{}` is not an http:// or https:// URL", url.scheme()),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid(key, "names no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            key,
            "holds a login: put the secret in a file (`token_file`, `secret_file`) instead",
        ));
    }
    Ok(())
}

/// Refuses `person`'s address for `channel` when its section is not configured.
fn unconfigured(user: &OwnedUserId, channel: &str, section: &str) -> ConfigError {
    invalid(
        "people",
        format!("{user} has {channel}, but [notify.{section}] is not set: the bot would have nothing to send it through"),
    )
}

impl RawNotify {
    pub(super) fn validate(self) -> Result<NotifyConfig, ConfigError> {
        let email = self.email.map(RawEmail::validate).transpose()?;
        let ntfy = self.ntfy.map(RawNtfy::validate).transpose()?;
        let webhook = self.webhook.map(RawWebhook::validate).transpose()?;
        let mut people: Vec<Person> = Vec::with_capacity(self.people.len());
        for person in self.people {
            let user = person.user;
            if people.iter().any(|known| known.user == user) {
                return Err(invalid("people", format!("{user} is listed twice")));
            }
            let address = match person.email {
                Some(text) => {
                    let address = text.parse::<Address>().map_err(|error| {
                        invalid(
                            "people",
                            format!("{user}: `{text}` is not an email address: {error}"),
                        )
                    })?;
                    if email.is_none() {
                        return Err(unconfigured(&user, "an email address", "email"));
                    }
                    Some(address)
                }
                None => None,
            };
            let topic = match (person.ntfy, &ntfy) {
                (Some(text), Some(server)) => Some(
                    reach::ntfy_topic(&server.url, &text)
                        .map_err(|reason| invalid("people", format!("{user}: {reason}")))?,
                ),
                (Some(_), None) => return Err(unconfigured(&user, "an ntfy topic", "ntfy")),
                (None, _) => None,
            };
            let phone = match person.phone {
                Some(text) if webhook.is_some() => Some(
                    reach::phone(&text)
                        .map_err(|reason| invalid("people", format!("{user}: {reason}")))?,
                ),
                Some(_) => return Err(unconfigured(&user, "a phone number", "webhook")),
                None => None,
            };
            people.push(Person {
                user,
                email: address,
                ntfy: topic,
                phone,
            });
        }
        Ok(NotifyConfig {
            email,
            ntfy,
            webhook,
            people,
        })
    }
}

impl RawNtfy {
    fn validate(self) -> Result<NtfyConfig, ConfigError> {
        http_url("ntfy.url", &self.url)?;
        if self.url.query().is_some() || self.url.fragment().is_some() {
            return Err(invalid(
                "ntfy.url",
                "is the server's address: no `?` or `#` part",
            ));
        }
        let token = self
            .token_file
            .map(|path| secret_file("ntfy.token_file", &path))
            .transpose()?;
        Ok(NtfyConfig {
            url: self.url,
            token,
        })
    }
}

impl RawWebhook {
    fn validate(self) -> Result<WebhookConfig, ConfigError> {
        http_url("webhook.url", &self.url)?;
        let secret = secret_file("webhook.secret_file", &self.secret_file)?;
        let encoded = secret.expose().strip_prefix("whsec_").unwrap_or_default();
        if base64::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded)
            .map_or(true, |key| key.len() < 24)
        {
            return Err(invalid(
                "webhook.secret_file",
                format!(
                    "{} does not hold a Standard Webhooks secret: `whsec_` and the base64 of at least 24 random bytes (`echo whsec_$(openssl rand -base64 32)`)",
                    self.secret_file.display()
                ),
            ));
        }
        Ok(WebhookConfig {
            url: self.url,
            secret,
        })
    }
}

impl RawEmail {
    fn validate(self) -> Result<EmailConfig, ConfigError> {
        if !matches!(self.smtp.scheme(), "smtp" | "smtps") {
            return Err(invalid(
                "email.smtp",
                format!("`{}` is not an smtp:// or smtps:// URL", self.smtp.scheme()),
            ));
        }
        if self.smtp.host_str().is_none_or(str::is_empty) {
            return Err(invalid("email.smtp", "names no host"));
        }
        if !self.smtp.username().is_empty() || self.smtp.password().is_some() {
            return Err(invalid(
                "email.smtp",
                "holds a login: set `username` and `password_file` instead, so the password stays out of the configuration",
            ));
        }
        let from = self.from.parse::<Mailbox>().map_err(|error| {
            invalid(
                "email.from",
                format!(
                    "`{}` is not a mailbox (`Brigade <brigade@example.org>`): {error}",
                    self.from
                ),
            )
        })?;
        let credentials = match (self.username, self.password_file) {
            (Some(username), Some(path)) => {
                Some((username, secret_file("email.password_file", &path)?))
            }
            (None, None) => None,
            _ => {
                return Err(invalid(
                    "email.username",
                    "set both `username` and `password_file`, or neither",
                ))
            }
        };
        Ok(EmailConfig {
            smtp: self.smtp,
            from,
            credentials,
        })
    }
}
