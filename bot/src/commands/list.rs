//! `!inc list [--all]`

use super::{args, Command, CommandInfo, ParseError};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "list",
    arguments: "[--all]",
    summary: "the open incidents (or all of them), with links",
};

pub(super) fn parse(rest: &str) -> Result<Command, ParseError> {
    match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
        [] => Ok(Command::List { all: false }),
        ["--all"] => Ok(Command::List { all: true }),
        _ => Err(args::usage(&INFO)),
    }
}
