//! The lifecycle commands of SPEC §4: declare, status, sev, lead, role, page, update, summary,
//! list and reopen. Parsing only; `crate::matrix::incident` carries them out.

use brigade_core::incident::{IncidentError, Role, Severity, Status};
use matrix_sdk::ruma::{OwnedUserId, ServerName, UserId};

use super::{Command, CommandInfo, ParseError};

pub(super) const DECLARE: CommandInfo = CommandInfo {
    name: "declare",
    arguments: "<title> [--sev N] [--type T] [--started HH:MM]",
    summary: "open an incident: its own room, you in command, a headline in announcements (--started is UTC)",
};
pub(super) const LIST: CommandInfo = CommandInfo {
    name: "list",
    arguments: "[--all]",
    summary: "the open incidents (or all of them), with links",
};
pub(super) const STATUS: CommandInfo = CommandInfo {
    name: "status",
    arguments: "<investigating|identified|monitoring|resolved> [note]",
    summary: "change the status (in an incident room)",
};
pub(super) const SEV: CommandInfo = CommandInfo {
    name: "sev",
    arguments: "<1-4>",
    summary: "change the severity (commander or moderators)",
};
pub(super) const LEAD: CommandInfo = CommandInfo {
    name: "lead",
    arguments: "@user",
    summary: "hand command to someone in the room (commander or moderators)",
};
pub(super) const ROLE: CommandInfo = CommandInfo {
    name: "role",
    arguments: "<comms|scribe|liaison> @user",
    summary: "give a role to someone in the room (commander or moderators)",
};
pub(super) const PAGE: CommandInfo = CommandInfo {
    name: "page",
    arguments: "<group|@user>…",
    summary: "invite and notify a configured group or people (commander or moderators)",
};
pub(super) const UPDATE: CommandInfo = CommandInfo {
    name: "update",
    arguments: "<text>",
    summary: "post a status update here and on the headline",
};
pub(super) const SUMMARY: CommandInfo = CommandInfo {
    name: "summary",
    arguments: "<text>",
    summary: "replace the current understanding in the pinned summary and the topic",
};
pub(super) const REOPEN: CommandInfo = CommandInfo {
    name: "reopen",
    arguments: "",
    summary: "take a resolved incident back to investigating",
};

/// What `!inc declare` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclareArgs {
    /// The title, as typed.
    pub title: String,
    /// `--sev`, when given.
    pub severity: Option<Severity>,
    /// `--type`, when given (checked against the configuration when run).
    pub kind: Option<String>,
    /// `--private`.
    pub private: bool,
    /// `--started HH:MM` (UTC), as hours and minutes.
    pub started: Option<(u8, u8)>,
}

/// Whom `!inc page` reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageTarget {
    /// A configured group, by name (checked when run).
    Group(String),
    /// One person.
    User(OwnedUserId),
}

fn usage(info: &CommandInfo) -> ParseError {
    ParseError::Usage {
        usage: info.usage(),
    }
}

fn invalid(error: IncidentError) -> ParseError {
    ParseError::Invalid(error.to_string())
}

/// A user argument: a full ID, or `@name` for someone on the sender's server.
pub fn user(word: &str, server: &ServerName) -> Result<OwnedUserId, ParseError> {
    let invalid =
        || ParseError::Invalid(format!("`{word}` is not a user: use @name or @name:server"));
    if !word.starts_with('@') {
        return Err(invalid());
    }
    let full = if word.contains(':') {
        word.to_owned()
    } else {
        format!("{word}:{server}")
    };
    UserId::parse(full).map_err(|_| invalid())
}

pub(super) fn parse_declare(rest: &str) -> Result<Command, ParseError> {
    let mut args = DeclareArgs {
        title: String::new(),
        severity: None,
        kind: None,
        private: false,
        started: None,
    };
    let mut title = Vec::new();
    let mut words = rest.split_whitespace();
    while let Some(word) = words.next() {
        let (flag, inline) = match word.split_once('=') {
            Some((flag, value)) if word.starts_with("--") => (flag, Some(value)),
            _ => (word, None),
        };
        let mut value = |name: &str| {
            inline
                .or_else(|| words.next())
                .filter(|value| !value.is_empty())
                .ok_or_else(|| ParseError::Invalid(format!("`{name}` needs a value")))
        };
        match flag.to_ascii_lowercase().as_str() {
            "--sev" | "--severity" => {
                args.severity = Some(value("--sev")?.parse().map_err(invalid)?);
            }
            "--type" => args.kind = Some(value("--type")?.to_ascii_lowercase()),
            "--started" => args.started = Some(clock_time(value("--started")?)?),
            "--private" if inline.is_none() => args.private = true,
            other if other.starts_with("--") => {
                return Err(ParseError::Invalid(format!(
                    "unknown option `{flag}`; usage: `{}`",
                    DECLARE.usage()
                )))
            }
            _ => title.push(word),
        }
    }
    args.title = title.join(" ");
    if args.title.is_empty() {
        return Err(invalid(IncidentError::EmptyTitle));
    }
    Ok(Command::Declare(args))
}

