//! `[tickets]` and `[[trackers]]` (SPEC §16): the trackers follow-ups become tickets in, whose
//! follow-ups the bridge believes (the bot's), and each incident type's default tracker.

use std::{collections::BTreeMap, path::PathBuf};

use brigade_core::secret::Secret;
use ruma::{OwnedUserId, ServerName};
use serde::Deserialize;
use url::Url;

use super::error::{secret, value, ConfigError};

/// `[tickets]` with its trackers.
#[derive(Debug, Clone, Default)]
pub struct TicketsConfig {
    /// The bot whose follow-ups are believed, and whose invitations to incident rooms the
    /// bridge takes; none: no tickets.
    pub bot: Option<OwnedUserId>,
    /// Each incident type's tracker, when the follow-up names none.
    pub defaults: BTreeMap<String, String>,
    /// The trackers, by name.
    pub trackers: Vec<Tracker>,
}

impl TicketsConfig {
    /// The tracker named `name`.
    pub fn tracker(&self, name: &str) -> Option<&Tracker> {
        self.trackers.iter().find(|tracker| tracker.name == name)
    }

    /// The trackers' names, for a refusal that names them.
    pub fn names(&self) -> String {
        let names: Vec<&str> = self.trackers.iter().map(|t| t.name.as_str()).collect();
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    }
}

/// What kind of tracker: whose API it speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrackerKind {
    /// GitHub, or GitHub Enterprise Server by its API's base URL.
    Github,
}

impl TrackerKind {
    /// Its name, as people read it.
    pub fn display(self) -> &'static str {
        match self {
            Self::Github => "GitHub",
        }
    }
}

