//! `[alerts] bridge_registration`: the bridge's appservice registration, the very file the
//! homeserver loads. Its exclusive user namespaces are users nobody else can register or post
//! as; its alias and room namespaces are its routes' rooms. The bot believes alerts only from
//! those users, in those rooms (SPEC §9).

use std::path::{Path, PathBuf};

use matrix_sdk::ruma::{OwnedUserId, RoomAliasId, RoomId, ServerName, UserId};
use regex::Regex;
use serde::Deserialize;

use super::error::ConfigError;

#[derive(Debug, Deserialize)]
struct RawRegistration {
    sender_localpart: String,
    namespaces: RawNamespaces,
}

#[derive(Debug, Default, Deserialize)]
struct RawNamespaces {
    #[serde(default)]
    users: Vec<RawNamespace>,
    #[serde(default)]
    aliases: Vec<RawNamespace>,
    #[serde(default)]
    rooms: Vec<RawNamespace>,
}

#[derive(Debug, Deserialize)]
struct RawNamespace {
    #[serde(default)]
    exclusive: bool,
    regex: String,
}

/// Who the bridge is and where it posts, as its registration says.
#[derive(Debug, Clone)]
pub struct BridgeRegistration {
    /// The file it was read from.
    pub path: PathBuf,
    /// The bridge's own user.
    sender: OwnedUserId,
    /// Its exclusive user namespaces: nobody but the bridge is one of them.
    users: Vec<Regex>,
    /// Its routes' rooms, by alias and by ID.
    aliases: Vec<Regex>,
    rooms: Vec<Regex>,
}

impl PartialEq for BridgeRegistration {
    fn eq(&self, other: &Self) -> bool {
        fn sources(regexes: &[Regex]) -> Vec<&str> {
            regexes.iter().map(Regex::as_str).collect()
        }
        self.path == other.path
            && self.sender == other.sender
            && sources(&self.users) == sources(&other.users)
            && sources(&self.aliases) == sources(&other.aliases)
            && sources(&self.rooms) == sources(&other.rooms)
    }
}

impl Eq for BridgeRegistration {}

impl BridgeRegistration {
    /// Reads the registration at `path`; the bridge's sender is a user of `server`.
    pub fn load(path: &Path, server: &ServerName) -> Result<Self, ConfigError> {
        let fail = |why: String| {
            ConfigError::Alerts(format!("bridge_registration: {}: {why}", path.display()))
        };
        let text = std::fs::read_to_string(path).map_err(|error| fail(error.to_string()))?;
        let raw: RawRegistration =
            serde_yaml_ng::from_str(&text).map_err(|error| fail(error.to_string()))?;
        let sender = UserId::parse(format!("@{}:{server}", raw.sender_localpart))
            .map_err(|_| fail(format!("`{}` is no user localpart", raw.sender_localpart)))?;
        let compile = |namespaces: Vec<RawNamespace>, exclusive_only: bool| {
            namespaces
                .into_iter()
                .filter(|namespace| namespace.exclusive || !exclusive_only)
                .map(|namespace| {
                    // A namespace names whole IDs.
                    Regex::new(&format!("^(?:{})$", namespace.regex))
                        .map_err(|error| fail(format!("regex `{}`: {error}", namespace.regex)))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let users = compile(raw.namespaces.users, true)?;
        if users.is_empty() {
            return Err(fail(
                "no exclusive user namespace: anyone could register the bridge's users".to_owned(),
            ));
        }
        Ok(Self {
            path: path.to_owned(),
            sender,
            users,
            aliases: compile(raw.namespaces.aliases, false)?,
            rooms: compile(raw.namespaces.rooms, false)?,
        })
    }

    /// The bridge's own user: it opens follow-ups' tickets (SPEC §16).
    pub fn sender(&self) -> &UserId {
        &self.sender
    }

    /// Whether `user` is the bridge or one of its virtual users.
    pub fn is_bridge_user(&self, user: &UserId) -> bool {
        *user == self.sender || self.users.iter().any(|users| users.is_match(user.as_str()))
    }

    /// Whether the room with `room_id` and `alias` (its canonical alias, which the homeserver
    /// checked points to it) is one of the bridge's routes' rooms.
    pub fn routes_to(&self, room_id: &RoomId, alias: Option<&RoomAliasId>) -> bool {
        self.rooms
            .iter()
            .any(|rooms| rooms.is_match(room_id.as_str()))
            || alias.is_some_and(|alias| {
                self.aliases
                    .iter()
                    .any(|aliases| aliases.is_match(alias.as_str()))
            })
    }
}

#[cfg(test)]
mod tests {
    use matrix_sdk::ruma::{room_alias_id, room_id, server_name, user_id};

    use super::*;

    fn load(yaml: &str) -> Result<BridgeRegistration, ConfigError> {
        let dir = tempfile::tempdir().map_err(|e| ConfigError::Alerts(e.to_string()))?;
        let path = dir.path().join("registration.yaml");
        std::fs::write(&path, yaml).map_err(|e| ConfigError::Alerts(e.to_string()))?;
        BridgeRegistration::load(&path, server_name!("example.org"))
    }

    const REGISTRATION: &str = "id: \"brigade-bridge\"\nurl: \"http://127.0.0.1:9200\"\n\
        as_token: \"a\"\nhs_token: \"h\"\nsender_localpart: \"alert_bridge\"\n\
        namespaces:\n  users:\n    - exclusive: true\n      regex: \"@alert_.*:example\\\\.org\"\n  \
        aliases:\n    - exclusive: true\n      regex: \"#alerts\\\\-prod:example\\\\.org\"\n  \
        rooms:\n    - exclusive: false\n      regex: \"!routed:example\\\\.org\"\n";

    #[test]
    fn only_its_exclusive_users_in_its_routes_rooms_are_the_bridge() {
        let Ok(registration) = load(REGISTRATION) else {
            panic!("{:?}", load(REGISTRATION));
        };
        assert!(registration.is_bridge_user(user_id!("@alert_alertmanager:example.org")));
        assert!(registration.is_bridge_user(user_id!("@alert_bridge:example.org")));
        assert!(!registration.is_bridge_user(user_id!("@alert_x:elsewhere.org")));
        assert!(!registration.is_bridge_user(user_id!("@mallory:example.org")));
        // Whole IDs only.
        assert!(!registration.is_bridge_user(user_id!("@xalert_x:example.org")));
        assert!(registration.routes_to(room_id!("!routed:example.org"), None));
        assert!(registration.routes_to(
            room_id!("!other:example.org"),
            Some(room_alias_id!("#alerts-prod:example.org"))
        ));
        assert!(!registration.routes_to(
            room_id!("!other:example.org"),
            Some(room_alias_id!("#alerts-prod-x:example.org"))
        ));
        assert!(!registration.routes_to(room_id!("!other:example.org"), None));
    }

    #[test]
    fn a_registration_that_claims_no_users_or_does_not_parse_is_refused() {
        for (yaml, reason) in [
            (
                REGISTRATION.replace(
                    "exclusive: true\n      regex: \"@",
                    "exclusive: false\n      regex: \"@",
                ),
                "no exclusive user namespace",
            ),
            ("sender_localpart: [\n".to_owned(), "bridge_registration: "),
            (
                REGISTRATION.replace(".*:example", "(:example"),
                "regex `@alert_(:example",
            ),
        ] {
            let Err(error) = load(&yaml) else {
                panic!("accepted: {yaml}");
            };
            assert!(error.to_string().contains(reason), "{error}");
        }
    }
}
