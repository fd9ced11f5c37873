//! The incident: number, severity, type, status, roles and the core timestamps, with every
//! change a method that either applies a legal change or refuses it and changes nothing.
//!
//! This is what the bot stores and mirrors into the room as `org.brigade.incident` state, and
//! what names, topics and headlines are rendered from.

use std::{collections::BTreeMap, fmt, str::FromStr};

use ruma::{OwnedEventId, OwnedRoomAliasId, OwnedRoomId, OwnedServerName, OwnedUserId, UserId};
use serde::{Deserialize, Serialize};

use crate::timeline::{Entry, Flag, Happening, Thanks};

/// `INC-N`: deployment-wide, increasing, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IncidentNumber(pub u64);

impl fmt::Display for IncidentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "INC-{}", self.0)
    }
}

/// How bad it is: SEV1 (critical) to SEV4 (minor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    /// Critical.
    #[serde(rename = "SEV1")]
    Sev1,
    /// Major.
    #[serde(rename = "SEV2")]
    Sev2,
    /// Moderate.
    #[serde(rename = "SEV3")]
    Sev3,
    /// Minor.
    #[serde(rename = "SEV4")]
    Sev4,
}

impl Severity {
    /// Every severity, most critical first.
    pub const ALL: [Self; 4] = [Self::Sev1, Self::Sev2, Self::Sev3, Self::Sev4];

    /// 1 for SEV1 … 4 for SEV4.
    pub fn level(self) -> u8 {
        match self {
            Self::Sev1 => 1,
            Self::Sev2 => 2,
            Self::Sev3 => 3,
            Self::Sev4 => 4,
        }
    }

    /// The weather of the headline, in the manner of Monzo Response.
    pub fn emoji(self) -> &'static str {
        match self {
            Self::Sev1 => "⛈️",
            Self::Sev2 => "🌧️",
            Self::Sev3 => "🌦️",
            Self::Sev4 => "🌤️",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SEV{}", self.level())
    }
}

impl FromStr for Severity {
    type Err = IncidentError;

    /// `2`, `sev2` and `SEV2` all name SEV2.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.trim().to_ascii_lowercase();
        let digits = lower.strip_prefix("sev").unwrap_or(&lower);
        Self::ALL
            .into_iter()
            .find(|severity| digits == severity.level().to_string())
            .ok_or_else(|| IncidentError::UnknownSeverity(text.to_owned()))
    }
}

/// Where an incident is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Something is wrong; the cause is not known.
    Investigating,
    /// The cause is known.
    Identified,
    /// A fix is in place and being watched (the incident is mitigated).
    Monitoring,
    /// Over; may be reopened.
    Resolved,
    /// Over for good: the postmortem is posted and the room is read-only.
    Closed,
}

impl Status {
    /// The statuses `!inc status` accepts.
    pub const SETTABLE: [Self; 4] = [
        Self::Investigating,
        Self::Identified,
        Self::Monitoring,
        Self::Resolved,
    ];

    /// The word people type and read.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Investigating => "investigating",
            Self::Identified => "identified",
            Self::Monitoring => "monitoring",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
        }
    }

    /// Whether the incident is still being worked on.
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Resolved | Self::Closed)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = IncidentError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.trim().to_ascii_lowercase();
        [
            Self::Investigating,
            Self::Identified,
            Self::Monitoring,
            Self::Resolved,
            Self::Closed,
        ]
        .into_iter()
        .find(|status| status.as_str() == lower)
        .ok_or_else(|| IncidentError::UnknownStatus(text.to_owned()))
    }
}

/// A role besides the commander's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Speaks for the incident to the rest of the organisation.
    Comms,
    /// Keeps the record.
    Scribe,
    /// Talks to partners and customers.
    Liaison,
}

impl Role {
    /// Every role, in the order they are listed.
    pub const ALL: [Self; 3] = [Self::Comms, Self::Scribe, Self::Liaison];

