//! `bridge.toml` (SPEC §12): the homeserver, the application service, the store and the
//! webhook routes. Environment variables override keys as `BRIGADE_BRIDGE_<SECTION>__<KEY>`;
//! secrets may come from files; unknown keys are refused with their name.

use std::{net::SocketAddr, path::PathBuf};

use brigade_core::{incident::Severity, secret::Secret};
use figment::{
    providers::{Env, Format, Toml},
    Figment,
};
use ruma::OwnedServerName;
use serde::Deserialize;
use url::Url;

use crate::alert::Source;

mod error;
mod hook;
mod tickets;

pub use error::ConfigError;
pub use hook::Hook;
pub use tickets::{TicketsConfig, Tracker, TrackerKind};

use error::{secret, value};

/// Environment variables that override keys start with this, section and key separated by a
/// double underscore: `BRIGADE_BRIDGE_APPSERVICE__HS_TOKEN`.
pub const ENV_PREFIX: &str = "BRIGADE_BRIDGE_";
const ENV_SEPARATOR: &str = "__";
/// Webhook bodies above this are refused (413).
const DEFAULT_MAX_BODY: usize = 1024 * 1024;
/// New alert messages a room gets within a minute before further alerts are summarised.
const DEFAULT_BURST_AFTER: usize = 10;

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The homeserver the bridge is registered with.
    pub homeserver: HomeserverConfig,
    /// The application service's identity and HTTP listener.
    pub appservice: AppserviceConfig,
    /// Where the outbox is kept.
    pub storage: StorageConfig,
    /// Webhook limits.
    pub webhooks: WebhooksConfig,
    /// The routes alerts come in by.
    pub hooks: Vec<Hook>,
    /// The trackers follow-ups become tickets in.
    pub tickets: TicketsConfig,
}

/// `[homeserver]`
#[derive(Debug, Clone)]
pub struct HomeserverConfig {
    /// Its client-server API.
    pub url: Url,
    /// Its server name, the part after `:` in user IDs.
    pub server_name: OwnedServerName,
}

/// `[appservice]`
#[derive(Debug, Clone)]
pub struct AppserviceConfig {
    /// The registration's ID.
    pub id: String,
    /// Where the bridge listens: appservice API, webhooks, `/metrics`, `/healthz`.
    pub listen: SocketAddr,
    /// How the homeserver reaches the bridge.
    pub url: Url,
    /// What the bridge presents to the homeserver.
    pub as_token: Secret,
    /// What the homeserver presents to the bridge.
    pub hs_token: Secret,
    /// The bridge's own user: `alert_bridge` unless configured.
    pub sender_localpart: String,
}

/// `[storage]`
#[derive(Debug, Clone)]
pub struct StorageConfig {
    /// The bridge's directory (its sled database).
    pub path: PathBuf,
}

