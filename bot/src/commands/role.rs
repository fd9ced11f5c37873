//! `!inc role <comms|scribe|liaison> @user`

use brigade_core::{incident::Role, record::IncidentRecord};
use matrix_sdk::ruma::{OwnedUserId, ServerName, UserId};

use super::{
    args,
    decision::{self, Asked, Decided, Refusal},
    info::{CommandInfo, ParseError, Scope, Who},
};
use crate::names::Names;

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "role",
    arguments: "<comms|scribe|liaison> @user",
    summary: "give a role to someone in the room (commander or moderators)",
    scope: Scope::Incident,
    who: Who::Directors,
    in_shared_room: false,
};

pub(super) fn parse(rest: &str, server: &ServerName) -> Result<(Role, OwnedUserId), ParseError> {
    match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
        [role, who] => {
            let role: Role = role.parse().map_err(args::invalid)?;
            Ok((role, args::user(who, server)?))
        }
        _ => Err(args::usage(&INFO)),
    }
}

/// `!inc role <role> @user`: `user` takes the role; levels follow for them and the one before.
/// People are named by `names`.
pub fn decide(
    record: &IncidentRecord,
    role: Role,
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
        .assign(role, user.to_owned(), asked.at, asked.by)?;
    let answer = match &previous {
        Some(previous) => format!(
            "{role}: {} (was {})",
            names.pill(user),
            names.pill(previous)
        ),
        None => format!("{role}: {}", names.pill(user)),
    };
    let mut decided = Decided::new(next, answer);
    decided.levels.push(user.to_owned());
    decided.levels.extend(previous);
    Ok(decided)
}

#[cfg(test)]
mod tests {
    use matrix_sdk::ruma::user_id;

    use super::*;

    #[test]
    fn a_role_goes_to_a_person_and_the_one_it_replaces_loses_its_level() {
        let record =
            brigade_core::testing::record(1, "DNS", brigade_core::incident::Severity::Sev2, 1_000);
        let (sam, kim) = (user_id!("@sam:example.org"), user_id!("@kim:example.org"));
        let brigade = user_id!("@brigade:example.org");
        let asked = Asked { by: sam, at: 2_000 };
        let names = Names::new();
        let scribe = |record: &IncidentRecord, user| {
            decide(record, Role::Scribe, user, true, brigade, asked, &names).expect("assigned")
        };
        let first = scribe(&record, sam);
        assert_eq!(
            crate::names::plain(&first.answer),
            "scribe: @sam:example.org"
        );
        assert_eq!(first.levels, [sam.to_owned()]);
        let second = scribe(&first.next, kim);
        assert_eq!(
            crate::names::plain(&second.answer),
            "scribe: @kim:example.org (was @sam:example.org)"
        );
        assert_eq!(second.levels, [kim.to_owned(), sam.to_owned()]);
    }
}
