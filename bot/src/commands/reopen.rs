//! `!inc reopen`

use super::{args, Command, CommandInfo, ParseError};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "reopen",
    arguments: "",
    summary: "take a resolved incident back to investigating",
};

pub(super) fn parse(rest: &str) -> Result<Command, ParseError> {
    args::bare(rest, &INFO, Command::Reopen)
}
