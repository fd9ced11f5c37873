//! `!inc forward <emoji> <#room|!id>`, `!inc forward list`, `!inc forward remove <emoji>`

use matrix_sdk::ruma::{OwnedRoomOrAliasId, RoomOrAliasId};

use super::{
    args,
    info::{CommandInfo, ParseError, Scope, Who},
};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "forward",
    arguments: "<emoji> <#room|!id> | list | remove <emoji>",
    summary: "a reaction on a message here copies it to another room (moderators)",
    scope: Scope::Anywhere,
    who: Who::Anyone,
    in_shared_room: false,
};

/// What `!inc forward` asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardArgs {
    /// A new rule for this room.
    Add {
        /// The reaction.
        emoji: String,
        /// The target room.
        to: OwnedRoomOrAliasId,
    },
    /// The rules that apply here.
    List,
    /// Drop this room's rule for an emoji.
    Remove(String),
}

pub(super) fn parse(rest: &str) -> Result<ForwardArgs, ParseError> {
    let words: Vec<&str> = rest.split_whitespace().collect();
    let args = match words.as_slice() {
        ["list"] => ForwardArgs::List,
        ["remove", emoji] => ForwardArgs::Remove((*emoji).to_owned()),
        [emoji, to] => {
            let to = RoomOrAliasId::parse(to).map_err(|_| {
                ParseError::Invalid(format!(
                    "`{to}` is not a room: use #alias:server or !id:server"
                ))
            })?;
            ForwardArgs::Add {
                emoji: (*emoji).to_owned(),
                to,
            }
        }
        _ => return Err(args::usage(&INFO)),
    };
    Ok(args)
}
