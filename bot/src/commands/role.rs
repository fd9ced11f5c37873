//! `!inc role <comms|scribe|liaison> @user`

use brigade_core::incident::Role;
use matrix_sdk::ruma::ServerName;

use super::{args, Command, CommandInfo, ParseError};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "role",
    arguments: "<comms|scribe|liaison> @user",
    summary: "give a role to someone in the room (commander or moderators)",
};

pub(super) fn parse(rest: &str, server: &ServerName) -> Result<Command, ParseError> {
    match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
        [role, who] => {
            let role: Role = role.parse().map_err(args::invalid)?;
            Ok(Command::Role(role, args::user(who, server)?))
        }
        _ => Err(args::usage(&INFO)),
    }
}