    /// The word people type and read.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Comms => "comms",
            Self::Scribe => "scribe",
            Self::Liaison => "liaison",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = IncidentError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|role| role.as_str() == lower)
            .ok_or_else(|| IncidentError::UnknownRole(text.to_owned()))
    }
}

/// The core timestamps of the field, in milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timestamps {
    /// When it started, as the declarer says (`--started`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<u64>,
    /// When it was declared.
    pub declared: u64,
    /// The first 👀 or first responder message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<u64>,
    /// The first time the status became `monitoring`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mitigated: Option<u64>,
    /// The last time the status became `resolved`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<u64>,
    /// When it was closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<u64>,
}

/// Why a change to an incident was refused. The messages are what people read after ❓.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IncidentError {
    /// `declare` without a title.
    #[error("an incident needs a title: `!inc declare <title>`")]
    EmptyTitle,
    /// A severity that is not 1–4.
    #[error("unknown severity `{0}`: use 1, 2, 3 or 4 (SEV1 is the most critical)")]
    UnknownSeverity(String),
    /// A status word that is not one of the statuses.
    #[error("unknown status `{0}`: use investigating, identified, monitoring or resolved")]
    UnknownStatus(String),
    /// A role word that is not one of the roles.
    #[error("unknown role `{0}`: use comms, scribe or liaison")]
    UnknownRole(String),
    /// A status change the lifecycle does not allow.
    #[error("cannot go from {from} to {to}{hint}")]
    IllegalTransition {
        /// The current status.
        from: Status,
        /// The status asked for.
        to: Status,
        /// What would work instead.
        hint: &'static str,
    },
    /// The change would change nothing.
    #[error("the incident is already {0}")]
    Unchanged(String),
    /// The incident is closed: nothing changes any more.
    #[error("the incident is closed; nothing about it changes any more")]
    Closed,
    /// A private incident cannot be shared with another server.
    #[error("a private incident cannot be shared: its room never leaves this server, and nothing said in it may")]
    PrivateNotShared,
}

/// An incident as the bot keeps it and mirrors it into `org.brigade.incident` state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// `INC-N`.
    pub number: IncidentNumber,
    /// What is wrong, in the declarer's words. Empty in the state of a private incident.
    pub title: String,
    /// How bad it is.
    pub severity: Severity,
    /// One of the configured types (`security`, `operations`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Where it is in its life.
    pub status: Status,
    /// Private incidents live in encrypted, unfederated rooms and say little in clear text.
    #[serde(default)]
    pub private: bool,
    /// The one person in command.
    pub commander: OwnedUserId,
    /// Comms, scribe and liaison, when assigned.
    #[serde(default)]
    pub roles: BTreeMap<Role, OwnedUserId>,
    /// The current understanding, shown in the pinned summary and the topic.
    #[serde(default)]
    pub summary: String,
    /// The core timestamps.
    pub timestamps: Timestamps,
    /// What happened, oldest first: declaration, changes, pages, updates, follow-ups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<Entry>,
    /// The private room this incident went on in (`!inc private`); this room keeps the pointer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continued_in: Option<OwnedRoomAliasId>,
    /// The room it is shared in with partner organisations (`!inc share`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared: Option<Shared>,
    /// The alert it was declared for, when the bot declared it for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<AlertOrigin>,
}

/// The alert message an incident was declared for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertOrigin {
    /// The alert room.
    pub room_id: OwnedRoomId,
    /// The alert's message.
    pub event_id: OwnedEventId,
    /// Which alert: source, route and fingerprint.
    pub alert: String,
}

/// Where an incident is shared with partner organisations (SPEC §7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shared {
    /// The shared room.
    pub room_id: OwnedRoomId,
    /// The partner servers its server ACL admits besides ours, in the order they were added.
    pub servers: Vec<OwnedServerName>,
}

/// A status update: what people outside the room are told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Update {
    /// When it was posted, in milliseconds since the Unix epoch.
    pub at: u64,
    /// Who posted it.
    pub author: OwnedUserId,
    /// What it says.
    pub text: String,
}

