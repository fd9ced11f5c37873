//! `!inc sev <1-4>`

use super::{args, Command, CommandInfo, ParseError};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "sev",
    arguments: "<1-4>",
    summary: "change the severity (commander or moderators)",
};

pub(super) fn parse(rest: &str) -> Result<Command, ParseError> {
    match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
        [level] => Ok(Command::Sev(level.parse().map_err(args::invalid)?)),
        _ => Err(args::usage(&INFO)),
    }
}
