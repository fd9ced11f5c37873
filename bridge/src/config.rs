//! `bridge.toml` (SPEC §12): the homeserver, the application service, the store and the
//! webhook routes. Environment variables override keys as `BRIGADE_BRIDGE_<SECTION>__<KEY>`;
//! secrets may come from files; unknown keys are refused with their name.

use std::{net::SocketAddr, path::PathBuf};

use brigade_core::{incident::Severity, secret::Secret};
use figment::{
    providers::{Env, Format, Toml},
    Figment,
};
use ruma::{OwnedRoomOrAliasId, OwnedServerName, OwnedUserId, RoomAliasId};
use serde::Deserialize;
use url::Url;

use crate::alert::Source;

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
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file or the environment does not have the expected shape; figment names the key.
    #[error("{0}")]
    Invalid(#[from] Box<figment::Error>),
    /// A secret given both inline and as a file, or neither.
    #[error("{key}: give either `{key}` or `{key}_file`")]
    SecretSource {
        /// The key.
        key: String,
    },
    /// A secret file that cannot be read or is empty.
    #[error("{key}_file {path}: {problem}")]
    SecretFile {
        /// The key.
        key: String,
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// Anything else, with the key named.
    #[error("{key}: {problem}")]
    Value {
        /// The key.
        key: String,
        /// What is wrong.
        problem: String,
    },
}

fn value(key: impl Into<String>, problem: impl Into<String>) -> ConfigError {
    ConfigError::Value {
        key: key.into(),
        problem: problem.into(),
    }
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
    hooks: Vec<RawHook>,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHook {
    name: String,
    source: Source,
    room: OwnedRoomOrAliasId,
    secret: Option<Secret>,
    secret_file: Option<PathBuf>,
    #[serde(default)]
    invite: Vec<OwnedUserId>,
    auto_declare: Option<String>,
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

    /// The hook at `POST /hooks/<source>/<name>`.
    pub fn hook(&self, source: Source, name: &str) -> Option<&Hook> {
        self.hooks
            .iter()
            .find(|hook| hook.source == source && hook.name == name)
    }
}

fn secret(key: &str, inline: Option<Secret>, file: Option<PathBuf>) -> Result<Secret, ConfigError> {
    let secret = match (inline, file) {
        (Some(secret), None) => secret,
        (None, Some(path)) => match Secret::from_file(&path) {
            Ok(Some(secret)) => secret,
            Ok(None) => {
                return Err(ConfigError::SecretFile {
                    key: key.to_owned(),
                    path,
                    problem: "empty".to_owned(),
                })
            }
            Err(error) => {
                return Err(ConfigError::SecretFile {
                    key: key.to_owned(),
                    path,
                    problem: error.to_string(),
                })
            }
        },
        _ => {
            return Err(ConfigError::SecretSource {
                key: key.to_owned(),
            })
        }
    };
    if secret.expose().trim().is_empty() {
        return Err(value(key, "is empty"));
    }
    Ok(secret)
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
            let key = format!("hooks[{index}]");
            let usable = !raw.name.is_empty()
                && raw
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !usable {
                return Err(value(
                    format!("{key}.name"),
                    format!("`{}`: use letters, digits, - and _", raw.name),
                ));
            }
            if hooks
                .iter()
                .any(|hook| hook.source == raw.source && hook.name == raw.name)
            {
                return Err(value(
                    format!("{key}.name"),
                    format!("a second {} route named `{}`", raw.source, raw.name),
                ));
            }
            if let Ok(alias) = <&RoomAliasId>::try_from(&*raw.room) {
                if alias.server_name() != server {
                    return Err(value(
                        format!("{key}.room"),
                        format!(
                            "{alias} is not on {server}: give its room ID, or an alias of ours"
                        ),
                    ));
                }
            }
            let auto_declare = match raw.auto_declare {
                None => None,
                Some(text) => Some(
                    text.parse::<Severity>()
                        .map_err(|error| value(format!("{key}.auto_declare"), error.to_string()))?,
                ),
            };
            let secret = secret(&format!("{key}.secret"), raw.secret, raw.secret_file)?;
            hooks.push(Hook {
                name: raw.name,
                source: raw.source,
                room: raw.room,
                secret,
                invite: raw.invite,
                auto_declare,
            });
        }
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