/// What a declaration says.
#[derive(Debug, Clone)]
pub struct Declaration {
    /// The title.
    pub title: String,
    /// The severity.
    pub severity: Severity,
    /// The type.
    pub kind: String,
    /// Whether it is private.
    pub private: bool,
    /// Who declared it (the first commander).
    pub declarer: OwnedUserId,
    /// When it started, if the declarer said.
    pub started: Option<u64>,
    /// The alert it is declared for, if any.
    pub alert: Option<AlertOrigin>,
}

/// An incident with where it lives in Matrix: what the bot stores, keyed by room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentRecord {
    /// The incident.
    pub incident: Incident,
    /// Its room.
    pub room_id: OwnedRoomId,
    /// The room's alias.
    pub alias: OwnedRoomAliasId,
    /// The pinned summary message, edited in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_event: Option<OwnedEventId>,
    /// The headline in the announcements room, edited in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headline_event: Option<OwnedEventId>,
    /// The summary pinned in the shared partner room, once posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_summary_event: Option<OwnedEventId>,
    /// Pages sent in the room: 👀 on one of them acknowledges the incident.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<OwnedEventId>,
    /// The due time of the last reminder sent, so each due time is reminded once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminded_for: Option<u64>,
    /// Counts the changes people can see; the room is brought in step with each version.
    #[serde(default)]
    pub version: u64,
    /// The latest events (commands, reactions) whose change this record holds, with what was
    /// said about each: an event finished again after a crash is answered the same, not
    /// applied twice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied: Vec<Applied>,
    /// Messages flagged for the timeline.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<Flag>,
    /// 🙏 and 🎉 on people's messages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thanks: Vec<Thanks>,
    /// The routes (by their `!inc page` argument) already suggested or paged for this incident.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routed: Vec<String>,
}

/// An event whose change is stored, and the answer it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    /// The command or reaction.
    pub cause: OwnedEventId,
    /// What the bot said about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
}

/// How many applied events a record remembers: far more than can be in flight at a crash.
const APPLIED_KEPT: usize = 32;

impl IncidentRecord {
    /// A just-declared incident in `room_id`, nothing posted about it yet.
    pub fn new(incident: Incident, room_id: OwnedRoomId, alias: OwnedRoomAliasId) -> Self {
        Self {
            incident,
            room_id,
            alias,
            summary_event: None,
            headline_event: None,
            shared_summary_event: None,
            pages: Vec::new(),
            reminded_for: None,
            version: 1,
            applied: Vec::new(),
            flags: Vec::new(),
            thanks: Vec::new(),
            routed: Vec::new(),
        }
    }

    /// The stored change of `cause`, if this record holds it.
    pub fn applied(&self, cause: &ruma::EventId) -> Option<&Applied> {
        self.applied.iter().find(|applied| applied.cause == cause)
    }

    /// A new version holding the change of `cause`, which was answered with `answer`.
    pub fn next_version(&mut self, cause: &ruma::EventId, answer: Option<String>) {
        self.version += 1;
        self.applied.push(Applied {
            cause: cause.to_owned(),
            answer,
        });
        let excess = self.applied.len().saturating_sub(APPLIED_KEPT);
        self.applied.drain(..excess);
    }

    /// Whether 👀 on `event_id` acknowledges the incident.
    pub fn acknowledges(&self, event_id: &ruma::EventId) -> bool {
        self.summary_event.as_deref() == Some(event_id)
            || self.pages.iter().any(|page| page == event_id)
    }
}

