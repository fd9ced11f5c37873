//! `!inc lead @user`

use brigade_core::record::IncidentRecord;
use matrix_sdk::ruma::{OwnedUserId, ServerName, UserId};

use super::{
    args,
    decision::{self, Asked, Decided, Refusal},
    info::{CommandInfo, ParseError, Scope, Who},
};

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
/// `joined` says whether they are in the room; `brigade` is the bot.
pub fn decide(
    record: &IncidentRecord,
    user: &UserId,
    joined: bool,
    brigade: &UserId,
    asked: Asked<'_>,
) -> Result<Decided, Refusal> {
    decision::a_person(user, joined, brigade)?;
    let mut next = record.clone();
    let previous = next
        .incident
        .set_commander(user.to_owned(), asked.at, asked.by)?;
    let mut decided = Decided::new(
        next,
        format!("🚑 {user} is now in command (was {previous})"),
    );
    decided.levels = vec![user.to_owned(), previous];
    Ok(decided)
}
