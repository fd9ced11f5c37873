//! `!inc timeline`

use super::{args, Command, CommandInfo, ParseError};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "timeline",
    arguments: "",
    summary: "the timeline, with the time between key moments",
};

pub(super) fn parse(rest: &str) -> Result<Command, ParseError> {
    args::bare(rest, &INFO, Command::Timeline)
}