impl Incident {
    /// A new incident from `declaration`, declared at `now`.
    pub fn declare(
        number: IncidentNumber,
        declaration: Declaration,
        now: u64,
    ) -> Result<Self, IncidentError> {
        let title = declaration.title.trim().to_owned();
        if title.is_empty() {
            return Err(IncidentError::EmptyTitle);
        }
        let declared = Entry {
            at: now,
            by: declaration.declarer.clone(),
            what: Happening::Declared {
                severity: declaration.severity,
            },
        };
        Ok(Self {
            number,
            title,
            severity: declaration.severity,
            kind: declaration.kind,
            status: Status::Investigating,
            private: declaration.private,
            commander: declaration.declarer,
            roles: BTreeMap::new(),
            summary: String::new(),
            timestamps: Timestamps {
                started: declaration.started,
                declared: now,
                ..Timestamps::default()
            },
            timeline: vec![declared],
            continued_in: None,
            shared: None,
            alert: declaration.alert,
        })
    }

    /// Adds an automatic entry to the timeline.
    pub fn log(&mut self, at: u64, by: &UserId, what: Happening) {
        self.timeline.push(Entry {
            at,
            by: by.to_owned(),
            what,
        });
    }

    /// Moves to `to` at `now` for `by`, or refuses an illegal move and changes nothing.
    pub fn set_status(&mut self, to: Status, now: u64, by: &UserId) -> Result<(), IncidentError> {
        let from = self.status;
        if from == Status::Closed {
            return Err(IncidentError::Closed);
        }
        if from == to {
            return Err(IncidentError::Unchanged(to.to_string()));
        }
        // The one place the lifecycle's rules live: what is refused, with what would work.
        let refusal = match (from, to) {
            (Status::Resolved, Status::Investigating | Status::Closed) => None,
            (Status::Resolved, _) => Some(": reopen it first with `!inc reopen`"),
            (_, Status::Closed) => Some(": resolve it first with `!inc status resolved`"),
            _ => None,
        };
        if let Some(hint) = refusal {
            return Err(IncidentError::IllegalTransition { from, to, hint });
        }
        self.status = to;
        let stamps = &mut self.timestamps;
        match to {
            Status::Monitoring => {
                stamps.mitigated.get_or_insert(now);
            }
            Status::Resolved => stamps.resolved = Some(now),
            Status::Closed => stamps.closed = Some(now),
            Status::Investigating if from == Status::Resolved => stamps.resolved = None,
            Status::Investigating | Status::Identified => {}
        }
        self.log(now, by, Happening::Status { from, to });
        Ok(())
    }

    /// Sets the severity, or refuses a change to nothing.
    pub fn set_severity(
        &mut self,
        severity: Severity,
        now: u64,
        by: &UserId,
    ) -> Result<(), IncidentError> {
        self.ensure_not_closed()?;
        if self.severity == severity {
            return Err(IncidentError::Unchanged(severity.to_string()));
        }
        let from = std::mem::replace(&mut self.severity, severity);
        self.log(now, by, Happening::Severity { from, to: severity });
        Ok(())
    }

    /// Hands command to `user`; returns the previous commander.
    pub fn set_commander(
        &mut self,
        user: OwnedUserId,
        now: u64,
        by: &UserId,
    ) -> Result<OwnedUserId, IncidentError> {
        self.ensure_not_closed()?;
        if self.commander == user {
            return Err(IncidentError::Unchanged(format!("commanded by {user}")));
        }
        let from = std::mem::replace(&mut self.commander, user.clone());
        let what = Happening::Commander {
            from: from.clone(),
            to: user,
        };
        self.log(now, by, what);
        Ok(from)
    }

    /// Gives `role` to `user`; returns who had it before.
    pub fn assign(
        &mut self,
        role: Role,
        user: OwnedUserId,
        now: u64,
        by: &UserId,
    ) -> Result<Option<OwnedUserId>, IncidentError> {
        self.ensure_not_closed()?;
        if self.roles.get(&role) == Some(&user) {
            return Err(IncidentError::Unchanged(format!("{role}: {user}")));
        }
        self.log(
            now,
            by,
            Happening::Role {
                role,
                to: user.clone(),
            },
        );
        Ok(self.roles.insert(role, user))
    }

