//! `!inc page <group|oncall:team|@user>…`

use matrix_sdk::ruma::{OwnedUserId, ServerName};

use super::{args, Command, CommandInfo, ParseError};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "page",
    arguments: "<group|oncall:team|@user>…",
    summary: "invite and notify a configured group, whoever is on call for a team, or people (commander or moderators)",
};

/// Whom `!inc page` reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageTarget {
    /// A configured group, by name (checked when run).
    Group(String),
    /// Whoever is on call for a team now (checked when run).
    OnCall(String),
    /// One person.
    User(OwnedUserId),
}

pub(super) fn parse(rest: &str, server: &ServerName) -> Result<Command, ParseError> {
    let mut targets = Vec::new();
    for word in rest.split_whitespace() {
        let target = if word.starts_with('@') {
            PageTarget::User(args::user(word, server)?)
        } else if let Some(team) = word.strip_prefix("oncall:") {
            if team.is_empty() {
                return Err(ParseError::Invalid(
                    "`oncall:` needs a team: `!inc page oncall:db`".to_owned(),
                ));
            }
            PageTarget::OnCall(team.to_owned())
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
