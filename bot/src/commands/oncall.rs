//! `!inc oncall [team]`

use super::{
    args,
    info::{CommandInfo, ParseError, Scope, Who},
};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "oncall",
    arguments: "[team]",
    summary: "who is on call now for a team (or every team), until when, and who is next",
    scope: Scope::Anywhere,
    who: Who::Anyone,
    in_shared_room: false,
};

pub(super) fn parse(rest: &str) -> Result<Option<String>, ParseError> {
    match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
        [] => Ok(None),
        [team] => Ok(Some((*team).to_owned())),
        _ => Err(args::usage(&INFO)),
    }
}