    /// Records the first acknowledgement, by `by`; later ones change nothing. True when this
    /// was the first.
    pub fn acknowledge(&mut self, now: u64, by: &UserId) -> bool {
        if self.timestamps.acknowledged.is_some() {
            return false;
        }
        self.timestamps.acknowledged = Some(now);
        self.log(now, by, Happening::Acknowledged);
        true
    }

    /// Records a status update.
    pub fn add_update(&mut self, update: Update) -> Result<(), IncidentError> {
        self.ensure_not_closed()?;
        self.log(
            update.at,
            &update.author,
            Happening::Update { text: update.text },
        );
        Ok(())
    }

    /// Shares the incident with `server` in `room_id` (the shared room, made for the first
    /// partner). False when it is shared with `server` already.
    pub fn share(
        &mut self,
        room_id: OwnedRoomId,
        server: OwnedServerName,
        now: u64,
        by: &UserId,
    ) -> Result<bool, IncidentError> {
        if self.private {
            return Err(IncidentError::PrivateNotShared);
        }
        self.ensure_not_closed()?;
        let shared = self.shared.get_or_insert_with(|| Shared {
            room_id,
            servers: Vec::new(),
        });
        if shared.servers.contains(&server) {
            return Ok(false);
        }
        shared.servers.push(server.clone());
        self.log(now, by, Happening::Shared { server });
        Ok(true)
    }

    /// Records a follow-up: work for after the incident, closed or not.
    pub fn add_followup(
        &mut self,
        text: String,
        owner: Option<OwnedUserId>,
        now: u64,
        by: &UserId,
    ) {
        self.log(now, by, Happening::Followup { text, owner });
    }

    /// The status updates, oldest first.
    pub fn updates(&self) -> Vec<Update> {
        self.timeline
            .iter()
            .filter_map(|entry| match &entry.what {
                Happening::Update { text } => Some(Update {
                    at: entry.at,
                    author: entry.by.clone(),
                    text: text.clone(),
                }),
                _ => None,
            })
            .collect()
    }

    /// When the next status update is due, if one is due at all: `every` after the last update
    /// (or the declaration), while the incident is open, not yet mitigated and not continued in a
    /// private room.
    pub fn update_due(&self, every: Option<std::time::Duration>) -> Option<u64> {
        let every = u64::try_from(every?.as_millis()).ok()?;
        if self.continued_in.is_some()
            || !matches!(self.status, Status::Investigating | Status::Identified)
        {
            return None;
        }
        let last = self
            .updates()
            .last()
            .map_or(self.timestamps.declared, |update| update.at);
        Some(last.saturating_add(every))
    }

    /// Whether `user` holds any role (commander included).
    pub fn has_role(&self, user: &UserId) -> bool {
        self.commander == user || self.roles.values().any(|holder| holder == user)
    }

    fn ensure_not_closed(&self) -> Result<(), IncidentError> {
        if self.status == Status::Closed {
            return Err(IncidentError::Closed);
        }
        Ok(())
    }

    /// The room name: `🔥 INC-42 · SEV2 · Checkout latency`; `✅` once resolved; private
    /// incidents show no title: `🔒 INC-42 · SEV2`.
    pub fn room_name(&self) -> String {
        if self.private {
            return format!("🔒 {} · {}", self.number, self.severity);
        }
        let mark = if self.status.is_open() { "🔥" } else { "✅" };
        format!(
            "{mark} {} · {} · {}",
            self.number, self.severity, self.title
        )
    }

    /// The topic: `🚑 @commander · SEV2 · investigating · <summary>`; private incidents leave
    /// the summary out (state is not encrypted).
    pub fn topic(&self) -> String {
        let mut topic = format!(
            "🚑 {} · {} · {}",
            self.commander, self.severity, self.status
        );
        let summary = self.summary.lines().next().unwrap_or_default().trim();
        if !self.private && !summary.is_empty() {
            topic.push_str(" · ");
            topic.push_str(summary);
        }
        topic
    }

