//! Brigade's own Matrix event types and content keys, all namespaced `org.brigade.*`, with
//! their contents (SPEC §1): what the bot, the bridge and any other client read and write.
//!
//! - `org.brigade.incident`: the state event (state key `""`) that mirrors an incident into its
//!   room; its content is [`crate::incident::Incident::in_state`].
//! - `org.brigade.alert`: in the content of an alert's message (and of each edit), posted by one
//!   of the bridge's virtual users: [`AlertContent`].
//! - `org.brigade.alert_burst`: in a burst message's content, the counts: [`BurstContent`].
//! - `org.brigade.alert_burst_list`: in the content of a burst's full list (in a thread under
//!   the burst's message), which burst it is of: [`BurstListContent`].
//! - `org.brigade.forwarded`: in a forwarded copy's content, where it came from
//!   (`{"room_id", "event_id"}` of the original).
//! - `org.brigade.followup`: in the content of the bot's answer to `!inc followup`, what the
//!   bridge needs to open its ticket: [`FollowupContent`].
//! - `org.brigade.ticket`: in the content of the bridge's messages about a follow-up's ticket
//!   (opened, closed, reopened): [`TicketContent`].

use serde::{Deserialize, Serialize};

use crate::incident::Severity;

/// The state event type that mirrors an incident into its room.
pub const INCIDENT_STATE: &str = "org.brigade.incident";

/// The state event type that holds a page of an incident's timeline in its room, by state key
/// `0`, `1`, …: the incident's own state stays small however long the incident runs.
pub const TIMELINE_STATE: &str = "org.brigade.incident.timeline";

/// The content key that marks a forwarded copy: a copy is never forwarded again.
pub const FORWARDED_KEY: &str = "org.brigade.forwarded";

/// The key of [`BurstContent`] in a burst message's content.
pub const BURST_KEY: &str = "org.brigade.alert_burst";

/// The counts a burst message carries: the alerts of one route summarised in one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BurstContent {
    /// The route's source.
    pub source: String,
    /// The route's name.
    pub route: String,
    /// How many alerts it counts.
    pub alerts: usize,
    /// How many of them fire.
    pub firing: usize,
    /// How many resolved.
    pub resolved: usize,
    /// How many times its alerts were received.
    pub received: u64,
    /// The worst severity of those that fire.
    pub severity: Option<Severity>,
    /// When it began (milliseconds since the Unix epoch).
    pub started: u64,
    /// When one of its alerts was last received.
    pub last_seen: u64,
}

/// The key of [`BurstListContent`] in the content of a burst's full list, posted in a thread
/// under the burst's message.
pub const BURST_LIST_KEY: &str = "org.brigade.alert_burst_list";

/// Which burst a full list is of: its route and when it began, as in its [`BurstContent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BurstListContent {
    /// The route's source.
    pub source: String,
    /// The route's name.
    pub route: String,
    /// When the burst began (milliseconds since the Unix epoch).
    pub started: u64,
    /// How many alerts the burst holds.
    pub alerts: usize,
    /// How many of them the list names (the rest do not fit in one message).
    pub listed: usize,
}

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
    /// The status page component it names (its `component` label), as the sender wrote it:
    /// the bot reads it against its page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// How badly it says the component is affected (its `impact` label: `degraded`,
    /// `partial` or `major`), as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
    /// Whom the bot pages for the incident it declares (its route's `escalation` policy, or
    /// `oncall:<team>`), in the words `!inc page` takes: the bot reads them against its own
    /// configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
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

/// The state people send to say they are in a room's Element Call (MSC3401's call membership,
/// its state key naming the person and their device).
pub const CALL_MEMBER: &str = "org.matrix.msc3401.call.member";

/// The key of [`FollowupContent`] in the bot's answer to `!inc followup`.
pub const FOLLOWUP_KEY: &str = "org.brigade.followup";

/// A follow-up the bot recorded, for the bridge to open its ticket (SPEC §16): the bridge
/// believes it only from the bot its `[tickets] bot` names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowupContent {
    /// The incident: `INC-42`.
    pub incident: String,
    /// The incident's title.
    pub title: String,
    /// The incident's type: the bridge's default tracker for the type applies when `tracker`
    /// names none.
    pub kind: String,
    /// The incident's severity.
    pub severity: Severity,
    /// The follow-up's number in the incident, from 1.
    pub number: usize,
    /// What is to be done.
    pub text: String,
    /// Who will do it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<ruma::OwnedUserId>,
    /// By when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<jiff::civil::Date>,
    /// The tracker asked for (`--ticket github`), as the bridge's configuration names it;
    /// none for the type's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracker: Option<String>,
    /// The incident room's link (`https://matrix.to/#/…`).
    pub room_link: String,
    /// The incident's page, where its timeline and postmortem are read, when the bot serves
    /// pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
}

/// Whether `name` can name a tracker (`--ticket <name>`, `[[trackers]] name`): 1 to 64
/// lower-case letters, digits, `-` and `_`; `none` says no ticket.
pub fn is_tracker_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name != "none"
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// The key of [`TicketContent`] in the bridge's messages about a ticket.
pub const TICKET_KEY: &str = "org.brigade.ticket";

/// A follow-up's ticket, as the bridge says it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketContent {
    /// The bot's message that asked for it (with its [`FollowupContent`]).
    pub followup_event: ruma::OwnedEventId,
    /// The follow-up's number in the incident.
    pub followup: usize,
    /// The tracker, as the bridge's configuration names it.
    pub tracker: String,
    /// How the tracker names the ticket: `acme/app#12`, `OPS-7`.
    pub key: String,
    /// The ticket's page.
    pub url: String,
    /// Whether it is closed (done) in the tracker.
    pub closed: bool,
    /// Who last closed or reopened it, as the tracker names them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contents_round_trip_with_their_field_names() {
        let alert = AlertContent {
            source: "alertmanager".to_owned(),
            route: "prod".to_owned(),
            fingerprint: "f1".to_owned(),
            status: AlertStatus::Firing,
            severity: Some(Severity::Sev1),
            title: "Disk full".to_owned(),
            count: 2,
            first_seen: 1,
            last_seen: 2,
            auto_declare: true,
            component: Some("Checkout".to_owned()),
            impact: None,
            page: Some("db".to_owned()),
        };
        let json = serde_json::to_value(&alert).expect("serialized");
        assert_eq!(json["status"], "firing");
        assert_eq!(json["component"], "Checkout");
        assert!(json.get("impact").is_none(), "{json}");
        assert_eq!(json["page"], "db");
        assert_eq!(json["severity"], "SEV1");
        assert_eq!(
            serde_json::from_value::<AlertContent>(json).expect("read"),
            alert
        );
        assert_eq!(alert.identity(), "alertmanager/prod/f1");
        assert!(alert.calls_for_incident());

        let burst = BurstContent {
            source: "generic".to_owned(),
            route: "prod".to_owned(),
            alerts: 3,
            firing: 2,
            resolved: 1,
            received: 7,
            severity: None,
            started: 1,
            last_seen: 9,
        };
        let json = serde_json::to_value(&burst).expect("serialized");
        assert_eq!(json["alerts"], 3);
        assert_eq!(
            serde_json::from_value::<BurstContent>(json).expect("read"),
            burst
        );
    }
}
