//! What the bridge keeps of each alert and burst, their keys, and how an alert's state follows
//! what arrives. Pure: the store reads and writes these.

use serde::{Deserialize, Serialize};

use crate::alert::{Alert, AlertStatus, Source};

/// An alert as the bridge keeps it: what it is now, and what its message shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// What sent it.
    pub source: Source,
    /// The route's name.
    pub route: String,
    /// Its fingerprint.
    pub fingerprint: String,
    /// Its latest title.
    pub title: String,
    /// Its latest severity.
    pub severity: Option<brigade_core::incident::Severity>,
    /// Its latest description.
    pub body: String,
    /// Where its sender shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The status page component it names, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// How badly, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
    /// Firing or resolved.
    pub status: AlertStatus,
    /// How many times it was received in this episode (since it last started firing).
    pub count: u64,
    /// When this episode began (milliseconds since the Unix epoch): its message's identity.
    pub first_seen: u64,
    /// When it was last received.
    pub last_seen: u64,
    /// Bumped by every change.
    pub version: u64,
    /// The version its message shows.
    pub shown: u64,
    /// Its message in this episode, once posted.
    pub event_id: Option<String>,
    /// Where this episode is shown, once the outbox has decided.
    #[serde(default)]
    pub placement: Option<Placement>,
    /// Earlier episodes with a message of their own that ended (resolved) before their
    /// message showed it, oldest first; each leaves when its message is in step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ended: Vec<AlertRecord>,
}

/// Whether a webhook was accepted now, or had been already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Stored now.
    New,
    /// Its delivery was accepted before: nothing stored.
    Again,
}

/// What one pruning forgot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Forgotten {
    /// Alerts.
    pub alerts: usize,
    /// Bursts.
    pub bursts: usize,
    /// Homeserver events.
    pub events: usize,
    /// Silences made from chat.
    pub silences: usize,
}

/// Where an alert's episode is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// In a message of its own.
    Own,
    /// Counted in the burst message with this ID.
    Burst(u64),
}

/// A burst message: the alerts of one route that came when their room had had its share of
/// messages, summarised in one message edited as they change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BurstRecord {
    /// Its ID, from the engine's durable ID generator.
    pub id: u64,
    /// The route's source.
    pub source: Source,
    /// The route's name.
    pub route: String,
    /// The room it is posted in.
    pub room_id: String,
    /// When it began (milliseconds since the Unix epoch).
    pub started: u64,
    /// Bumped whenever an alert joins it or one of its alerts changes.
    pub version: u64,
    /// The version its message shows.
    pub shown: u64,
    /// Its message, once posted.
    pub event_id: Option<String>,
    /// The version the full list in its message's thread shows; `None` for a burst stored
    /// before there were lists, in step without one until it changes.
    #[serde(default)]
    pub list_shown: Option<u64>,
    /// The full list, once posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_event_id: Option<String>,
}

impl BurstRecord {
    /// Whether its message and its list both show its latest version.
    pub fn in_step(&self) -> bool {
        self.shown >= self.version && self.list_shown.is_none_or(|shown| shown >= self.version)
    }
}

/// What the outbox holds: an alert whose own message is behind, or a burst whose message is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    /// The alert with this key.
    Alert(String),
    /// The burst with this ID.
    Burst(u64),
}

impl Pending {
    /// The name an outbox entry goes by in transaction IDs and logs.
    pub fn name(&self) -> String {
        match self {
            Self::Alert(key) => key.clone(),
            Self::Burst(id) => format!("burst\u{0}{id}"),
        }
    }
}

/// The outbox key of burst `id`; alert keys start with a source's name, never with this.
pub(super) fn burst_key(id: u64) -> String {
    format!("{BURST_PREFIX}{id:020}")
}

pub(super) const BURST_PREFIX: &str = "burst\u{0}";

/// The key that records alert `key` as a member of burst `id`.
pub(super) fn member_key(id: u64, key: &str) -> Vec<u8> {
    let mut bytes = id.to_be_bytes().to_vec();
    bytes.extend_from_slice(key.as_bytes());
    bytes
}

impl AlertRecord {
    /// The store key of the alert of `source`'s route `route` with `fingerprint`.
    pub fn key(source: Source, route: &str, fingerprint: &str) -> String {
        format!("{source}\u{0}{route}\u{0}{fingerprint}")
    }

    /// This record's store key.
    pub fn own_key(&self) -> String {
        Self::key(self.source, &self.route, &self.fingerprint)
    }
}

/// The state after `alert` arrives at `now`: a repeat counts, a resolution resolves, and a
/// firing alert that had resolved starts a new episode (a new message). The episode that ends
/// so is kept until its message shows that it resolved; one that nothing showed yet (not even
/// placed) goes on instead, as if it had not resolved.
pub(super) fn next(
    previous: Option<AlertRecord>,
    source: Source,
    route: &str,
    alert: &Alert,
    now: u64,
) -> AlertRecord {
    match previous {
        Some(mut record)
            if record.status == AlertStatus::Firing
                || alert.status == AlertStatus::Resolved
                || unseen(&record) =>
        {
            if alert.status == AlertStatus::Firing {
                record.count += 1;
            }
            record.status = alert.status;
            record.title.clone_from(&alert.title);
            record.severity = alert.severity.or(record.severity);
            record.body.clone_from(&alert.body);
            record.link.clone_from(&alert.link);
            record.component.clone_from(&alert.component);
            record.impact.clone_from(&alert.impact);
            record.last_seen = now;
            record.version += 1;
            record
        }
        previous => {
            let (first_seen, ended) = match previous {
                None => (now, Vec::new()),
                Some(mut old) => {
                    let mut ended = std::mem::take(&mut old.ended);
                    // A new episode must not reuse the old one's message or transaction IDs.
                    let first_seen = now.max(old.first_seen + 1);
                    // A burst counts it resolved by itself; its own message must say so.
                    if has_own_message(&old) && old.shown < old.version {
                        ended.push(old);
                    }
                    (first_seen, ended)
                }
            };
            AlertRecord {
                source,
                route: route.to_owned(),
                fingerprint: alert.fingerprint.clone(),
                title: alert.title.clone(),
                severity: alert.severity,
                body: alert.body.clone(),
                link: alert.link.clone(),
                component: alert.component.clone(),
                impact: alert.impact.clone(),
                status: alert.status,
                count: u64::from(alert.status == AlertStatus::Firing),
                first_seen,
                last_seen: now,
                version: 1,
                shown: 0,
                event_id: None,
                placement: None,
                ended,
            }
        }
    }
}

/// Whether `record`'s episode is shown in a message of its own (stores from before placements
/// have only the message).
fn has_own_message(record: &AlertRecord) -> bool {
    match record.placement {
        Some(placement) => placement == Placement::Own,
        None => record.event_id.is_some(),
    }
}

/// Whether nothing shows `record`'s episode yet, nor will: no message, not placed.
fn unseen(record: &AlertRecord) -> bool {
    record.event_id.is_none() && record.placement.is_none()
}