    /// What the room's `org.brigade.incident` state shows. Room state is not encrypted: a
    /// private incident's state leaves out the title, the summary and the timeline, which live
    /// only in the room's encrypted messages (and the bot's store).
    pub fn in_state(&self) -> Self {
        let mut shown = self.clone();
        if self.private {
            shown.title.clear();
            shown.summary.clear();
            shown.timeline.clear();
        }
        shown
    }

    /// The localpart of the room alias: `inc-YYYYMMDD-N-slug` (`inc-YYYYMMDD-N` when private).
    pub fn alias_localpart(&self, date_yyyymmdd: &str) -> String {
        let base = format!("inc-{date_yyyymmdd}-{}", self.number.0);
        let slug = slug(&self.title);
        if self.private || slug.is_empty() {
            base
        } else {
            format!("{base}-{slug}")
        }
    }
}

/// The title in lower-case ASCII words joined by hyphens, at most 40 characters, cut at a word.
pub fn slug(title: &str) -> String {
    const MAX: usize = 40;
    let mut slug = String::new();
    let words = title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_ascii_lowercase);
    for word in words {
        let needed = if slug.is_empty() {
            word.len()
        } else {
            word.len() + 1
        };
        if slug.len() + needed > MAX {
            if slug.is_empty() {
                slug.push_str(&word[..MAX]);
            }
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word);
    }
    slug
}

#[cfg(test)]
mod tests {
    use ruma::owned_user_id;

    use super::*;

    fn incident() -> Incident {
        crate::testing::record(42, "  Checkout latency ", Severity::Sev2, 1_000).incident
    }

    #[test]
    fn severities_parse_from_digits_and_names() {
        assert_eq!("2".parse::<Severity>(), Ok(Severity::Sev2));
        assert_eq!("sev1".parse::<Severity>(), Ok(Severity::Sev1));
        assert_eq!("SEV4".parse::<Severity>(), Ok(Severity::Sev4));
        assert!(matches!(
            "5".parse::<Severity>(),
            Err(IncidentError::UnknownSeverity(_))
        ));
        assert!(matches!(
            "sev".parse::<Severity>(),
            Err(IncidentError::UnknownSeverity(_))
        ));
    }

    #[test]
    fn declaring_needs_a_title() {
        let declaration = Declaration {
            title: "   ".to_owned(),
            severity: Severity::Sev3,
            kind: "operations".to_owned(),
            private: false,
            declarer: owned_user_id!("@alice:example.org"),
            started: None,
            alert: None,
        };
        let declared = Incident::declare(IncidentNumber(1), declaration, 0);
        assert_eq!(declared, Err(IncidentError::EmptyTitle));
    }

    #[test]
    fn lifecycle_stamps_mitigated_and_resolved() {
        let mut incident = incident();
        incident
            .set_status(
                Status::Identified,
                2_000,
                ruma::user_id!("@alice:example.org"),
            )
            .expect("identified");
        incident
            .set_status(
                Status::Monitoring,
                3_000,
                ruma::user_id!("@alice:example.org"),
            )
            .expect("monitoring");
        incident
            .set_status(
                Status::Investigating,
                4_000,
                ruma::user_id!("@alice:example.org"),
            )
            .expect("back to investigating");
        incident
            .set_status(
                Status::Monitoring,
                5_000,
                ruma::user_id!("@alice:example.org"),
            )
            .expect("monitoring again");
        incident
            .set_status(
                Status::Resolved,
                6_000,
                ruma::user_id!("@alice:example.org"),
            )
            .expect("resolved");
        assert_eq!(
            incident.timestamps.mitigated,
            Some(3_000),
            "the first mitigation counts"
        );
        assert_eq!(incident.timestamps.resolved, Some(6_000));
        incident
            .set_status(Status::Closed, 7_000, ruma::user_id!("@alice:example.org"))
            .expect("closed");
        assert_eq!(incident.timestamps.closed, Some(7_000));
    }

