//! `!inc followup <text> [--owner @user]`

use brigade_core::record::IncidentRecord;
use matrix_sdk::ruma::{OwnedUserId, ServerName};

use super::{
    args,
    decision::{Asked, Decided, Refusal},
    info::{CommandInfo, ParseError, Scope, Who},
};
use crate::{names::Names, render};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "followup",
    arguments: "<text> [--owner @user]",
    summary: "record an action item for after the incident; the postmortem lists it",
    scope: Scope::Incident,
    who: Who::Anyone,
    in_shared_room: false,
};

/// What `!inc followup` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowupArgs {
    /// What is to be done.
    pub text: String,
    /// Who will do it.
    pub owner: Option<OwnedUserId>,
}

pub(super) fn parse(rest: &str, server: &ServerName) -> Result<FollowupArgs, ParseError> {
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
    Ok(FollowupArgs { text, owner })
}

/// `!inc followup`: the follow-up is recorded, with its owner if named (by `names`).
pub fn decide(
    record: &IncidentRecord,
    args: FollowupArgs,
    asked: Asked<'_>,
    names: &Names,
) -> Result<Decided, Refusal> {
    let owner = match &args.owner {
        Some(owner) => format!(" (owner {})", names.pill(owner)),
        None => String::new(),
    };
    let answer = format!("Follow-up recorded{owner}: {}", render::escape(&args.text));
    let mut next = record.clone();
    next.incident
        .add_followup(args.text, args.owner, asked.at, asked.by);
    Ok(Decided::new(next, answer))
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn a_follow_up_is_recorded_with_its_owner() {
        let record =
            brigade_core::testing::record(1, "DNS", brigade_core::incident::Severity::Sev2, 1_000);
        let asked = Asked {
            by: matrix_sdk::ruma::user_id!("@alice:example.org"),
            at: 2_000,
        };
        let args = parse(
            "add a <disk> alert --owner @bob",
            matrix_sdk::ruma::server_name!("example.org"),
        )
        .expect("parsed");
        let decided = decide(&record, args, asked, &Names::new()).expect("recorded");
        assert_eq!(decided.next.followups().count(), 1);
        assert!(
            crate::names::plain(&decided.answer)
                .starts_with("Follow-up recorded (owner @bob:example.org): "),
            "{}",
            decided.answer
        );
        assert!(
            !decided.answer.contains("<disk>"),
            "escaped: {}",
            decided.answer
        );
    }
}
