//! Why a configuration was refused: each error names the key and says what would work.

use std::path::PathBuf;

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file or the environment could not be parsed into the expected shape (unknown key,
    /// missing key, wrong type); figment's message names the key and where it came from.
    #[error("{0}")]
    Invalid(#[from] Box<figment::Error>),
    /// Neither `matrix.password` nor `matrix.password_file` is set.
    #[error("matrix: set either `password` or `password_file`")]
    PasswordMissing,
    /// Both `matrix.password` and `matrix.password_file` are set.
    #[error("matrix: set only one of `password` and `password_file`")]
    PasswordTwice,
    /// `matrix.password_file` could not be read.
    #[error("matrix.password_file: cannot read {path}: {source}")]
    PasswordFile {
        /// The file named in the configuration.
        path: PathBuf,
        /// Why reading it failed.
        source: std::io::Error,
    },
    /// `matrix.password_file` is empty.
    #[error("matrix.password_file: {path} is empty")]
    PasswordFileEmpty {
        /// The file named in the configuration.
        path: PathBuf,
    },
    /// `profile.display_name` is blank.
    #[error("profile.display_name: must not be empty")]
    EmptyDisplayName,
    /// `profile.avatar` is not a readable file of a known image type.
    #[error("profile.avatar: {path}: {reason}")]
    Avatar {
        /// The file named in the configuration.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// `commands.max_age` is zero.
    #[error("commands.max_age: must be longer than zero")]
    ZeroMaxAge,
    /// `http.unhealthy_after` is zero.
    #[error("http.unhealthy_after: must be longer than zero")]
    ZeroUnhealthyAfter,
    /// A `[rooms]` alias localpart that makes no valid alias.
    #[error("rooms.{key}: `{value}` is not a valid room alias localpart")]
    RoomAlias {
        /// The key.
        key: &'static str,
        /// The configured value.
        value: String,
    },
    /// `access.allowed_servers` is empty, so nobody could use the bot.
    #[error("access.allowed_servers: must name at least one server")]
    NoAllowedServers,
    /// Something in `[incidents]` does not hold together.
    #[error("incidents.{key}: {reason}")]
    Incidents {
        /// The key.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A `[[groups]]` entry that is unusable.
    #[error("groups: {0}")]
    Group(String),
    /// An `[[oncall]]` entry that is unusable.
    #[error("oncall: {0}")]
    OnCall(String),
    /// An `[[escalation]]` policy that is unusable, or a reference to one that does not exist.
    #[error("escalation: {0}")]
    Escalation(String),
    /// Something in `[notify]` is unusable.
    #[error("notify.{key}: {reason}")]
    Notify {
        /// The key.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A `[[routes]]` entry that is unusable.
    #[error("routes: {0}")]
    Route(String),
    /// A `[[forward]]` rule that is unusable.
    #[error("forward: {0}")]
    Forward(String),
    /// A `[[partners]]` entry that is unusable.
    #[error("partners: {0}")]
    Partner(String),
    /// A `[web]` key that is unusable.
    #[error("web.{key}: {reason}")]
    Web {
        /// The key.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A `[status]` key that is unusable.
    #[error("status.{key}: {reason}")]
    Status {
        /// The key.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A `[calls]` key that is unusable.
    #[error("calls.{key}: {reason}")]
    Calls {
        /// The key.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A `[postmortems]` key that is unusable.
    #[error("postmortems.{key}: {reason}")]
    Postmortems {
        /// The key.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// `rooms.private_triage_group` names no `[[groups]]` entry.
    #[error("rooms.private_triage_group: `{0}` is not the name of a [[groups]] entry")]
    PrivateTriageGroup(String),
    /// `[alerts]` is unusable.
    #[error("alerts.{0}")]
    Alerts(String),
}
