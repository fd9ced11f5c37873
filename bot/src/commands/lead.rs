//! `!inc lead @user`

use brigade_core::record::IncidentRecord;
use matrix_sdk::ruma::{OwnedUserId, ServerName, UserId};

use super::{
    args,
    decision::{self, Asked, Decided, Refusal},
    info::{CommandInfo, ParseError, Scope, Who},
};
use crate::names::Names;

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "lead",
    arguments: "@user",
    summary: "hand command to someone in the room (commander or moderators)",
    scope: Scope::Incident,
    who: Who::Directors,
    in_shared_room: false,
};

pub(super) fn parse(rest: &str, server: &ServerName) -> Result<OwnedUserId, ParseError> {
    match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
        [who] => args::user(who, server),
        _ => Err(args::usage(&INFO)),
    }
}

/// `!inc lead @user`: `user` takes command; levels follow for them and the one before.
/// `joined` says whether they are in the room; `brigade` is the bot; people are named by
/// `names`.
pub fn decide(
    record: &IncidentRecord,
    user: &UserId,
    joined: bool,
    brigade: &UserId,
    asked: Asked<'_>,
    names: &Names,
) -> Result<Decided, Refusal> {
    decision::a_person(user, joined, brigade)?;
    let mut next = record.clone();
    let previous = next
        .incident
        .set_commander(user.to_owned(), asked.at, asked.by)?;
    let was = previous
        .as_ref()
        .map(|previous| format!(" (was {})", names.pill(previous)))
        .unwrap_or_default();
    let mut decided = Decided::new(
        next,
        format!("🚑 {} is now in command{was}", names.pill(user)),
    );
    decided.levels = std::iter::once(user.to_owned()).chain(previous).collect();
    Ok(decided)
}

#[cfg(test)]
mod tests {
    use matrix_sdk::ruma::user_id;

    use super::*;

    #[test]
    fn command_goes_to_a_person_in_the_room_and_levels_follow_both() {
        let record =
            brigade_core::testing::record(1, "DNS", brigade_core::incident::Severity::Sev2, 1_000);
        let (bob, brigade) = (
            user_id!("@bob:example.org"),
            user_id!("@brigade:example.org"),
        );
        let asked = Asked { by: bob, at: 2_000 };
        let decided =
            decide(&record, bob, true, brigade, asked, &Names::new()).expect("handed over");
        assert!(decided.next.incident.commanded_by(bob));
        assert_eq!(
            decided.levels,
            [
                bob.to_owned(),
                record.incident.commander.clone().expect("a commander")
            ]
        );
        assert!(
            decide(&record, bob, false, brigade, asked, &Names::new()).is_err(),
            "not in the room"
        );
        assert!(
            decide(&record, brigade, true, brigade, asked, &Names::new()).is_err(),
            "not Brigade"
        );
    }
}