/// One `[[trackers]]` table.
#[derive(Debug, Clone)]
pub struct Tracker {
    /// What `--ticket` names it by: `[a-z0-9_-]+`.
    pub name: String,
    /// Whose API it speaks.
    pub kind: TrackerKind,
    /// The API's base URL: `https://api.github.com/` unless set (GitHub Enterprise Server:
    /// `https://github.example.com/api/v3/`).
    pub url: Url,
    /// Where tickets go: `owner/repository` on GitHub.
    pub repository: String,
    /// The API token (a fine-grained token with issues read and write).
    pub token: Secret,
    /// Labels every ticket gets.
    pub labels: Vec<String>,
    /// Matrix users' accounts in the tracker, for the ticket's assignee.
    pub assignees: BTreeMap<OwnedUserId, String>,
    /// The secret the tracker signs its webhooks with (`POST /tickets/<name>`); none: the
    /// tracker's changes are not taken.
    pub webhook_secret: Option<Secret>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTickets {
    bot: Option<OwnedUserId>,
    #[serde(default)]
    defaults: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTracker {
    name: String,
    kind: TrackerKind,
    url: Option<Url>,
    repository: String,
    token: Option<Secret>,
    token_file: Option<PathBuf>,
    #[serde(default)]
    labels: Vec<String>,
    #[serde(default)]
    assignees: BTreeMap<OwnedUserId, String>,
    webhook_secret: Option<Secret>,
    webhook_secret_file: Option<PathBuf>,
}

/// The default API of GitHub.
const GITHUB_API: &str = "https://api.github.com/";

impl RawTickets {
    /// `[tickets]` and the trackers of a bridge on `server`.
    pub(super) fn validate(
        self,
        raw_trackers: Vec<RawTracker>,
        server: &ServerName,
    ) -> Result<TicketsConfig, ConfigError> {
        let mut trackers: Vec<Tracker> = Vec::with_capacity(raw_trackers.len());
        for (index, raw) in raw_trackers.into_iter().enumerate() {
            let tracker = raw.validate(index)?;
            if trackers.iter().any(|earlier| earlier.name == tracker.name) {
                return Err(value(
                    format!("trackers[{index}].name"),
                    format!("a second tracker named `{}`", tracker.name),
                ));
            }
            trackers.push(tracker);
        }
        if let Some(bot) = &self.bot {
            if bot.server_name() != server {
                return Err(value(
                    "tickets.bot",
                    format!("{bot} is not on {server}: the bot and the bridge share a homeserver"),
                ));
            }
        } else if !trackers.is_empty() {
            return Err(value(
                "tickets.bot",
                "set it to the bot's user: only its follow-ups become tickets",
            ));
        }
        for (kind, tracker) in &self.defaults {
            if !trackers.iter().any(|known| &known.name == tracker) {
                return Err(value(
                    format!("tickets.defaults.{kind}"),
                    format!("no tracker is named `{tracker}`"),
                ));
            }
        }
        Ok(TicketsConfig {
            bot: self.bot,
            defaults: self.defaults,
            trackers,
        })
    }
}

impl RawTracker {
    fn validate(self, index: usize) -> Result<Tracker, ConfigError> {
        let key = |name: &str| format!("trackers[{index}].{name}");
        if !brigade_core::events::is_tracker_name(&self.name) {
            return Err(value(
                key("name"),
                format!(
                    "`{}` is not a name `--ticket` can give: lower-case letters, digits, `-` and `_`, not `none`",
                    self.name
                ),
            ));
        }
        let mut url = match self.url {
            Some(url) => url,
            None => Url::parse(GITHUB_API).map_err(|error| value(key("url"), error.to_string()))?,
        };
        if !matches!(url.scheme(), "https" | "http") || url.cannot_be_a_base() {
            return Err(value(key("url"), format!("`{url}` is not an http(s) URL")));
        }
        let loopback = match url.host() {
            Some(url::Host::Ipv4(address)) => address.is_loopback(),
            Some(url::Host::Ipv6(address)) => address.is_loopback(),
            Some(url::Host::Domain(name)) => name == "localhost",
            None => false,
        };
        if url.scheme() == "http" && !loopback {
            return Err(value(
                key("url"),
                format!(
                    "`{url}` is plain http: the token would cross the network in clear; use https"
                ),
            ));
        }
        if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
            return Err(value(
                key("url"),
                "takes no query or credentials: the token goes in `token` or `token_file`",
            ));
        }
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        let parts: Vec<&str> = self.repository.split('/').collect();
        let repository_named = parts.len() == 2
            && parts.iter().all(|part| {
                !part.is_empty()
                    && *part != "."
                    && *part != ".."
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            });
        if !repository_named {
            return Err(value(
                key("repository"),
                format!("`{}` is not `owner/repository`", self.repository),
            ));
        }
        let token = secret(&key("token"), self.token, self.token_file)?;
        let webhook_secret = match (self.webhook_secret, self.webhook_secret_file) {
            (None, None) => None,
            (inline, file) => Some(secret(&key("webhook_secret"), inline, file)?),
        };
        if let Some(label) = self.labels.iter().find(|label| label.trim().is_empty()) {
            return Err(value(key("labels"), format!("`{label}` is an empty label")));
        }
        Ok(Tracker {
            name: self.name,
            kind: self.kind,
            url,
            repository: self.repository,
            token,
            labels: self.labels,
            assignees: self.assignees,
            webhook_secret,
        })
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail closures return figment's own error
mod tests {
    use figment::Jail;

    use crate::{config::Config, testing::MINIMAL};

    const TRACKER: &str = "[[trackers]]\nname = \"github\"\nkind = \"github\"\nrepository = \"acme/app\"\ntoken = \"t\"\n";

    fn load(extra: &str) -> Result<Config, String> {
        let mut loaded = Err(String::new());
        Jail::expect_with(|jail| {
            jail.create_file("bridge.toml", &format!("{MINIMAL}\n{extra}"))?;
            loaded = Config::load(std::path::Path::new("bridge.toml")).map_err(|e| e.to_string());
            Ok(())
        });
        loaded
    }

    #[test]
    fn a_tracker_with_its_defaults() {
        let config = load(&format!(
            "[tickets]\nbot = \"@brigade:example.org\"\n[tickets.defaults]\noperations = \"github\"\n{TRACKER}"
        ))
        .expect("valid");
        let tracker = config.tickets.tracker("github").expect("the tracker");
        assert_eq!(tracker.url.as_str(), "https://api.github.com/");
        assert_eq!(tracker.webhook_secret, None);
        assert_eq!(config.tickets.defaults["operations"], "github");
        assert!(!format!("{config:?}").contains("token = \"t\""));
    }

    #[test]
    fn unusable_trackers_are_named() {
        let bot = "[tickets]\nbot = \"@brigade:example.org\"\n";
        let cases = [
            (TRACKER.to_owned(), "tickets.bot: set it to the bot's user"),
            (
                format!("[tickets]\nbot = \"@brigade:elsewhere.org\"\n{TRACKER}"),
                "tickets.bot: @brigade:elsewhere.org is not on example.org",
            ),
            (
                format!(
                    "{bot}{}",
                    TRACKER.replace("\"github\"\nkind", "\"Git Hub\"\nkind")
                ),
                "trackers[0].name: `Git Hub` is not a name",
            ),
            (
                format!(
                    "{bot}{}",
                    TRACKER.replace("\"github\"\nkind", "\"none\"\nkind")
                ),
                "trackers[0].name: `none` is not a name",
            ),
            (
                format!("{bot}{TRACKER}{TRACKER}"),
                "trackers[1].name: a second tracker named `github`",
            ),
            (
                format!("{bot}{}", TRACKER.replace("acme/app", "acme")),
                "trackers[0].repository: `acme` is not `owner/repository`",
            ),
            (
                format!("{bot}{}", TRACKER.replace("acme/app", "acme/../x")),
                "trackers[0].repository: `acme/../x` is not",
            ),
            (
                format!("{bot}{}", TRACKER.replace("token = \"t\"\n", "")),
                "trackers[0].token: give either",
            ),
            (
                format!("{bot}{TRACKER}url = \"http://github.example.com/api/v3\"\n"),
                "trackers[0].url: `http://github.example.com/api/v3` is plain http",
            ),
            (
                format!("{bot}{TRACKER}url = \"https://user:pw@github.example.com/\"\n"),
                "trackers[0].url: takes no query or credentials",
            ),
            (format!("{bot}{TRACKER}kind = \"jira\"\n"), "duplicate key"),
            (
                TRACKER.replace("kind = \"github\"", "kind = \"jira\""),
                "unknown variant: found `jira`",
            ),
            (
                format!("{bot}[tickets.defaults]\nsecurity = \"gitlab\"\n{TRACKER}"),
                "tickets.defaults.security: no tracker is named `gitlab`",
            ),
        ];
        for (extra, expected) in cases {
            let error = load(&extra).expect_err(&extra);
            assert!(error.contains(expected), "{extra}\n→ {error}");
        }
        let loopback = load(&format!("{bot}{TRACKER}url = \"http://127.0.0.1:8080\"\n"));
        assert!(loopback.is_ok(), "plain http on this machine: {loopback:?}");
    }
}