    #[test]
    fn resolved_goes_only_back_to_investigating_or_to_closed() {
        let mut incident = incident();
        incident
            .set_status(
                Status::Resolved,
                2_000,
                ruma::user_id!("@alice:example.org"),
            )
            .expect("resolved");
        let refused = incident.clone().set_status(
            Status::Identified,
            3_000,
            ruma::user_id!("@alice:example.org"),
        );
        assert!(matches!(
            refused,
            Err(IncidentError::IllegalTransition { .. })
        ));
        assert!(refused
            .expect_err("refused")
            .to_string()
            .contains("!inc reopen"));
        incident
            .set_status(
                Status::Investigating,
                3_000,
                ruma::user_id!("@alice:example.org"),
            )
            .expect("reopened");
        assert_eq!(incident.timestamps.resolved, None);
    }

    #[test]
    fn closing_needs_resolved_and_is_final() {
        let mut incident = incident();
        let refused =
            incident.set_status(Status::Closed, 2_000, ruma::user_id!("@alice:example.org"));
        assert!(refused
            .expect_err("refused")
            .to_string()
            .contains("resolve it first"));
        assert_eq!(
            incident.status,
            Status::Investigating,
            "a refusal changes nothing"
        );
        incident
            .set_status(
                Status::Resolved,
                2_000,
                ruma::user_id!("@alice:example.org"),
            )
            .expect("resolved");
        incident
            .set_status(Status::Closed, 3_000, ruma::user_id!("@alice:example.org"))
            .expect("closed");
        assert_eq!(
            incident.set_status(
                Status::Investigating,
                4_000,
                ruma::user_id!("@alice:example.org")
            ),
            Err(IncidentError::Closed)
        );
        assert_eq!(
            incident.set_severity(Severity::Sev1, 1, ruma::user_id!("@alice:example.org")),
            Err(IncidentError::Closed)
        );
    }

    #[test]
    fn same_status_or_severity_is_refused_as_unchanged() {
        let mut incident = incident();
        assert!(matches!(
            incident.set_status(
                Status::Investigating,
                1,
                ruma::user_id!("@alice:example.org")
            ),
            Err(IncidentError::Unchanged(_))
        ));
        assert!(matches!(
            incident.set_severity(Severity::Sev2, 1, ruma::user_id!("@alice:example.org")),
            Err(IncidentError::Unchanged(_))
        ));
    }

    #[test]
    fn handoff_returns_the_previous_commander() {
        let mut incident = incident();
        let previous = incident
            .set_commander(
                owned_user_id!("@bob:example.org"),
                1,
                ruma::user_id!("@alice:example.org"),
            )
            .expect("handoff");
        assert_eq!(previous, owned_user_id!("@alice:example.org"));
        assert!(incident.has_role(ruma::user_id!("@bob:example.org")));
        assert!(!incident.has_role(ruma::user_id!("@alice:example.org")));
    }

    #[test]
    fn only_the_first_acknowledgement_counts() {
        let mut incident = incident();
        assert!(incident.acknowledge(5, ruma::user_id!("@bob:example.org")));
        assert!(!incident.acknowledge(9, ruma::user_id!("@bob:example.org")));
        assert_eq!(incident.timestamps.acknowledged, Some(5));
    }

    #[test]
    fn names_topics_and_aliases_follow_the_standard() {
        let mut incident = incident();
        incident.summary = "Payments time out\nmore detail".to_owned();
        assert_eq!(incident.room_name(), "🔥 INC-42 · SEV2 · Checkout latency");
        assert_eq!(
            incident.topic(),
            "🚑 @alice:example.org · SEV2 · investigating · Payments time out"
        );
        assert_eq!(
            incident.alias_localpart("20261128"),
            "inc-20261128-42-checkout-latency"
        );
        incident
            .set_status(Status::Resolved, 2, ruma::user_id!("@alice:example.org"))
            .expect("resolved");
        assert_eq!(incident.room_name(), "✅ INC-42 · SEV2 · Checkout latency");

        assert_eq!(incident.in_state(), incident, "an open incident shows all");

        incident.private = true;
        let state = incident.in_state();
        assert!(state.title.is_empty() && state.summary.is_empty() && state.timeline.is_empty());
        assert_eq!(
            (state.number, state.status),
            (incident.number, incident.status)
        );
        assert_eq!(incident.room_name(), "🔒 INC-42 · SEV2");
        assert_eq!(incident.topic(), "🚑 @alice:example.org · SEV2 · resolved");
        assert_eq!(incident.alias_localpart("20261128"), "inc-20261128-42");
    }

