//! `!inc close`

use super::{args, Command, CommandInfo, ParseError};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "close",
    arguments: "",
    summary: "once resolved: post the final postmortem here and in #postmortems, make the room read-only and archive it",
};

pub(super) fn parse(rest: &str) -> Result<Command, ParseError> {
    args::bare(rest, &INFO, Command::Close)
}
