//! `!inc summary <text>`

use super::{args, Command, CommandInfo, ParseError};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "summary",
    arguments: "<text>",
    summary: "replace the current understanding in the pinned summary and the topic",
};

pub(super) fn parse(rest: &str) -> Result<Command, ParseError> {
    args::text(rest, &INFO, Command::Summary)
}
