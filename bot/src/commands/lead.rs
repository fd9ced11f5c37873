//! `!inc lead @user`

use matrix_sdk::ruma::ServerName;

use super::{args, Command, CommandInfo, ParseError};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "lead",
    arguments: "@user",
    summary: "hand command to someone in the room (commander or moderators)",
};

pub(super) fn parse(rest: &str, server: &ServerName) -> Result<Command, ParseError> {
    match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
        [who] => Ok(Command::Lead(args::user(who, server)?)),
        _ => Err(args::usage(&INFO)),
    }
}
