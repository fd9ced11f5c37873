//! `!inc postmortem`

use super::{
    args,
    info::{CommandInfo, ParseError, Scope, Who},
};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "postmortem",
    arguments: "",
    summary: "build the postmortem draft from the timeline and post it (also as an .md file)",
    scope: Scope::Incident,
    who: Who::Anyone,
    in_shared_room: false,
};

pub(super) fn parse(rest: &str) -> Result<(), ParseError> {
    args::bare(rest, &INFO)
}
