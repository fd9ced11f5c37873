//! `[notify]`: how paged people are reached outside Matrix when an escalation level's page goes
//! unacknowledged (SPEC §14): email over SMTP, and each person's address.

use std::path::PathBuf;

use brigade_core::secret::Secret;
use lettre::{message::Mailbox, Address};
use matrix_sdk::ruma::OwnedUserId;
use serde::Deserialize;
use url::Url;

use super::error::ConfigError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotify {
    email: Option<RawEmail>,
    #[serde(default)]
    people: Vec<RawPerson>,
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

/// How one person is reached outside Matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Their Matrix ID.
    pub user: OwnedUserId,
    /// Their email address.
    pub email: Option<Address>,
}

/// `[notify]`.
#[derive(Debug, Clone, Default)]
pub struct NotifyConfig {
    /// Email over SMTP, when configured.
    pub email: Option<EmailConfig>,
    /// Each person's channels.
    pub people: Vec<Person>,
}

impl NotifyConfig {
    /// How `user` is reached, if the configuration says.
    pub fn person(&self, user: &OwnedUserId) -> Option<&Person> {
        self.people.iter().find(|person| &person.user == user)
    }
}

fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Notify {
        key,
        reason: reason.into(),
    }
}

impl RawNotify {
    pub(super) fn validate(self) -> Result<NotifyConfig, ConfigError> {
        let email = match self.email {
            Some(email) => Some(email.validate()?),
            None => None,
        };
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
                        return Err(invalid(
                            "people",
                            format!("{user} has an email address, but [notify.email] is not set: the bot would have no server to send it through"),
                        ));
                    }
                    Some(address)
                }
                None => None,
            };
            people.push(Person {
                user,
                email: address,
            });
        }
        Ok(NotifyConfig { email, people })
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
                let password = match Secret::from_file(&path) {
                    Ok(Some(password)) => password,
                    Ok(None) => {
                        return Err(invalid(
                            "email.password_file",
                            format!("{} is empty", path.display()),
                        ))
                    }
                    Err(error) => {
                        return Err(invalid(
                            "email.password_file",
                            format!("cannot read {}: {error}", path.display()),
                        ))
                    }
                };
                Some((username, password))
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
