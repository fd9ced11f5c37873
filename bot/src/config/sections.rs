//! The validated sections of the bot's configuration, as the rest of the bot reads them.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use brigade_core::{incident::Severity, secret::Secret};
use matrix_sdk::ruma::{OwnedServerName, OwnedUserId, RoomVersionId};
use url::Url;

/// `[incidents]`
#[derive(Debug, Clone)]
pub struct IncidentsConfig {
    /// The severity of a declaration without `--sev`.
    pub default_severity: Severity,
    /// The types a declaration may name; the first is the default.
    pub types: Vec<String>,
    /// Types whose incidents are private unless said otherwise.
    pub private_types: Vec<String>,
    /// The room version of incident rooms; the homeserver's default when absent.
    pub room_version: Option<RoomVersionId>,
    /// Who may take command with 🚑 on the summary.
    pub take_command: TakeCommand,
    /// Reactions that flag a message for the timeline (📌 and its aliases).
    pub flag_reactions: Vec<String>,
    /// Reactions that thank a message's author, for the postmortem's thanks.
    pub thanks_reactions: Vec<String>,
}

impl IncidentsConfig {
    /// The configured type named `name` (any case).
    pub fn find_type(&self, name: &str) -> Option<&str> {
        self.types
            .iter()
            .find(|kind| kind.eq_ignore_ascii_case(name))
            .map(String::as_str)
    }
}

/// Who may take command with 🚑.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TakeCommand {
    /// Anyone joined to the incident room.
    Anyone,
    /// Members of this group only.
    Group(String),
}

/// `[reminders]`: how often a status update is due, by severity; none when absent.
#[derive(Debug, Clone)]
pub struct RemindersConfig {
    /// Indexed by severity level minus one.
    every: [Option<Duration>; 4],
}

impl RemindersConfig {
    /// Reminders every `every[0]` for SEV1 … `every[3]` for SEV4; `None` for none.
    pub fn new(every: [Option<Duration>; 4]) -> Self {
        Self { every }
    }

    /// How often updates are due for `severity`.
    pub fn every(&self, severity: Severity) -> Option<Duration> {
        self.every[usize::from(severity.level()) - 1]
    }
}

/// `[[groups]]`: people paged together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The name `!inc page` takes.
    pub name: String,
    /// Who is in it.
    pub members: Vec<OwnedUserId>,
}

/// `[rooms]`: the localparts of the standard rooms' aliases on the bot's server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomsConfig {
    /// The Incidents space.
    pub space: String,
    /// Where reports land.
    pub triage: String,
    /// One headline per incident.
    pub announcements: String,
    /// Finished reports.
    pub postmortems: String,
    /// The sub-space closed incidents move to.
    pub archive: String,
    /// Where reports of private types (security) land: invitation only, encrypted.
    pub private_triage: String,
    /// The group invited to the private triage room.
    pub private_triage_group: Option<String>,
}

/// `[matrix]`
#[derive(Debug, Clone)]
pub struct MatrixConfig {
    /// The homeserver's client-server API.
    pub homeserver_url: Url,
    /// The bot's own user.
    pub user_id: OwnedUserId,
    /// The bot's password, used for the first login only.
    pub password: Secret,
}

/// `[storage]`
#[derive(Debug, Clone)]
pub struct StorageConfig {
    /// The directory holding the sled database and the matrix-sdk stores.
    pub path: PathBuf,
}

/// `[http]`
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Where `/healthz` and `/metrics` listen.
    pub listen: SocketAddr,
    /// `/healthz` answers 503 once the last successful sync is older than this.
    pub unhealthy_after: Duration,
}

/// `[profile]`
#[derive(Debug, Clone)]
pub struct ProfileConfig {
    /// The display name the bot sets on itself.
    pub display_name: String,
    /// An image file (PNG, JPEG, GIF or WebP) the bot sets as its avatar.
    pub avatar: Option<PathBuf>,
}

/// `[commands]`
#[derive(Debug, Clone)]
pub struct CommandsConfig {
    /// Commands older than this when the bot first sees them (it was down) are not run.
    pub max_age: Duration,
    /// Answer in a thread on the command (otherwise as a reply).
    pub threads: bool,
}

/// `[access]`
#[derive(Debug, Clone)]
pub struct AccessConfig {
    /// Users of these servers may invite the bot and run commands.
    pub allowed_servers: Vec<OwnedServerName>,
    /// Whether the rooms' server ACLs admit servers named by IP address (`127.0.0.2:8448`).
    pub allow_ip_literals: bool,
}

impl AccessConfig {
    /// Whether `user_id` belongs to an allowed server.
    pub fn allows(&self, user_id: &matrix_sdk::ruma::UserId) -> bool {
        self.allowed_servers
            .iter()
            .any(|server| server == user_id.server_name())
    }
}
