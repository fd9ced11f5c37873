//! What the webhooks of every source become: alerts, and the sources that send them; why a
//! request or a payload is refused. Pure: each source's reading and proof live in
//! [`crate::hooks`].

use std::fmt;

use brigade_core::incident::Severity;
use serde::{Deserialize, Serialize};

/// What sends alerts to a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Prometheus Alertmanager, webhook version 4.
    Alertmanager,
    /// Grafana alerting.
    Grafana,
    /// PagerDuty webhooks v3.
    Pagerduty,
    /// Brigade's own signed JSON.
    Generic,
}

impl Source {
    /// Every source, as routes name them.
    pub const ALL: [Self; 4] = [
        Self::Alertmanager,
        Self::Grafana,
        Self::Pagerduty,
        Self::Generic,
    ];

    /// The name in `/hooks/<source>/…` and in the virtual user `@alert_<source>`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Alertmanager => "alertmanager",
            Self::Grafana => "grafana",
            Self::Pagerduty => "pagerduty",
            Self::Generic => "generic",
        }
    }

    /// The display name of its virtual user.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Alertmanager => "Alertmanager",
            Self::Grafana => "Grafana",
            Self::Pagerduty => "PagerDuty",
            Self::Generic => "Alerts",
        }
    }

    /// The source named `name` in a URL.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|source| source.name() == name)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

pub use brigade_core::events::AlertStatus;

/// One alert, whatever sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// What identifies it across repeats.
    pub fingerprint: String,
    /// Firing or resolved.
    pub status: AlertStatus,
    /// One line.
    pub title: String,
    /// How bad, when the source says.
    pub severity: Option<Severity>,
    /// More, when the source says.
    pub body: String,
    /// Where the sender shows it (Alertmanager's and Grafana's `generatorURL`, PagerDuty's
    /// incident page, the generic `url`): the full text when the message is cut.
    pub link: Option<String>,
    /// The status page component it names (a `component` label or field), as written: the
    /// bot reads it against its page.
    pub component: Option<String>,
    /// How badly (an `impact` label or field), as written.
    pub impact: Option<String>,
}

/// The longest component or impact kept with an alert, in characters.
const MAX_LABEL_CHARS: usize = 128;

/// A label's `value` as an alert carries it: trimmed, at most [`MAX_LABEL_CHARS`], none when
/// empty.
pub fn label(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.chars().take(MAX_LABEL_CHARS).collect())
}

/// The longest link kept with an alert, in bytes.
const MAX_LINK_BYTES: usize = 1_024;

/// The longest fingerprint kept as it is; a longer one is replaced by its SHA-256.
const MAX_FINGERPRINT_CHARS: usize = 256;

/// `text` as an alert's link: an absolute `http(s)` URL of at most [`MAX_LINK_BYTES`],
/// normalised (so nothing in it needs escaping beyond HTML's `&`).
pub fn link(text: &str) -> Option<String> {
    let url = url::Url::parse(text).ok()?;
    let url = String::from(url);
    (url.starts_with("https://") || url.starts_with("http://"))
        .then_some(url)
        .filter(|url| url.len() <= MAX_LINK_BYTES)
}

/// `fingerprint`, or its SHA-256 (hex) when it is too long to show.
pub fn bounded_fingerprint(fingerprint: String) -> String {
    use sha2::Digest;
    if fingerprint.chars().count() <= MAX_FINGERPRINT_CHARS {
        return fingerprint;
    }
    hex::encode(sha2::Sha256::digest(fingerprint.as_bytes()))
}

/// Why a payload is not one the route takes: answered 400 with this text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PayloadError(String);

impl PayloadError {
    /// A payload refused, saying why.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }
}

/// How far a signed request's time may be from the bridge's clock, either way, when the
/// sender stamps each request (the generic source's `X-Brigade-Timestamp`): older is a replay
/// (or held up too long), newer a sender's clock that is off.
pub const REPLAY_WINDOW_MILLIS: u64 = 5 * 60 * 1000;

/// The same when the sender signs the time of the event and retries with it (PagerDuty's
/// `event.occurred_at`): its retries after an outage of the bridge must still be taken.
pub const EVENT_WINDOW_MILLIS: u64 = 24 * 60 * 60 * 1000;

/// One signed request, as its sender made it: accepted once, within its window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// What names it: its signature, or the sender's event ID.
    pub id: String,
    /// When the sender made it (milliseconds since the Unix epoch).
    pub at_millis: u64,
    /// How far from the bridge's clock its time may be.
    pub window_millis: u64,
}

impl Delivery {
    /// The delivery `id` made at `at_millis`, if that is within `window_millis` of
    /// `now_millis` ([`REPLAY_WINDOW_MILLIS`] or [`EVENT_WINDOW_MILLIS`]).
    pub fn fresh(
        id: String,
        at_millis: u64,
        now_millis: u64,
        window_millis: u64,
    ) -> Result<Self, AuthError> {
        if at_millis.abs_diff(now_millis) > window_millis {
            return Err(AuthError(if window_millis == EVENT_WINDOW_MILLIS {
                "the event's time is more than a day from the bridge's clock: a replay, or a clock that is off"
            } else {
                "the request's time is more than 5 minutes from the bridge's clock: a replay, or a clock that is off"
            }));
        }
        Ok(Self {
            id,
            at_millis,
            window_millis,
        })
    }

    /// Until when a replay of it could still be fresh: it must be remembered until then.
    pub fn fresh_until(&self) -> u64 {
        self.at_millis.saturating_add(self.window_millis)
    }
}

/// Why a request is not let in: answered 401 with this text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AuthError(pub &'static str);

/// `critical` and friends as severities; `SEV2` and `2` as themselves.
pub fn severity_word(word: &str) -> Option<Severity> {
    match word.trim().to_ascii_lowercase().as_str() {
        "critical" | "page" | "p1" | "emergency" => Some(Severity::Sev1),
        "error" | "major" | "high" | "p2" => Some(Severity::Sev2),
        "warning" | "minor" | "medium" | "p3" => Some(Severity::Sev3),
        "info" | "low" | "p4" | "p5" => Some(Severity::Sev4),
        other => other.parse().ok(),
    }
}
