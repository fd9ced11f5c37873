//! What every command is described by: its name, usage and summary for `!inc help`, where it
//! may run and who may run it; and why a message is not a command the bot can run.
//!
//! The one dispatch (in the Matrix layer) reads a command's [`CommandInfo`] rather than knowing
//! commands by name: a new command says here where it runs and who runs it.

/// The prefixes a command starts with; the first is the one shown to people.
pub const PREFIXES: [&str; 2] = ["!inc", "!incident"];

/// Where a command may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Any room the bot is in, a direct message included.
    Anywhere,
    /// An incident's room: it acts on that incident.
    Incident,
}

/// Who may run a command in an incident's room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Anyone the bot takes commands from.
    Anyone,
    /// The incident's commander, or a moderator (power level 50 or more): the commands that
    /// direct the incident.
    Directors,
    /// The commander, whoever has the comms role, or a moderator: the commands that speak for
    /// the incident in public (the status page).
    Spokespeople,
}

/// A command the bot knows, with what `!inc help` says about it and where it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandInfo {
    /// The word after the prefix.
    pub name: &'static str,
    /// The arguments, in the notation of the help text.
    pub arguments: &'static str,
    /// One line on what it does.
    pub summary: &'static str,
    /// Where it may run.
    pub scope: Scope,
    /// Who may run it.
    pub who: Who,
    /// Whether anyone in an incident's room shared with partners may run it there: it only
    /// reads what the partners may see.
    pub in_shared_room: bool,
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
    /// An argument that is not what the command takes, with what would work.
    #[error("{0}")]
    Invalid(String),
    /// A command of the alert bridge's, which the bridge answers where it works; where to
    /// use it.
    #[error("{0}")]
    Bridge(&'static str),
}
