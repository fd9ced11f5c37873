//! The words incidents are described in: the number, severity, status and roles, the core
//! timestamps and the durations derived from them, and why a change is refused. Shared by the
//! incident, its timeline and its record, and importing none of them.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

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

/// How badly an incident affects a component, least first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    /// Working, but slower or worse than usual.
    Degraded,
    /// Failing for some people or some of its work.
    Partial,
    /// Down.
    Major,
}

impl Impact {
    /// Every impact, least first, as `!inc affects` takes them.
    pub const ALL: [Self; 3] = [Self::Degraded, Self::Partial, Self::Major];

    /// The word `!inc affects` takes.
    pub fn word(self) -> &'static str {
        match self {
            Self::Degraded => "degraded",
            Self::Partial => "partial",
            Self::Major => "major",
        }
    }

    /// What people read on the status page.
    pub fn label(self) -> &'static str {
        match self {
            Self::Degraded => "Degraded performance",
            Self::Partial => "Partial outage",
            Self::Major => "Major outage",
        }
    }

    /// The component status of the common status-page APIs (Atlassian Statuspage's).
    pub fn api_status(self) -> &'static str {
        match self {
            Self::Degraded => "degraded_performance",
            Self::Partial => "partial_outage",
            Self::Major => "major_outage",
        }
    }
}

impl fmt::Display for Impact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Impact {
    type Err = IncidentError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|impact| impact.word() == lower)
            .ok_or_else(|| IncidentError::UnknownImpact(text.to_owned()))
    }
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
    /// A private incident never appears on the status page.
    #[error(
        "a private incident is never on the status page: nothing said in it may leave its room"
    )]
    PrivateNotPublished,
    /// What the status page shows of an incident changes only while it is ongoing.
    #[error("the incident is {0}: what the status page shows of it no longer changes (reopen it with `!inc reopen`)")]
    NotOngoing(Status),
    /// An impact word that is not one of the impacts.
    #[error("unknown impact `{0}`: use degraded, partial or major (or none, when it is no longer affected)")]
    UnknownImpact(String),
}

/// The durations of the field, in milliseconds, from the core timestamps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Durations {
    /// From the start (or the declaration) to the first acknowledgement.
    pub to_acknowledge: Option<u64>,
    /// From the start (or the declaration) to mitigation.
    pub to_mitigate: Option<u64>,
    /// From the start (or the declaration) to resolution.
    pub to_resolve: Option<u64>,
}

impl Timestamps {
    /// When the incident began as far as durations go: its start when given, else its
    /// declaration.
    pub fn origin(&self) -> u64 {
        self.started.unwrap_or(self.declared).min(self.declared)
    }

    /// Each core moment by name, in the order they come, those not reached yet `None`.
    pub fn moments(&self) -> [(&'static str, Option<u64>); 6] {
        [
            ("started", self.started),
            ("declared", Some(self.declared)),
            ("acknowledged", self.acknowledged),
            ("mitigated", self.mitigated),
            ("resolved", self.resolved),
            ("closed", self.closed),
        ]
    }

    /// Time to acknowledge, to mitigate and to resolve.
    pub fn durations(&self) -> Durations {
        let since = |at: Option<u64>| at.map(|at| at.saturating_sub(self.origin()));
        Durations {
            to_acknowledge: since(self.acknowledged),
            to_mitigate: since(self.mitigated),
            to_resolve: since(self.resolved),
        }
    }
}
