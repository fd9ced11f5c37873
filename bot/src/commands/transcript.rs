//! `!inc transcript`

use super::{
    args,
    info::{CommandInfo, ParseError, Scope, Who},
};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "transcript",
    arguments: "",
    summary: "post this room's whole history as a Markdown and an HTML file",
    scope: Scope::Incident,
    // Everyone in the room reads the files, also what was said before they joined.
    who: Who::Directors,
    in_shared_room: false,
};

pub(super) fn parse(rest: &str) -> Result<(), ParseError> {
    args::bare(rest, &INFO)
}
