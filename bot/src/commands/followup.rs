//! `!inc followup <text> [--owner @user]`

use matrix_sdk::ruma::{OwnedUserId, ServerName};

use super::{args, Command, CommandInfo, ParseError};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "followup",
    arguments: "<text> [--owner @user]",
    summary: "record an action item for after the incident; the postmortem lists it",
};

/// What `!inc followup` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowupArgs {
    /// What is to be done.
    pub text: String,
    /// Who will do it.
    pub owner: Option<OwnedUserId>,
}

pub(super) fn parse(rest: &str, server: &ServerName) -> Result<Command, ParseError> {
    let mut words = Vec::new();
    let mut owner = None;
    let mut rest = rest.split_whitespace();
    while let Some(word) = rest.next() {
        match word.split_once('=') {
            Some(("--owner", value)) => owner = Some(args::user(value, server)?),
            _ if word == "--owner" => {
                let value = rest.next().ok_or_else(|| {
                    ParseError::Invalid("`--owner` needs a user: `--owner @name`".to_owned())
                })?;
                owner = Some(args::user(value, server)?);
            }
            _ if word.starts_with("--") => {
                return Err(ParseError::Invalid(format!(
                    "unknown option `{word}`: `{}`",
                    INFO.usage()
                )))
            }
            _ => words.push(word),
        }
    }
    if words.is_empty() {
        return Err(args::usage(&INFO));
    }
    let text = words.join(" ");
    args::not_too_long(&text)?;
    Ok(Command::Followup(FollowupArgs { text, owner }))
}
