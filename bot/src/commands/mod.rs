//! The chat grammar: `!inc <command> [arguments]` (or `!incident …`), one file per command.
//!
//! Parsing and running a command touch no network: a command produces an [`Answer`], and the
//! Matrix layer alone turns it into a ✅ or ❓ reaction and a threaded reply.

mod help;

/// The prefixes a command starts with; the first is the one shown to people.
pub const PREFIXES: [&str; 2] = ["!inc", "!incident"];

/// A command the bot knows, with what `!inc help` says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandInfo {
    /// The word after the prefix.
    pub name: &'static str,
    /// The arguments, in the notation of the help text.
    pub arguments: &'static str,
    /// One line on what it does.
    pub summary: &'static str,
}

impl CommandInfo {
    /// `!inc name arguments`, the way people type it.
    pub fn usage(&self) -> String {
        let prefix = PREFIXES[0];
        if self.arguments.is_empty() {
            format!("{prefix} {}", self.name)
        } else {
            format!("{prefix} {} {}", self.name, self.arguments)
        }
    }
}

/// Every command this version of the bot runs, in the order help lists them.
pub const COMMANDS: &[CommandInfo] = &[help::INFO];

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `!inc help [command]`
    Help {
        /// The command to explain; every command when absent.
        topic: Option<String>,
    },
}

impl Command {
    /// The command's name, as counted in metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Help { .. } => help::INFO.name,
        }
    }

    /// Runs the command.
    pub fn run(&self) -> Answer {
        match self {
            Self::Help { topic } => help::run(topic.as_deref()),
        }
    }
}

/// What the bot says back to a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Done: ✅, and the text (Markdown) in the thread when there is one.
    Done(Option<String>),
    /// Refused or malformed: ❓ and a one-line reason that says what would work.
    Refused(String),
}

/// Why a message that starts with the prefix is not a command the bot can run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Only the prefix.
    #[error("which command? Try `!inc help`.")]
    Empty,
    /// A word that is no command.
    #[error("unknown command `{0}`. Try `!inc help` for the list.")]
    Unknown(String),
    /// A known command with arguments it does not take.
    #[error("usage: `{usage}`")]
    Usage {
        /// The command's usage line.
        usage: String,
    },
}

/// Parses a message body. `None` when the message is not addressed to the bot at all.
pub fn parse(body: &str) -> Option<Result<Command, ParseError>> {
    let rest = strip_prefix(body.trim())?;
    let mut words = rest.split_whitespace();
    let Some(name) = words.next() else {
        return Some(Err(ParseError::Empty));
    };
    let arguments: Vec<&str> = words.collect();
    Some(match name.to_lowercase().as_str() {
        "help" => help::parse(&arguments),
        _ => Err(ParseError::Unknown(name.to_owned())),
    })
}

/// The text after `!inc` or `!incident`, if the body starts with one of them as a whole word.
fn strip_prefix(body: &str) -> Option<&str> {
    // The longer prefix first: `!incident` also starts with `!inc`.
    let mut prefixes = PREFIXES;
    prefixes.sort_by_key(|prefix| std::cmp::Reverse(prefix.len()));
    prefixes.iter().find_map(|prefix| {
        let rest = body
            .get(..prefix.len())
            .filter(|head| head.eq_ignore_ascii_case(prefix))?;
        let rest = &body[rest.len()..];
        (rest.is_empty() || rest.starts_with(char::is_whitespace)).then_some(rest)
    })
}

/// Finds a command by name.
pub fn find(name: &str) -> Option<&'static CommandInfo> {
    COMMANDS
        .iter()
        .find(|info| info.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_messages_are_not_commands() {
        assert_eq!(parse("the database is on fire"), None);
        assert_eq!(parse("!income report"), None);
        assert_eq!(parse("please run !inc help"), None);
    }

    #[test]
    fn both_prefixes_work_in_any_case() {
        let help = Some(Ok(Command::Help { topic: None }));
        assert_eq!(parse("!inc help"), help);
        assert_eq!(parse("!incident help"), help);
        assert_eq!(parse("  !INC   HELP  "), help);
    }

    #[test]
    fn prefix_alone_asks_which_command() {
        assert_eq!(parse("!inc"), Some(Err(ParseError::Empty)));
        assert_eq!(parse("!incident   "), Some(Err(ParseError::Empty)));
    }

    #[test]
    fn unknown_command_points_at_help() {
        let error = parse("!inc frobnicate now")
            .expect("addressed")
            .expect_err("unknown");
        assert_eq!(error, ParseError::Unknown("frobnicate".to_owned()));
        assert!(error.to_string().contains("!inc help"));
    }
}
