//! `!inc private`

use super::{args, Command, CommandInfo, ParseError};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "private",
    arguments: "",
    summary: "continue this incident in a new private room (end-to-end encrypted, this server only, invitation only); this room keeps a pointer",
};

pub(super) fn parse(rest: &str) -> Result<Command, ParseError> {
    args::bare(rest, &INFO, Command::Private)
}
