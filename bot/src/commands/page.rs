//! `!inc page <group|@user>…`

use matrix_sdk::ruma::{OwnedUserId, ServerName};

use super::{args, Command, CommandInfo, ParseError};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "page",
    arguments: "<group|@user>…",
    summary: "invite and notify a configured group or people (commander or moderators)",
};

/// Whom `!inc page` reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageTarget {
    /// A configured group, by name (checked when run).
    Group(String),
    /// One person.
    User(OwnedUserId),
}

pub(super) fn parse(rest: &str, server: &ServerName) -> Result<Command, ParseError> {
    let mut targets = Vec::new();
    for word in rest.split_whitespace() {
        let target = if word.starts_with('@') {
            PageTarget::User(args::user(word, server)?)
        } else {
            PageTarget::Group(word.to_owned())
        };
        if !targets.contains(&target) {
            targets.push(target);
        }
    }
    if targets.is_empty() {
        return Err(args::usage(&INFO));
    }
    Ok(Command::Page(targets))
}
