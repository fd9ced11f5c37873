//! `!inc update <text>`

use super::{args, Command, CommandInfo, ParseError};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "update",
    arguments: "<text>",
    summary: "post a status update here and on the headline",
};

pub(super) fn parse(rest: &str) -> Result<Command, ParseError> {
    args::text(rest, &INFO, Command::Update)
}
