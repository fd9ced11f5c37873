//! What the bridge tells the bot about an alert: `org.brigade.alert` in the content of the
//! alert's message (and of each edit), posted by one of the bridge's virtual users.

use serde::{Deserialize, Serialize};

use crate::incident::Severity;

/// The key of [`AlertContent`] in a message's content.
pub const ALERT_KEY: &str = "org.brigade.alert";

/// Every user the bridge posts as starts with this, on the bridge's homeserver; its
/// registration claims them all, so nobody else can post as one.
pub const VIRTUAL_USER_PREFIX: &str = "alert_";

/// Whether an alert is still going on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    /// It fires.
    Firing,
    /// It stopped.
    Resolved,
}

/// An alert as its message shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertContent {
    /// What sent it: `alertmanager`, `grafana`, `pagerduty`, `generic`.
    pub source: String,
    /// The route's name.
    pub route: String,
    /// What identifies it across repeats.
    pub fingerprint: String,
    /// Firing or resolved.
    pub status: AlertStatus,
    /// How bad, when the source says.
    pub severity: Option<Severity>,
    /// One line.
    pub title: String,
    /// How many times it was received since it began firing.
    pub count: u64,
    /// When it began firing (milliseconds since the Unix epoch).
    pub first_seen: u64,
    /// When it was last received.
    pub last_seen: u64,
    /// Whether its route asks the bot to declare an incident for it.
    pub auto_declare: bool,
}

impl AlertContent {
    /// What names this alert across its messages and edits: source, route and fingerprint.
    pub fn identity(&self) -> String {
        format!("{}/{}/{}", self.source, self.route, self.fingerprint)
    }

    /// Whether it calls for an incident now: its route asks and it fires.
    pub fn calls_for_incident(&self) -> bool {
        self.auto_declare && self.status == AlertStatus::Firing
    }
}
