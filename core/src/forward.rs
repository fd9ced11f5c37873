//! Forwarding by reaction (SPEC §8) and its leak guard: nothing leaves a room for a room that is
//! less private. Pure: the Matrix layer reads the rooms' current state into [`RoomFacts`].

use std::collections::BTreeSet;

use ruma::{
    events::room::{
        history_visibility::HistoryVisibility,
        join_rules::{AllowRule, JoinRule},
    },
    OwnedRoomId, OwnedUserId,
};

/// What the leak guard needs to know of a room, read from its current state: who can read it
/// now (its joined and invited members) and later (who may join, and whether its history is
/// open to anyone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomFacts {
    /// Messages are end-to-end encrypted.
    pub encrypted: bool,
    /// Users of other servers may join (`m.federate` is not false).
    pub federated: bool,
    /// Who may come in.
    pub access: Access,
    /// Who is joined.
    pub joined: BTreeSet<OwnedUserId>,
    /// Who is invited: they read it once they join.
    pub invited: BTreeSet<OwnedUserId>,
}

/// Who may read a room beyond its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Anyone: it is public to join, or its history is world-readable.
    Anyone,
    /// Members of these rooms join without an invitation (`restricted`, `knock_restricted`).
    MembersOf(BTreeSet<OwnedRoomId>),
    /// Only people let in one by one (`invite`, `knock`, `private`).
    Admitted,
}

impl Access {
    /// The access a room's join rule and history visibility give.
    pub fn of(join_rule: &JoinRule, history: &HistoryVisibility) -> Self {
        if *history == HistoryVisibility::WorldReadable {
            return Self::Anyone;
        }
        match join_rule {
            JoinRule::Invite | JoinRule::Knock | JoinRule::Private => Self::Admitted,
            JoinRule::Restricted(restricted) | JoinRule::KnockRestricted(restricted) => {
                Self::MembersOf(
                    restricted
                        .allow
                        .iter()
                        .filter_map(|rule| match rule {
                            AllowRule::RoomMembership(membership) => {
                                Some(membership.room_id.clone())
                            }
                            _ => None,
                        })
                        .collect(),
                )
            }
            // Public, and rules this guard does not know: open.
            _ => Self::Anyone,
        }
    }
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
    /// A closed room to one anyone may read.
    #[error("anyone may join the target or read its history, and this room is closed")]
    Open,
    /// A closed room to one that members of other rooms may join.
    #[error("members of {} may join the target without an invitation", rooms(.0))]
    Joinable(Vec<OwnedRoomId>),
    /// A closed room to one with people who are not here.
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

fn rooms(rooms: &[OwnedRoomId]) -> String {
    rooms
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why copying from `source` to `target` would leak, if it would: whoever can read the target,
/// now or later, must be able to read the source already.
pub fn leak(source: &RoomFacts, target: &RoomFacts) -> Option<Leak> {
    if source.encrypted && !target.encrypted {
        return Some(Leak::Encryption);
    }
    if !source.federated && target.federated {
        return Some(Leak::Federation);
    }
    match (&source.access, &target.access) {
        (Access::Anyone, _) => return None,
        (_, Access::Anyone) => return Some(Leak::Open),
        (source_access, Access::MembersOf(target_rooms)) => {
            let allowed = match source_access {
                Access::MembersOf(source_rooms) => source_rooms,
                _ => &BTreeSet::new(),
            };
            let beyond: Vec<OwnedRoomId> = target_rooms.difference(allowed).cloned().collect();
            if !beyond.is_empty() {
                return Some(Leak::Joinable(beyond));
            }
        }
        (_, Access::Admitted) => {}
    }
    let outsiders: Vec<OwnedUserId> = target
        .joined
        .union(&target.invited)
        .filter(|user| !source.joined.contains(*user))
        .cloned()
        .collect();
    if !outsiders.is_empty() {
        return Some(Leak::Members(outsiders));
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

    fn users(users: &[&str]) -> BTreeSet<OwnedUserId> {
        users
            .iter()
            .map(|user| OwnedUserId::try_from(*user).expect("a user ID"))
            .collect()
    }

    fn room(encrypted: bool, federated: bool, invite_only: bool, members: &[&str]) -> RoomFacts {
        RoomFacts {
            encrypted,
            federated,
            access: if invite_only {
                Access::Admitted
            } else {
                Access::Anyone
            },
            joined: users(members),
            invited: BTreeSet::new(),
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
            leak(&private, &room(false, true, true, &["@a:x", "@z:x"])),
            Some(Leak::Members(vec![owned_user_id!("@z:x")]))
        );
        assert_eq!(leak(&encrypted, &private), Some(Leak::Encryption));
        assert_eq!(leak(&encrypted, &encrypted), None);
        assert_eq!(leak(&local, &private), Some(Leak::Federation));
        assert!(leak(&private, &room(false, true, true, &["@z:x"]))
            .expect("a leak")
            .to_string()
            .contains("@z:x"));
    }

    #[test]
    fn a_closed_room_sends_nothing_where_anyone_may_read_it_now_or_later() {
        let private = room(false, true, true, &["@a:x", "@b:x"]);
        // The same two members, but anyone may join.
        let public = room(false, true, false, &["@a:x", "@b:x"]);
        assert_eq!(leak(&private, &public), Some(Leak::Open));
        // Invited people read it once they join.
        let mut invited = private.clone();
        invited.invited = users(&["@c:x"]);
        assert_eq!(
            leak(&private, &invited),
            Some(Leak::Members(vec![owned_user_id!("@c:x")]))
        );
        // Members of another room may join a restricted target.
        let space = OwnedRoomId::try_from("!space:x").expect("a room ID");
        let mut restricted = private.clone();
        restricted.access = Access::MembersOf(BTreeSet::from([space.clone()]));
        assert_eq!(
            leak(&private, &restricted),
            Some(Leak::Joinable(vec![space.clone()]))
        );
        // … unless the source is open to the same people.
        assert_eq!(leak(&restricted, &restricted), None);
        // A knock source is closed: its members are checked.
        let knock = RoomFacts {
            access: Access::of(&JoinRule::Knock, &HistoryVisibility::Shared),
            ..private.clone()
        };
        assert_eq!(
            leak(&knock, &room(false, true, true, &["@a:x", "@z:x"])),
            Some(Leak::Members(vec![owned_user_id!("@z:x")]))
        );
    }

    #[test]
    fn access_follows_the_join_rule_and_world_readable_history() {
        use ruma::events::room::join_rules::Restricted;
        let shared = HistoryVisibility::Shared;
        assert_eq!(Access::of(&JoinRule::Public, &shared), Access::Anyone);
        assert_eq!(Access::of(&JoinRule::Invite, &shared), Access::Admitted);
        assert_eq!(Access::of(&JoinRule::Knock, &shared), Access::Admitted);
        assert_eq!(
            Access::of(&JoinRule::Invite, &HistoryVisibility::WorldReadable),
            Access::Anyone
        );
        let space = OwnedRoomId::try_from("!space:x").expect("a room ID");
        let restricted = JoinRule::Restricted(Restricted::new(vec![AllowRule::room_membership(
            space.clone(),
        )]));
        assert_eq!(
            Access::of(&restricted, &shared),
            Access::MembersOf(BTreeSet::from([space]))
        );
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