    #[test]
    fn sharing_adds_each_partner_once_and_never_a_private_incident() {
        let alice = ruma::user_id!("@alice:example.org");
        let room = ruma::owned_room_id!("!shared:example.org");
        let acme = ruma::owned_server_name!("acme.example");
        let mut incident = incident();
        assert_eq!(
            incident.share(room.clone(), acme.clone(), 2, alice),
            Ok(true)
        );
        assert_eq!(
            incident.share(room.clone(), acme.clone(), 3, alice),
            Ok(false)
        );
        let globex = ruma::owned_server_name!("globex.example");
        assert_eq!(
            incident.share(room.clone(), globex.clone(), 4, alice),
            Ok(true)
        );
        let shared = incident.shared.clone().expect("shared");
        assert_eq!(
            (shared.room_id, shared.servers),
            (room.clone(), vec![acme.clone(), globex])
        );
        let logged = incident
            .timeline
            .iter()
            .filter(|entry| matches!(entry.what, Happening::Shared { .. }))
            .count();
        assert_eq!(logged, 2, "one entry per partner");

        let mut private = self::incident();
        private.private = true;
        assert_eq!(
            private.share(room, acme, 2, alice),
            Err(IncidentError::PrivateNotShared)
        );
        assert!(private.shared.is_none());
    }

    #[test]
    fn updates_fall_due_after_the_last_one_until_mitigated() {
        let hour = std::time::Duration::from_secs(3_600);
        let mut incident = incident();
        assert_eq!(incident.update_due(None), None, "no reminders configured");
        assert_eq!(incident.update_due(Some(hour)), Some(1_000 + 3_600_000));
        incident
            .add_update(Update {
                at: 5_000,
                author: owned_user_id!("@alice:example.org"),
                text: "rolled back".to_owned(),
            })
            .expect("update");
        assert_eq!(incident.update_due(Some(hour)), Some(5_000 + 3_600_000));
        incident
            .set_status(
                Status::Monitoring,
                6_000,
                ruma::user_id!("@alice:example.org"),
            )
            .expect("monitoring");
        assert_eq!(incident.update_due(Some(hour)), None, "mitigated");
    }

    #[test]
    fn slugs_are_short_lowercase_ascii() {
        assert_eq!(slug("Checkout latency > 5s!"), "checkout-latency-5s");
        assert_eq!(slug("Ünïcode only ✨"), "n-code-only");
        assert_eq!(
            slug("The quick brown fox jumps over the lazy dog again"),
            "the-quick-brown-fox-jumps-over-the-lazy"
        );
        assert_eq!(slug(&"a".repeat(50)), "a".repeat(40));
        assert_eq!(slug("🔥🔥"), "");
    }

    #[test]
    fn incident_state_round_trips_through_json() {
        let mut incident = incident();
        incident
            .assign(
                Role::Scribe,
                owned_user_id!("@sam:example.org"),
                1,
                ruma::user_id!("@alice:example.org"),
            )
            .expect("assign");
        let json = serde_json::to_value(&incident).expect("serialize");
        assert_eq!(json["severity"], "SEV2");
        assert_eq!(json["type"], "operations");
        assert_eq!(json["roles"]["scribe"], "@sam:example.org");
        let back: Incident = serde_json::from_value(json).expect("deserialize");
        assert_eq!(back, incident);
    }
}
