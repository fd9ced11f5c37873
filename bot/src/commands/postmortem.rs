//! `!inc postmortem`

use super::{args, Command, CommandInfo, ParseError};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "postmortem",
    arguments: "",
    summary: "build the postmortem draft from the timeline and post it (also as an .md file)",
};

pub(super) fn parse(rest: &str) -> Result<Command, ParseError> {
    args::bare(rest, &INFO, Command::Postmortem)
}
