//! What the rooms the bot makes are made of: the power levels of SPEC §6, `initial_state`
//! events, and server ACLs. Pure: `createRoom` requests are built from these.

use brigade_core::{
    incident::Incident,
    levels::{BOT_LEVEL, COMMANDER_LEVEL, MODERATOR_LEVEL, RESPONDER_LEVEL},
};
use matrix_sdk::ruma::{serde::Raw, Int, OwnedServerName, RoomVersionId, ServerName, UserId};
use serde_json::json;

/// The `users` of a new room's power levels: the commander (if any) at 100, and the bot (the
/// room's creator) written down above them before room version 12. From 12 on the creator is
/// above everyone without being listed, and refused in `users`.
pub fn level_users(
    commander: Option<&UserId>,
    creator: &UserId,
    version: &RoomVersionId,
) -> serde_json::Map<String, serde_json::Value> {
    let mut users = serde_json::Map::new();
    if let Some(commander) = commander {
        users.insert(commander.to_string(), json!(COMMANDER_LEVEL));
    }
    let creator_privileged = version
        .rules()
        .is_some_and(|rules| rules.authorization.explicitly_privilege_room_creators);
    if !creator_privileged {
        // Above the commander, as a version 12 creator is: a level can only be lowered by
        // someone above it, and the bot must be able to hand command over.
        users.insert(creator.to_string(), json!(BOT_LEVEL));
    }
    users
}

/// The power level `user`'s roles give them in `incident`'s room (§6).
pub fn level_of(incident: &Incident, user: &UserId) -> Int {
    let level = if incident.commanded_by(user) {
        COMMANDER_LEVEL
    } else if incident.has_role(user) {
        MODERATOR_LEVEL
    } else {
        RESPONDER_LEVEL
    };
    Int::new_saturating(level)
}

/// A state event with an empty state key, for `createRoom`'s `initial_state`.
pub fn state(event_type: &str, content: serde_json::Value) -> serde_json::Value {
    json!({ "type": event_type, "state_key": "", "content": content })
}

/// `initial_state` events as `createRoom` takes them.
pub fn raw_events<T>(events: &[serde_json::Value]) -> Result<Vec<Raw<T>>, serde_json::Error> {
    events
        .iter()
        .map(|event| Raw::new(event).map(Raw::cast_unchecked))
        .collect()
}

/// The `m.room.server_acl` initial state that keeps users of servers other than `own` and
/// `allowed` out of a room. Federation matches hosts without their port; Synapse checks its
/// own name with the port when the ACL is created: both are listed.
pub fn server_acl(
    own: &ServerName,
    allowed: &[OwnedServerName],
    allow_ip_literals: bool,
) -> serde_json::Value {
    let mut hosts: Vec<&str> = Vec::new();
    for server in std::iter::once(own).chain(allowed.iter().map(|server| &**server)) {
        for name in [server.host(), server.as_str()] {
            if !hosts.contains(&name) {
                hosts.push(name);
            }
        }
    }
    json!({
        "type": "m.room.server_acl",
        "state_key": "",
        "content": { "allow": hosts, "deny": [], "allow_ip_literals": allow_ip_literals },
    })
}

#[cfg(test)]
mod tests {
    use brigade_core::{
        incident::{Role, Severity},
        testing,
    };
    use matrix_sdk::ruma::{owned_server_name, server_name, user_id};

    use super::*;

    #[test]
    fn the_bot_is_listed_above_the_commander_only_before_version_12() {
        let (commander, bot) = (
            user_id!("@alice:example.org"),
            user_id!("@brigade:example.org"),
        );
        let v11 = level_users(Some(commander), bot, &RoomVersionId::V11);
        assert_eq!(v11[commander.as_str()], json!(100));
        assert_eq!(v11[bot.as_str()], json!(150));
        let v12 = level_users(Some(commander), bot, &RoomVersionId::V12);
        assert_eq!(
            v12.len(),
            1,
            "the creator is never listed from version 12: {v12:?}"
        );
    }

    #[test]
    fn roles_give_their_levels() {
        let mut record = testing::record(1, "DNS", Severity::Sev2, 1_000);
        let scribe = user_id!("@sam:example.org");
        record
            .incident
            .assign(Role::Scribe, scribe.to_owned(), 2_000, scribe)
            .expect("assigned");
        let incident = &record.incident;
        assert_eq!(
            level_of(
                incident,
                incident.commander.as_deref().expect("a commander")
            ),
            Int::from(100)
        );
        assert_eq!(level_of(incident, scribe), Int::from(50));
        assert_eq!(
            level_of(incident, user_id!("@bob:example.org")),
            Int::from(0)
        );
    }

    #[test]
    fn an_acl_admits_our_server_and_the_allowed_ones_with_and_without_port() {
        let acl = server_acl(
            server_name!("127.0.0.1:8448"),
            &[owned_server_name!("partner.example")],
            true,
        );
        assert_eq!(
            acl["content"]["allow"],
            json!(["127.0.0.1", "127.0.0.1:8448", "partner.example"])
        );
        assert_eq!(acl["content"]["allow_ip_literals"], json!(true));
    }
}
