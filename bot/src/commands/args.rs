//! What the commands' arguments have in common: people, free text, usage errors.

use brigade_core::incident::IncidentError;
use matrix_sdk::ruma::{OwnedUserId, ServerName, UserId};

use super::info::{CommandInfo, ParseError};

pub(super) fn usage(info: &CommandInfo) -> ParseError {
    ParseError::Usage {
        usage: info.usage(),
    }
}

pub(super) fn invalid(error: IncidentError) -> ParseError {
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

/// The longest text a command keeps: what it says lives in the incident's room state, which
/// Matrix caps at 64 KiB per event.
pub(super) const MAX_TEXT: usize = 2000;

/// The free text a command takes whole (`!inc update <text>`).
pub(super) fn text(rest: &str, info: &CommandInfo) -> Result<String, ParseError> {
    let text = rest.trim();
    if text.is_empty() {
        return Err(usage(info));
    }
    not_too_long(text)?;
    Ok(text.to_owned())
}

/// Refuses text longer than [`MAX_TEXT`] characters, saying what to do instead.
pub(super) fn not_too_long(text: &str) -> Result<(), ParseError> {
    let length = text.chars().count();
    if length > MAX_TEXT {
        return Err(ParseError::Invalid(format!(
            "that is {length} characters; at most {MAX_TEXT} fit: post the details in the room and 📌 them"
        )));
    }
    Ok(())
}

/// A command that takes no arguments.
pub(super) fn bare(rest: &str, info: &CommandInfo) -> Result<(), ParseError> {
    if rest.trim().is_empty() {
        Ok(())
    } else {
        Err(usage(info))
    }
}

/// The first word and the trimmed rest, if any.
pub(super) fn split_word(text: &str) -> (Option<&str>, Option<&str>) {
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
