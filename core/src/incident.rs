//! The incident: number, severity, type, status, roles and the core timestamps, with every
//! change a method that either applies a legal change or refuses it and changes nothing.
//!
//! This is what the bot stores and mirrors into the room as `org.brigade.incident` state, and
//! what names, topics and headlines are rendered from.

use std::collections::BTreeMap;

use ruma::{OwnedEventId, OwnedRoomAliasId, OwnedRoomId, OwnedServerName, OwnedUserId, UserId};
use serde::{Deserialize, Serialize};

pub use crate::kinds::{Impact, IncidentError, IncidentNumber, Role, Severity, Status, Timestamps};
use crate::timeline::{self, Entry, Happening, TimelinePage};

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
    /// The one person in command; nobody yet when the bot declared it for an alert with nobody
    /// to command it (🚑 takes it).
    pub commander: Option<OwnedUserId>,
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
    /// The status page's components it affects (`!inc affects`), by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub affected: BTreeMap<String, Impact>,
    /// Kept off the status page (`!inc public off`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unlisted: bool,
    /// What the status page calls it (`!inc public title`); the title is for the room only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_title: Option<String>,
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
    /// Who declared it.
    pub declarer: OwnedUserId,
    /// Who commands it from the start: the declarer, or nobody yet for an alert's incident
    /// when nobody is configured to.
    pub commander: Option<OwnedUserId>,
    /// When it started, if the declarer said.
    pub started: Option<u64>,
    /// The alert it is declared for, if any.
    pub alert: Option<AlertOrigin>,
    /// The status page component it affects from the start, and how badly (an alert's
    /// `component` label).
    pub affects: Option<(String, Impact)>,
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
        let mut incident = Self {
            number,
            title,
            severity: declaration.severity,
            kind: declaration.kind,
            status: Status::Investigating,
            private: declaration.private,
            commander: declaration.commander,
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
            affected: BTreeMap::new(),
            unlisted: false,
            public_title: None,
        };
        if let Some((component, impact)) = declaration.affects {
            incident.affect(&component, Some(impact), now, &declaration.declarer)?;
        }
        Ok(incident)
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

    /// Whether `user` is in command.
    pub fn commanded_by(&self, user: &UserId) -> bool {
        self.commander.as_deref() == Some(user)
    }

    /// Hands command to `user`; returns the previous commander, if there was one.
    pub fn set_commander(
        &mut self,
        user: OwnedUserId,
        now: u64,
        by: &UserId,
    ) -> Result<Option<OwnedUserId>, IncidentError> {
        self.ensure_not_closed()?;
        if self.commanded_by(&user) {
            return Err(IncidentError::Unchanged(format!("commanded by {user}")));
        }
        let from = self.commander.replace(user.clone());
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
            Happening::Update {
                text: update.text,
                public: false,
            },
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

    /// Records that `by` put a call on `service` (in Jitsi's `conference`) in the room.
    pub fn call_started(
        &mut self,
        service: &str,
        conference: Option<String>,
        now: u64,
        by: &UserId,
    ) -> Result<(), IncidentError> {
        self.ensure_not_closed()?;
        let service = service.to_owned();
        self.log(
            now,
            by,
            Happening::Call {
                service,
                conference,
            },
        );
        Ok(())
    }

    /// Records that `user` joined the room's call; false (nothing recorded) when they joined
    /// it before, since the last call was put in the room, or the incident is closed.
    pub fn call_joined(&mut self, now: u64, user: &UserId) -> bool {
        if self.status == Status::Closed {
            return false;
        }
        let call = self
            .timeline
            .iter()
            .rposition(|entry| matches!(entry.what, Happening::Call { .. }))
            .map_or(0, |at| at + 1);
        let joined = self.timeline[call..]
            .iter()
            .any(|entry| entry.what == Happening::CallJoined && entry.by == user);
        if !joined {
            self.log(now, user, Happening::CallJoined);
        }
        !joined
    }

    /// The status updates, oldest first.
    pub fn updates(&self) -> Vec<Update> {
        self.timeline
            .iter()
            .filter_map(|entry| match &entry.what {
                Happening::Update { text, .. } => Some(Update {
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
        self.commanded_by(user) || self.roles.values().any(|holder| holder == user)
    }

    pub(crate) fn ensure_not_closed(&self) -> Result<(), IncidentError> {
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

    /// The topic: `🚑 <commander> · SEV2 · investigating · <summary>`, the commander named as
    /// `commander` (their display name); private incidents leave the summary out (state is not
    /// encrypted).
    pub fn topic(&self, commander: &str) -> String {
        let mut topic = format!("🚑 {commander} · {} · {}", self.severity, self.status);
        let summary = self.summary.lines().next().unwrap_or_default().trim();
        if !self.private && !summary.is_empty() {
            topic.push_str(" · ");
            topic.push_str(summary);
        }
        topic
    }

    /// What the room's `org.brigade.incident` state shows: everything but the timeline, which
    /// goes in pages of its own ([`Self::timeline_pages`]) so that a state event never outgrows
    /// what the homeserver takes. Room state is not encrypted: a private incident's state
    /// leaves out the title and the summary too, which live only in the room's encrypted
    /// messages (and the bot's store).
    pub fn in_state(&self) -> Self {
        let mut shown = self.clone();
        shown.timeline.clear();
        if self.private {
            shown.title.clear();
            shown.summary.clear();
        }
        shown
    }

    /// The timeline as the room's `org.brigade.incident.timeline` state holds it
    /// ([`timeline::pages`]); none for a private incident, whose timeline stays encrypted.
    pub fn timeline_pages(&self) -> Vec<TimelinePage> {
        if self.private {
            return Vec::new();
        }
        timeline::pages(&self.timeline)
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
    fn who_joined_a_call_is_recorded_once_per_call() {
        let alice = owned_user_id!("@alice:example.org");
        let bob = owned_user_id!("@bob:example.org");
        let mut incident = incident();
        let joined = |incident: &Incident| {
            incident
                .timeline
                .iter()
                .filter(|entry| entry.what == Happening::CallJoined)
                .map(|entry| entry.by.localpart().to_owned())
                .collect::<Vec<_>>()
        };
        // A call someone started in Element Call, with no `!inc call`.
        assert!(incident.call_joined(2_000, &bob));
        assert!(!incident.call_joined(2_100, &bob), "a renewed membership");
        incident
            .call_started("Jitsi", None, 3_000, &alice)
            .expect("a call");
        assert!(incident.call_joined(3_100, &bob), "the new call");
        assert!(incident.call_joined(3_200, &alice));
        assert!(!incident.call_joined(3_300, &alice));
        assert_eq!(joined(&incident), ["bob", "bob", "alice"]);
        incident
            .set_status(Status::Resolved, 4_000, &alice)
            .expect("resolved");
        incident
            .set_status(Status::Closed, 5_000, &alice)
            .expect("closed");
        assert!(!incident.call_joined(6_000, &owned_user_id!("@carol:example.org")));
        assert_eq!(
            incident.call_started("Jitsi", None, 6_000, &alice),
            Err(IncidentError::Closed)
        );
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
    fn a_declaration_may_affect_a_component_from_the_start() {
        let alice = owned_user_id!("@alice:example.org");
        let declaration = Declaration {
            title: "Checkout slow".to_owned(),
            severity: Severity::Sev2,
            kind: "operations".to_owned(),
            private: false,
            declarer: alice.clone(),
            commander: Some(alice.clone()),
            started: None,
            alert: None,
            affects: Some(("Checkout".to_owned(), Impact::Partial)),
        };
        let incident = Incident::declare(IncidentNumber(1), declaration, 5).expect("declared");
        assert_eq!(incident.affected.get("Checkout"), Some(&Impact::Partial));
        assert_eq!(
            incident
                .timeline
                .last()
                .map(|entry| (&entry.what, entry.at, &entry.by)),
            Some((
                &Happening::Affects {
                    component: "Checkout".to_owned(),
                    impact: Some(Impact::Partial)
                },
                5,
                &alice
            ))
        );
        assert!(incident.published());
    }

    #[test]
    fn declaring_needs_a_title() {
        let declaration = Declaration {
            title: "   ".to_owned(),
            severity: Severity::Sev3,
            kind: "operations".to_owned(),
            private: false,
            declarer: owned_user_id!("@alice:example.org"),
            commander: Some(owned_user_id!("@alice:example.org")),
            started: None,
            alert: None,
            affects: None,
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
        assert_eq!(previous, Some(owned_user_id!("@alice:example.org")));
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
            incident.topic("Alice"),
            "🚑 Alice · SEV2 · investigating · Payments time out"
        );
        assert_eq!(
            incident.alias_localpart("20261128"),
            "inc-20261128-42-checkout-latency"
        );
        incident
            .set_status(Status::Resolved, 2, ruma::user_id!("@alice:example.org"))
            .expect("resolved");
        assert_eq!(incident.room_name(), "✅ INC-42 · SEV2 · Checkout latency");

        let state = incident.in_state();
        assert!(
            state.timeline.is_empty(),
            "the timeline is in pages of its own"
        );
        assert_eq!(
            Incident {
                timeline: incident.timeline.clone(),
                ..state
            },
            incident,
            "an open incident shows all"
        );
        let pages = incident.timeline_pages();
        assert_eq!(
            pages
                .into_iter()
                .flat_map(|page| page.entries)
                .collect::<Vec<_>>(),
            incident.timeline,
            "the pages hold the whole timeline"
        );

        incident.private = true;
        let state = incident.in_state();
        assert!(state.title.is_empty() && state.summary.is_empty() && state.timeline.is_empty());
        assert!(incident.timeline_pages().is_empty());
        assert_eq!(
            (state.number, state.status),
            (incident.number, incident.status)
        );
        assert_eq!(incident.room_name(), "🔒 INC-42 · SEV2");
        assert_eq!(incident.topic("Alice"), "🚑 Alice · SEV2 · resolved");
        assert_eq!(incident.alias_localpart("20261128"), "inc-20261128-42");
    }

    #[test]
    fn a_long_timeline_is_paged_small_enough_for_room_state_and_appends_touch_the_last_page() {
        let alice = ruma::user_id!("@alice:example.org");
        let mut incident = Incident::declare(
            IncidentNumber(7),
            Declaration {
                title: "Long one".to_owned(),
                severity: Severity::Sev2,
                kind: "operations".to_owned(),
                private: false,
                declarer: alice.to_owned(),
                commander: Some(alice.to_owned()),
                started: None,
                alert: None,
                affects: None,
            },
            1,
        )
        .expect("declared");
        for n in 0..500 {
            // Characters JSON escapes six times over, and texts over the state's cut.
            let text = if n < 40 {
                "\u{1}".repeat(5_000)
            } else {
                format!("update {n}")
            };
            incident.log(
                n + 2,
                alice,
                Happening::Update {
                    text,
                    public: false,
                },
            );
        }
        let pages = incident.timeline_pages();
        for page in &pages {
            let bytes = serde_json::to_vec(page).expect("JSON").len();
            assert!(
                bytes <= timeline::TIMELINE_PAGE_BYTES,
                "a page of {bytes} bytes"
            );
        }
        let entries: Vec<Entry> = pages.iter().flat_map(|page| page.entries.clone()).collect();
        assert_eq!(entries.len(), 501);
        assert_eq!(
            entries[500], incident.timeline[500],
            "short entries are kept whole"
        );
        // One more entry leaves every page but the last as it was.
        incident.log(
            1_000,
            alice,
            Happening::Update {
                text: "last".to_owned(),
                public: false,
            },
        );
        let after = incident.timeline_pages();
        assert_eq!(after[..pages.len() - 1], pages[..pages.len() - 1]);
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
