//! Forwarding by reaction (SPEC §8) and its leak guard: nothing leaves a room for a room that is
//! less private. Pure: the Matrix layer reads the rooms' current state into [`RoomFacts`].

use std::collections::BTreeSet;

use ruma::OwnedUserId;

/// What the leak guard needs to know of a room, read from its current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomFacts {
    /// Messages are end-to-end encrypted.
    pub encrypted: bool,
    /// Users of other servers may join (`m.federate` is not false).
    pub federated: bool,
    /// Only invited people (or members of a given room) may join: not public, not knock.
    pub invite_only: bool,
    /// Who is joined.
    pub members: BTreeSet<OwnedUserId>,
}

/// Why a copy would leak.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Leak {
    /// Encrypted to unencrypted.
    #[error("this room is encrypted and the target is not")]
    Encryption,
    /// Unfederated to federated.
    #[error("this room is closed to other servers and the target is not")]
    Federation,
    /// Invite-only to a room with people who are not here.
    #[error("the target has members who are not in this room: {}", names(.0))]
    Members(Vec<OwnedUserId>),
}

fn names(users: &[OwnedUserId]) -> String {
    users
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why copying from `source` to `target` would leak, if it would.
pub fn leak(source: &RoomFacts, target: &RoomFacts) -> Option<Leak> {
    if source.encrypted && !target.encrypted {
        return Some(Leak::Encryption);
    }
    if !source.federated && target.federated {
        return Some(Leak::Federation);
    }
    if source.invite_only {
        let outsiders: Vec<OwnedUserId> = target
            .members
            .difference(&source.members)
            .cloned()
            .collect();
        if !outsiders.is_empty() {
            return Some(Leak::Members(outsiders));
        }
    }
    None
}

/// Whether `name` (a room alias or ID) matches `pattern`, where `*` stands for any run of
/// characters (`#inc-*` matches every incident room alias).
pub fn matches(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use ruma::owned_user_id;

    use super::*;

    fn room(encrypted: bool, federated: bool, invite_only: bool, members: &[&str]) -> RoomFacts {
        RoomFacts {
            encrypted,
            federated,
            invite_only,
            members: members
                .iter()
                .map(|user| OwnedUserId::try_from(*user).expect("a user ID"))
                .collect(),
        }
    }

    #[test]
    fn nothing_leaves_for_a_less_private_room() {
        let public = room(false, true, false, &["@a:x", "@b:x", "@z:x"]);
        let private = room(false, true, true, &["@a:x", "@b:x"]);
        let encrypted = room(true, true, true, &["@a:x", "@b:x"]);
        let local = room(false, false, true, &["@a:x", "@b:x"]);
        assert_eq!(leak(&public, &public), None);
        assert_eq!(leak(&public, &private), None, "to a more private room");
        assert_eq!(leak(&private, &room(false, true, true, &["@a:x"])), None);
        assert_eq!(
            leak(&private, &public),
            Some(Leak::Members(vec![owned_user_id!("@z:x")]))
        );
        assert_eq!(leak(&encrypted, &private), Some(Leak::Encryption));
        assert_eq!(leak(&encrypted, &encrypted), None);
        assert_eq!(leak(&local, &private), Some(Leak::Federation));
        assert!(leak(&private, &public)
            .expect("a leak")
            .to_string()
            .contains("@z:x"));
    }

    #[test]
    fn patterns_match_with_stars() {
        assert!(matches("#inc-*", "#inc-20261128-1-disk:example.org"));
        assert!(matches("#inc-*:example.org", "#inc-1:example.org"));
        assert!(!matches("#inc-*:example.org", "#inc-1:other.org"));
        assert!(matches("!room:example.org", "!room:example.org"));
        assert!(!matches("!room:example.org", "!room:example.org2"));
        assert!(matches("*", "anything"));
        assert!(matches("#a*b*c", "#axxbyyc"));
        assert!(!matches("#a*b*c", "#axxc"));
    }
}