/// `[webhooks]`
#[derive(Debug, Clone, Copy)]
pub struct WebhooksConfig {
    /// The largest body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How many alerts a room gets a message each for within a minute; alerts beyond are
    /// summarised in one burst message, edited as they come.
    pub burst_after: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    homeserver: RawHomeserver,
    appservice: RawAppservice,
    storage: RawStorage,
    #[serde(default)]
    webhooks: RawWebhooks,
    #[serde(default)]
    hooks: Vec<hook::RawHook>,
    #[serde(default)]
    tickets: tickets::RawTickets,
    #[serde(default)]
    trackers: Vec<tickets::RawTracker>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHomeserver {
    url: Url,
    server_name: OwnedServerName,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAppservice {
    id: String,
    listen: SocketAddr,
    url: Url,
    as_token: Option<Secret>,
    as_token_file: Option<PathBuf>,
    hs_token: Option<Secret>,
    hs_token_file: Option<PathBuf>,
    sender_localpart: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    path: PathBuf,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhooks {
    max_body_bytes: Option<usize>,
    burst_after: Option<usize>,
}

impl Config {
    /// Reads `path`, applies `BRIGADE_BRIDGE_…` environment overrides and validates the result.
    pub fn load(path: &std::path::Path) -> Result<Self, ConfigError> {
        let figment = Figment::new().merge(Toml::file_exact(path)).merge(
            Env::prefixed(ENV_PREFIX)
                .filter(|key| key.as_str().contains(ENV_SEPARATOR))
                .split(ENV_SEPARATOR),
        );
        Self::from_figment(&figment)
    }

    /// Validates configuration gathered by `figment`.
    pub fn from_figment(figment: &Figment) -> Result<Self, ConfigError> {
        let raw: RawConfig = figment.extract().map_err(Box::new)?;
        raw.validate()
    }

    /// Whether an alert of `severity` on `source`'s route `route` asks the bot to declare: its
    /// route has a threshold and it is at or above.
    pub fn declares(&self, source: Source, route: &str, severity: Option<Severity>) -> bool {
        self.hook(source, route)
            .and_then(|hook| hook.auto_declare)
            .zip(severity)
            .is_some_and(|(threshold, severity)| severity <= threshold)
    }

    /// What an alert of `severity` on `source`'s route `route` asks of the bot: none, or a
    /// declaration, with whom to page for it (`!inc page` words) when its route says.
    pub fn asks(
        &self,
        source: Source,
        route: &str,
        severity: Option<Severity>,
    ) -> Option<Option<&str>> {
        self.declares(source, route, severity).then(|| {
            self.hook(source, route)
                .and_then(|hook| hook.page.as_deref())
        })
    }

    /// The hook at `POST /hooks/<source>/<name>`.
    pub fn hook(&self, source: Source, name: &str) -> Option<&Hook> {
        self.hooks
            .iter()
            .find(|hook| hook.source == source && hook.name == name)
    }
}

impl RawConfig {
    fn validate(self) -> Result<Config, ConfigError> {
        let server = self.homeserver.server_name;
        let service = self.appservice;
        if service.id.trim().is_empty() {
            return Err(value("appservice.id", "is empty"));
        }
        let as_token = secret(
            "appservice.as_token",
            service.as_token,
            service.as_token_file,
        )?;
        let hs_token = secret(
            "appservice.hs_token",
            service.hs_token,
            service.hs_token_file,
        )?;
        if as_token == hs_token {
            return Err(value(
                "appservice.hs_token",
                "must differ from as_token: each side proves itself to the other",
            ));
        }
        let sender_localpart = service
            .sender_localpart
            .unwrap_or_else(|| "alert_bridge".to_owned());
        if !sender_localpart.starts_with(brigade_core::events::VIRTUAL_USER_PREFIX)
            || ruma::UserId::parse(format!("@{sender_localpart}:{server}")).is_err()
        {
            return Err(value(
                "appservice.sender_localpart",
                format!(
                    "`{sender_localpart}` must be a user localpart starting with `{}`",
                    brigade_core::events::VIRTUAL_USER_PREFIX
                ),
            ));
        }
        let max_body_bytes = self.webhooks.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY);
        if max_body_bytes == 0 {
            return Err(value("webhooks.max_body_bytes", "must be above 0"));
        }
        let burst_after = self.webhooks.burst_after.unwrap_or(DEFAULT_BURST_AFTER);
        let mut hooks: Vec<Hook> = Vec::with_capacity(self.hooks.len());
        for (index, raw) in self.hooks.into_iter().enumerate() {
            let hook = raw.validate(index, &server, &hooks)?;
            hooks.push(hook);
        }
        let tickets = self.tickets.validate(self.trackers, &server)?;
        Ok(Config {
            homeserver: HomeserverConfig {
                url: self.homeserver.url,
                server_name: server,
            },
            appservice: AppserviceConfig {
                id: service.id,
                listen: service.listen,
                url: service.url,
                as_token,
                hs_token,
                sender_localpart,
            },
            storage: StorageConfig {
                path: self.storage.path,
            },
            webhooks: WebhooksConfig {
                max_body_bytes,
                burst_after,
            },
            hooks,
            tickets,
        })
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail closures return figment's own error
mod tests {
    use figment::Jail;

    use super::*;

    use crate::testing::MINIMAL;

    fn load(jail: &mut Jail, text: &str) -> Result<Config, ConfigError> {
        jail.create_file("bridge.toml", text).map_err(Box::new)?;
        Config::load(std::path::Path::new("bridge.toml"))
    }

    #[test]
    fn a_route_with_its_defaults() {
        Jail::expect_with(|jail| {
            let config = load(
                jail,
                &format!("{MINIMAL}\n[[hooks]]\nname = \"prod\"\nsource = \"alertmanager\"\nroom = \"#alerts:example.org\"\nsecret = \"s\"\nauto_declare = \"SEV1\"\n"),
            )
            .expect("valid");
            let hook = config
                .hook(Source::Alertmanager, "prod")
                .expect("the route");
            assert_eq!(hook.auto_declare, Some(Severity::Sev1));
            assert_eq!(hook.page, None);
            assert_eq!(hook.alertmanager, None);
            assert_eq!(config.webhooks.max_body_bytes, 1024 * 1024);
            assert_eq!(config.appservice.sender_localpart, "alert_bridge");
            assert!(
                !format!("{config:?}").contains("hs-secret"),
                "secrets stay out of Debug"
            );
            Ok(())
        });
    }

    #[test]
    fn a_route_pages_its_escalation_or_its_teams_on_call_for_what_it_declares() {
        let hook = "[[hooks]]\nsource = \"alertmanager\"\nroom = \"#alerts:example.org\"\nsecret = \"s\"\nauto_declare = \"SEV2\"\n";
        Jail::expect_with(|jail| {
            let config = load(
                jail,
                &format!("{MINIMAL}\n{hook}name = \"db\"\nescalation = \"dba\"\nalertmanager_url = \"http://127.0.0.1:9093/am\"\n{hook}name = \"web\"\noncall = \"web\"\n"),
            )
            .expect("valid");
            let asks = |route, severity| config.asks(Source::Alertmanager, route, Some(severity));
            assert_eq!(asks("db", Severity::Sev1), Some(Some("dba")));
            assert_eq!(asks("web", Severity::Sev2), Some(Some("oncall:web")));
            assert_eq!(asks("web", Severity::Sev3), None, "below the threshold");
            let silencing = config
                .hook(Source::Alertmanager, "db")
                .and_then(|hook| hook.alertmanager.as_ref());
            assert_eq!(
                silencing.map(|url| url.join("api/v2/silences").expect("joined").to_string()),
                Some("http://127.0.0.1:9093/am/api/v2/silences".to_owned())
            );
            Ok(())
        });
    }

    #[test]
    fn unusable_settings_are_named() {
        let hook = "[[hooks]]\nsource = \"alertmanager\"\nroom = \"#alerts:example.org\"\n";
        let cases = [
            (format!("{hook}name = \"a b\"\nsecret = \"s\""), "hooks[0].name: `a b`"),
            (format!("{hook}name = \"p\""), "hooks[0].secret: give either"),
            (format!("{hook}name = \"p\"\nsecret = \"s\"\nauto_declare = \"SEV9\""), "hooks[0].auto_declare: unknown severity"),
            ("[[hooks]]\nname = \"p\"\nsource = \"nagios\"\nroom = \"#a:example.org\"\nsecret = \"s\"".to_owned(), "unknown variant: found `nagios`"),
            ("[[hooks]]\nname = \"p\"\nsource = \"generic\"\nroom = \"#a:elsewhere.org\"\nsecret = \"s\"".to_owned(), "hooks[0].room: #a:elsewhere.org is not on example.org"),
            (format!("{hook}name = \"p\"\nsecret = \"s\"\nbogus = 1"), "unknown field: found `bogus`"),
            (format!("{hook}name = \"p\"\nsecret = \"s\"\n{hook}name = \"p\"\nsecret = \"t\""), "hooks[1].name: a second alertmanager route named `p`"),
            ("[[hooks]]\nname = \"p\"\nsource = \"grafana\"\nroom = \"#a:example.org\"\nsecret = \"s\"\nalertmanager_url = \"http://am:9093\"".to_owned(), "hooks[0].alertmanager_url: only an alertmanager route silences, not a grafana one"),
            (format!("{hook}name = \"p\"\nsecret = \"s\"\nalertmanager_url = \"ftp://am\""), "hooks[0].alertmanager_url: `ftp://am/` is not"),
            (format!("{hook}name = \"p\"\nsecret = \"s\"\nescalation = \"db\""), "hooks[0].escalation: it pages for the incident the bot declares: set `auto_declare` too"),
            (format!("{hook}name = \"p\"\nsecret = \"s\"\nauto_declare = \"SEV1\"\noncall = \"d b\""), "hooks[0].oncall: `d b` is not a name"),
            (format!("{hook}name = \"p\"\nsecret = \"s\"\nauto_declare = \"SEV1\"\noncall = \"oncall:db\""), "hooks[0].oncall: `oncall:db` is not a name"),
            (format!("{hook}name = \"p\"\nsecret = \"s\"\nauto_declare = \"SEV1\"\noncall = \"db\"\nescalation = \"db\""), "hooks[0].escalation: give `escalation` or `oncall`, not both"),
        ];
        for (extra, expected) in cases {
            Jail::expect_with(|jail| {
                let error = load(jail, &format!("{MINIMAL}\n{extra}"))
                    .expect_err(&extra)
                    .to_string();
                assert!(error.starts_with(expected), "{extra}: {error}");
                Ok(())
            });
        }
        Jail::expect_with(|jail| {
            let same = MINIMAL.replace("hs-secret", "as-secret");
            let error = load(jail, &same).expect_err("same tokens").to_string();
            assert!(
                error.starts_with("appservice.hs_token: must differ"),
                "{error}"
            );
            Ok(())
        });
    }
}
