//! `!inc timeline`

use super::{
    args,
    info::{CommandInfo, ParseError, Scope, Who},
};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "timeline",
    arguments: "",
    summary: "the timeline, with the time between key moments",
    scope: Scope::Incident,
    who: Who::Anyone,
    in_shared_room: true,
};

pub(super) fn parse(rest: &str) -> Result<(), ParseError> {
    args::bare(rest, &INFO)
}