fn clock_time(text: &str) -> Result<(u8, u8), ParseError> {
    let invalid =
        || ParseError::Invalid(format!("`--started {text}`: use HH:MM (UTC), e.g. 09:40"));
    let (hours, minutes) = text.split_once(':').ok_or_else(invalid)?;
    let hours: u8 = hours.parse().map_err(|_| invalid())?;
    let minutes: u8 = minutes.parse().map_err(|_| invalid())?;
    if hours > 23 || minutes > 59 || text.len() > 5 {
        return Err(invalid());
    }
    Ok((hours, minutes))
}

pub(super) fn parse_list(rest: &str) -> Result<Command, ParseError> {
    match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
        [] => Ok(Command::List { all: false }),
        ["--all"] => Ok(Command::List { all: true }),
        _ => Err(usage(&LIST)),
    }
}

pub(super) fn parse_status(rest: &str) -> Result<Command, ParseError> {
    let (word, note) = split_word(rest);
    let Some(word) = word else {
        return Err(usage(&STATUS));
    };
    let to: Status = word.parse().map_err(invalid)?;
    if !Status::SETTABLE.contains(&to) {
        return Err(ParseError::Invalid(format!(
            "`{to}` is not set with status: {}",
            if to == Status::Closed {
                "use `!inc close` once resolved"
            } else {
                "use investigating, identified, monitoring or resolved"
            }
        )));
    }
    Ok(Command::Status {
        to,
        note: note.map(str::to_owned),
    })
}

pub(super) fn parse_sev(rest: &str) -> Result<Command, ParseError> {
    match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
        [level] => Ok(Command::Sev(level.parse().map_err(invalid)?)),
        _ => Err(usage(&SEV)),
    }
}

pub(super) fn parse_lead(rest: &str, server: &ServerName) -> Result<Command, ParseError> {
    match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
        [who] => Ok(Command::Lead(user(who, server)?)),
        _ => Err(usage(&LEAD)),
    }
}

pub(super) fn parse_role(rest: &str, server: &ServerName) -> Result<Command, ParseError> {
    match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
        [role, who] => {
            let role: Role = role.parse().map_err(invalid)?;
            Ok(Command::Role(role, user(who, server)?))
        }
        _ => Err(usage(&ROLE)),
    }
}

pub(super) fn parse_page(rest: &str, server: &ServerName) -> Result<Command, ParseError> {
    let mut targets = Vec::new();
    for word in rest.split_whitespace() {
        let target = if word.starts_with('@') {
            PageTarget::User(user(word, server)?)
        } else {
            PageTarget::Group(word.to_owned())
        };
        if !targets.contains(&target) {
            targets.push(target);
        }
    }
    if targets.is_empty() {
        return Err(usage(&PAGE));
    }
    Ok(Command::Page(targets))
}

pub(super) fn parse_text(
    rest: &str,
    info: &CommandInfo,
    make: fn(String) -> Command,
) -> Result<Command, ParseError> {
    let text = rest.trim();
    if text.is_empty() {
        return Err(usage(info));
    }
    Ok(make(text.to_owned()))
}

pub(super) fn parse_reopen(rest: &str) -> Result<Command, ParseError> {
    if rest.trim().is_empty() {
        Ok(Command::Reopen)
    } else {
        Err(usage(&REOPEN))
    }
}

/// The first word and the trimmed rest, if any.
fn split_word(text: &str) -> (Option<&str>, Option<&str>) {
    let text = text.trim();
    if text.is_empty() {
        return (None, None);
    }
    match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (
            Some(word),
            Some(rest.trim()).filter(|rest| !rest.is_empty()),
        ),
        None => (Some(text), None),
    }
}
