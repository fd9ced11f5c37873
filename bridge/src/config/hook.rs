//! `[[hooks]]`: the routes alerts come in by, each checked on its own and against the routes
//! before it.

use std::path::PathBuf;

use brigade_core::{incident::Severity, secret::Secret};
use ruma::{OwnedRoomOrAliasId, OwnedUserId, RoomAliasId, ServerName};
use serde::Deserialize;
use url::Url;

use super::error::{secret, value, ConfigError};
use crate::alert::Source;

/// A route: `POST /hooks/<source>/<name>`.
#[derive(Debug, Clone)]
pub struct Hook {
    /// The route's name.
    pub name: String,
    /// What sends to it.
    pub source: Source,
    /// The room alerts go to (created, when an alias on our server that does not exist yet).
    pub room: OwnedRoomOrAliasId,
    /// The bearer token, or the signing key.
    pub secret: Secret,
    /// Who is invited when the bridge creates the room.
    pub invite: Vec<OwnedUserId>,
    /// Alerts at or above this severity ask the bot to declare an incident.
    pub auto_declare: Option<Severity>,
    /// Whom the bot pages for an incident it declares for this route's alerts, in `!inc page`
    /// words: its `escalation` policy, or `oncall:<team>`.
    pub page: Option<String>,
    /// The Alertmanager that sends to this route, whose API silences its alerts from chat
    /// (`!inc silence`); Alertmanager routes only.
    pub alertmanager: Option<Url>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHook {
    name: String,
    source: Source,
    room: OwnedRoomOrAliasId,
    secret: Option<Secret>,
    secret_file: Option<PathBuf>,
    #[serde(default)]
    invite: Vec<OwnedUserId>,
    auto_declare: Option<String>,
    escalation: Option<String>,
    oncall: Option<String>,
    alertmanager_url: Option<Url>,
}

impl RawHook {
    /// The route `index` of a bridge on `server`, after the `earlier` ones.
    pub(super) fn validate(
        self,
        index: usize,
        server: &ServerName,
        earlier: &[Hook],
    ) -> Result<Hook, ConfigError> {
        let key = format!("hooks[{index}]");
        let usable = !self.name.is_empty()
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !usable {
            return Err(value(
                format!("{key}.name"),
                format!("`{}`: use letters, digits, - and _", self.name),
            ));
        }
        if earlier
            .iter()
            .any(|hook| hook.source == self.source && hook.name == self.name)
        {
            return Err(value(
                format!("{key}.name"),
                format!("a second {} route named `{}`", self.source, self.name),
            ));
        }
        if let Ok(alias) = <&RoomAliasId>::try_from(&*self.room) {
            if alias.server_name() != server {
                return Err(value(
                    format!("{key}.room"),
                    format!("{alias} is not on {server}: give its room ID, or an alias of ours"),
                ));
            }
        }
        let auto_declare = match self.auto_declare {
            None => None,
            Some(text) => Some(
                text.parse::<Severity>()
                    .map_err(|error| value(format!("{key}.auto_declare"), error.to_string()))?,
            ),
        };
        let page = page(&key, self.escalation, self.oncall, auto_declare.is_some())?;
        let alertmanager = match self.alertmanager_url {
            Some(_) if self.source != Source::Alertmanager => {
                return Err(value(
                    format!("{key}.alertmanager_url"),
                    format!(
                        "only an alertmanager route silences, not a {} one",
                        self.source
                    ),
                ))
            }
            Some(url) if !matches!(url.scheme(), "http" | "https") => {
                return Err(value(
                    format!("{key}.alertmanager_url"),
                    format!("`{url}` is not an http(s) URL"),
                ))
            }
            // Joined with `api/v2/…`: a path without its slash would lose its last part.
            Some(mut url) => {
                if !url.path().ends_with('/') {
                    url.set_path(&format!("{}/", url.path()));
                }
                Some(url)
            }
            None => None,
        };
        let secret = secret(&format!("{key}.secret"), self.secret, self.secret_file)?;
        Ok(Hook {
            name: self.name,
            source: self.source,
            room: self.room,
            secret,
            invite: self.invite,
            auto_declare,
            page,
            alertmanager,
        })
    }
}

/// What hook `key` has the bot page (`!inc page` words) from its `escalation` policy or its
/// `oncall` team: the names are the bot's to check, their shape is checked here.
fn page(
    key: &str,
    escalation: Option<String>,
    oncall: Option<String>,
    declares: bool,
) -> Result<Option<String>, ConfigError> {
    let (field, page) = match (escalation, oncall) {
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => {
            return Err(value(
                format!("{key}.escalation"),
                "give `escalation` or `oncall`, not both",
            ))
        }
        (Some(policy), None) => ("escalation", policy),
        (None, Some(team)) => ("oncall", format!("oncall:{team}")),
    };
    let name = page.strip_prefix("oncall:").unwrap_or(&page);
    if name.is_empty() || name.contains(':') || name.chars().any(|c| c.is_whitespace() || c == ',')
    {
        return Err(value(
            format!("{key}.{field}"),
            format!("`{name}` is not a name of the bot's configuration"),
        ));
    }
    if !declares {
        return Err(value(
            format!("{key}.{field}"),
            "it pages for the incident the bot declares: set `auto_declare` too",
        ));
    }
    Ok(Some(page))
}
