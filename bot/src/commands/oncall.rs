//! `!inc oncall [team]`

use super::{args, Command, CommandInfo, ParseError};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "oncall",
    arguments: "[team]",
    summary: "who is on call now for a team (or every team), until when, and who is next",
};

pub(super) fn parse(rest: &str) -> Result<Command, ParseError> {
    match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
        [] => Ok(Command::OnCall(None)),
        [team] => Ok(Command::OnCall(Some((*team).to_owned()))),
        _ => Err(args::usage(&INFO)),
    }
}
