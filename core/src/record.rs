//! What the bot stores of an incident, keyed by its room: the incident, where it lives in
//! Matrix, the events whose changes it holds, and the flags and thanks people gave its
//! messages, with the behaviour of each (flagging, thanking, taking back, editing).

use ruma::{OwnedEventId, OwnedRoomAliasId, OwnedRoomId, OwnedUserId, UserId};
use serde::{Deserialize, Serialize};

use crate::{
    incident::Incident,
    timeline::{Flag, Happening, Line, Message, Removed, Thanks},
};

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
    /// The day (UTC) each overdue follow-up's owner was last reminded, by its number: once a
    /// day.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub followups_reminded: std::collections::BTreeMap<usize, jiff::civil::Date>,
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
    /// The escalation policies paging until someone acknowledges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalations: Vec<Escalation>,
}

/// What an acknowledgement did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    /// It was the incident's first.
    pub first: bool,
    /// The escalation policies it stopped.
    pub stopped: Vec<String>,
}

impl Acknowledgement {
    /// Whether it changed anything.
    pub fn changed(&self) -> bool {
        self.first || !self.stopped.is_empty()
    }
}

/// An escalation policy running for an incident (SPEC §14): a page started it; each level is
/// paged in turn until someone acknowledges one of its pages (or the incident), the last level
/// repeated as the policy says. Stored, so its timers outlive a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    /// The policy, by name.
    pub policy: String,
    /// The event that started it: its steps' transaction IDs derive from it, so a step a crash
    /// interrupted is sent again as the same message.
    pub cause: OwnedEventId,
    /// The level paged last, from 0.
    pub level: usize,
    /// How many times the last level was paged again.
    #[serde(default)]
    pub repeats: u32,
    /// Steps taken, the first page included.
    pub steps: u32,
    /// When the next step is due unless someone acknowledges (milliseconds since the epoch).
    pub due: u64,
    /// Its pages: 👀 on one of them stops it.
    pub pages: Vec<OwnedEventId>,
    /// Who asked for the next step now (`!inc escalate`), if someone did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hurried_by: Option<OwnedUserId>,
    /// When the people the last step paged are notified outside Matrix, unless someone
    /// acknowledges first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_at: Option<u64>,
    /// The notifications of the last step, one per person with a channel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<Notice>,
}

impl Escalation {
    /// The level (from 0) and the repeat count of the step after this one, for a policy of
    /// `levels` levels that pages its last `repeat` more times; `None` when it has run out.
    pub fn next(&self, levels: usize, repeat: u32) -> Option<(usize, u32)> {
        let last = levels.saturating_sub(1);
        if self.level < last {
            Some((self.level + 1, self.repeats))
        } else if self.repeats < repeat {
            Some((last, self.repeats + 1))
        } else {
            None
        }
    }
}

/// How a notification outside Matrix is sent (SPEC §14).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A mail over SMTP.
    #[default]
    Email,
    /// A push through an ntfy server, to the person's topic.
    Ntfy,
    /// A signed webhook to an SMS or voice gateway, naming the person's phone number.
    Phone,
}

impl Channel {
    /// Every channel, in the order they are told.
    pub const ALL: [Self; 3] = [Self::Email, Self::Ntfy, Self::Phone];

    /// Its name in commands, the configuration and the timeline.
    pub fn name(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Ntfy => "ntfy",
            Self::Phone => "phone",
        }
    }
}

/// A notification outside Matrix owed to one person paged by an escalation step, on one
/// channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Who.
    pub user: OwnedUserId,
    /// How (email, for notices stored before there were others).
    #[serde(default)]
    pub channel: Channel,
    /// Sent (the channel accepted it).
    #[serde(default)]
    pub sent: bool,
    /// Failed tries so far.
    #[serde(default)]
    pub failures: u32,
    /// Not to be tried again before (milliseconds since the epoch).
    #[serde(default)]
    pub retry_at: u64,
}

impl Notice {
    /// Whether it is the one owed to `user` on `channel`.
    pub fn is_for(&self, user: &UserId, channel: Channel) -> bool {
        self.user == user && self.channel == channel
    }

    /// A notification owed to `user` on `channel`, not tried yet.
    pub fn new(user: OwnedUserId, channel: Channel) -> Self {
        Self {
            user,
            channel,
            sent: false,
            failures: 0,
            retry_at: 0,
        }
    }
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
            followups_reminded: std::collections::BTreeMap::new(),
            version: 1,
            applied: Vec::new(),
            flags: Vec::new(),
            thanks: Vec::new(),
            routed: Vec::new(),
            escalations: Vec::new(),
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

    /// `by` acknowledges at `at`, reacting 👀 on `on` (`None`: `!inc ack`, the panel): the
    /// incident, if nobody had, and the escalations that stops (those that sent `on`, or every
    /// one when it is the summary or `None`), each ended in the timeline.
    pub fn acknowledge(
        &mut self,
        at: u64,
        by: &UserId,
        on: Option<&ruma::EventId>,
    ) -> Acknowledgement {
        let first = self.incident.acknowledge(at, by);
        let everything = on.is_none() || on == self.summary_event.as_deref();
        let (stopped, running): (Vec<Escalation>, Vec<Escalation>) =
            std::mem::take(&mut self.escalations)
                .into_iter()
                .partition(|escalation| {
                    everything || escalation.pages.iter().any(|page| Some(&**page) == on)
                });
        self.escalations = running;
        let stopped: Vec<String> = stopped
            .into_iter()
            .map(|escalation| escalation.policy)
            .collect();
        for policy in &stopped {
            let ended = Happening::EscalationEnded {
                policy: policy.clone(),
                acknowledged: true,
            };
            self.incident.log(at, by, ended);
        }
        Acknowledgement { first, stopped }
    }
}

impl IncidentRecord {
    /// Everyone the record names (roles, the timeline's people, flags' authors, thanks): whose
    /// names a rendering of it may show.
    pub fn people(&self) -> std::collections::BTreeSet<&UserId> {
        let incident = &self.incident;
        let mut people: Vec<&OwnedUserId> = incident.commander.iter().collect();
        people.extend(incident.roles.values());
        for entry in &incident.timeline {
            people.push(&entry.by);
            match &entry.what {
                Happening::Commander { from, to } => people.extend(from.iter().chain([to])),
                Happening::Role { to, .. } => people.push(to),
                Happening::Paged { people: paged, .. } => people.extend(paged),
                Happening::Notified { person, .. } => people.push(person),
                Happening::Followup {
                    owner: Some(owner), ..
                } => people.push(owner),
                _ => {}
            }
        }
        people.extend(self.flags.iter().map(|flag| &flag.author));
        people.extend(
            self.thanks
                .iter()
                .flat_map(|thanks| [&thanks.to, &thanks.by]),
        );
        people.into_iter().map(|user| &**user).collect()
    }

    /// Adds `reaction` as a flag on `message`. True when the message was not flagged before;
    /// another 📌 on a flagged message is remembered (so that the flag lasts until the last one
    /// is taken back) but adds no entry.
    pub fn flag(&mut self, message: Message, reaction: OwnedEventId) -> bool {
        if let Some(flag) = self
            .flags
            .iter_mut()
            .find(|flag| flag.event_id == message.event_id)
        {
            if !flag.reactions.contains(&reaction) {
                flag.reactions.push(reaction);
            }
            return false;
        }
        self.flags.push(Flag {
            event_id: message.event_id,
            at: message.at,
            author: message.author,
            body: message.body,
            media: message.media,
            reactions: vec![reaction],
            mark: None,
            room: message.room,
        });
        true
    }

    /// What partners in the shared room may see of the incident: its moments, status and
    /// updates (written for people outside), and the flags of messages said in the shared room.
    /// Roles, pages, calls, follow-ups, thanks and whatever was flagged in the incident's own
    /// room stay inside.
    pub fn shared_view(&self) -> IncidentRecord {
        let mut view = self.clone();
        view.flags.retain(|flag| flag.room.is_some());
        view.thanks.clear();
        view.incident.timeline.retain(|entry| {
            !matches!(
                entry.what,
                Happening::Role { .. }
                    | Happening::Paged { .. }
                    | Happening::EscalationEnded { .. }
                    | Happening::Notified { .. }
                    | Happening::Call { .. }
                    | Happening::CallJoined
                    | Happening::Followup { .. }
                    | Happening::Ticket { .. }
                    | Happening::TicketState { .. }
            )
        });
        view
    }

    /// Whether `reaction` is one this record holds (a flag's or a thanks).
    pub fn holds_reaction(&self, reaction: &ruma::EventId) -> bool {
        self.flags
            .iter()
            .any(|flag| flag.reactions.iter().any(|held| held == reaction))
            || self.thanks.iter().any(|thanks| thanks.reaction == reaction)
    }

    /// Takes back what the redacted event `redacted` had added: a flag's reaction, a flagged
    /// message, or a thanks.
    pub fn redact(&mut self, redacted: &ruma::EventId) -> Removed {
        if let Some(at) = self.flags.iter().position(|flag| flag.event_id == redacted) {
            return Removed::Flag(self.flags.remove(at));
        }
        if let Some(at) = self
            .flags
            .iter()
            .position(|flag| flag.reactions.iter().any(|held| held == redacted))
        {
            let flag = &mut self.flags[at];
            flag.reactions.retain(|held| held != redacted);
            if flag.reactions.is_empty() {
                return Removed::Flag(self.flags.remove(at));
            }
            return Removed::Reaction;
        }
        let before = self.thanks.len();
        self.thanks.retain(|thanks| thanks.reaction != redacted);
        if self.thanks.len() < before {
            return Removed::Thanks;
        }
        Removed::Nothing
    }

    /// Brings a flag in step with an edit of its message by `sender` (edits by anyone else
    /// are not edits). True when a flag changed.
    pub fn edit(&mut self, edited: &ruma::EventId, sender: &UserId, body: &str) -> bool {
        match self
            .flags
            .iter_mut()
            .find(|flag| flag.event_id == edited && flag.author == sender)
        {
            Some(flag) if flag.body != body => {
                body.clone_into(&mut flag.body);
                true
            }
            _ => false,
        }
    }

    /// Records a thanks; false when `reaction` was recorded already.
    pub fn thank(&mut self, thanks: Thanks) -> bool {
        if self
            .thanks
            .iter()
            .any(|held| held.reaction == thanks.reaction)
        {
            return false;
        }
        self.thanks.push(thanks);
        true
    }

    /// The timeline: automatic entries and flagged messages, by time (an automatic entry
    /// before a flag of the same millisecond).
    pub fn timeline(&self) -> Vec<Line<'_>> {
        let mut lines: Vec<Line<'_>> = self
            .incident
            .timeline
            .iter()
            .map(Line::Entry)
            .chain(self.flags.iter().map(Line::Flag))
            .collect();
        lines.sort_by_key(|line| (line.at(), matches!(line, Line::Flag(_))));
        lines
    }
}

#[cfg(test)]
mod tests {
    use ruma::{owned_event_id, owned_user_id};

    use super::*;
    use crate::{
        incident::{Severity, Status},
        testing,
        timeline::Entry,
    };

    fn escalation(policy: &str, page: &str) -> Escalation {
        let page = OwnedEventId::try_from(page).expect("an event ID");
        Escalation {
            policy: policy.to_owned(),
            cause: page.clone(),
            level: 0,
            repeats: 0,
            steps: 1,
            due: 0,
            pages: vec![page],
            hurried_by: None,
            notify_at: None,
            notices: Vec::new(),
        }
    }

    #[test]
    fn an_escalation_walks_its_levels_then_repeats_the_last_then_runs_out() {
        let mut walking = escalation("db", "$p:x");
        let mut steps = Vec::new();
        while let Some((level, repeats)) = walking.next(3, 2) {
            steps.push((level, repeats));
            (walking.level, walking.repeats) = (level, repeats);
        }
        assert_eq!(steps, [(1, 0), (2, 0), (2, 1), (2, 2)]);
        let mut shrunk = escalation("db", "$p:x");
        shrunk.level = 5;
        assert_eq!(
            shrunk.next(2, 1),
            Some((1, 1)),
            "fewer levels since: the last"
        );
        assert_eq!(escalation("db", "$p:x").next(1, 0), None);
    }

    #[test]
    fn an_acknowledgement_stops_the_escalations_of_its_page_or_all_of_them() {
        let mut record = testing::record(1, "DNS", Severity::Sev2, 1_000);
        record.summary_event = Some(owned_event_id!("$summary:x"));
        record.escalations = vec![escalation("db", "$db:x"), escalation("web", "$web:x")];
        let bob = owned_user_id!("@bob:x");
        let first = record.acknowledge(2_000, &bob, Some(&owned_event_id!("$other:x")));
        assert_eq!(
            first,
            Acknowledgement {
                first: true,
                stopped: Vec::new()
            },
            "a page of neither stops neither"
        );
        let web = record.acknowledge(3_000, &bob, Some(&owned_event_id!("$web:x")));
        assert_eq!(web.stopped, ["web"]);
        assert!(!web.first);
        record.escalations.push(escalation("web", "$web2:x"));
        let all = record.acknowledge(4_000, &bob, Some(&owned_event_id!("$summary:x")));
        assert_eq!(all.stopped, ["db", "web"], "the summary stops every one");
        assert!(!record.acknowledge(5_000, &bob, None).changed());
        let ended = record
            .incident
            .timeline
            .iter()
            .filter(|entry| {
                matches!(
                    entry.what,
                    Happening::EscalationEnded {
                        acknowledged: true,
                        ..
                    }
                )
            })
            .count();
        assert_eq!(ended, 3);
    }

    fn message(id: &str, at: u64, body: &str) -> Message {
        Message {
            event_id: OwnedEventId::try_from(id).expect("an event ID"),
            at,
            author: owned_user_id!("@bob:example.org"),
            body: body.to_owned(),
            media: None,
            room: None,
        }
    }

    #[test]
    fn partners_see_the_moments_and_what_was_said_in_the_shared_room() {
        let alice = owned_user_id!("@alice:example.org");
        let mut record = testing::record(1, "Disk full", Severity::Sev2, 1_000);
        record
            .incident
            .add_followup(("Buy disks".to_owned(), None, None), 2_000, &alice);
        record.flag(
            message("$inside", 3_000, "our logs"),
            owned_event_id!("$r1"),
        );
        let mut outside = message("$outside", 4_000, "their logs");
        outside.room = Some(ruma::owned_room_id!("!shared:example.org"));
        record.flag(outside, owned_event_id!("$r2"));
        record
            .incident
            .set_status(Status::Identified, 5_000, &alice)
            .expect("identified");

        let view = record.shared_view();
        let flagged: Vec<&str> = view.flags.iter().map(|flag| flag.body.as_str()).collect();
        assert_eq!(flagged, ["their logs"]);
        assert!(view
            .incident
            .timeline
            .iter()
            .all(|entry| !matches!(entry.what, Happening::Followup { .. })));
        assert!(view
            .incident
            .timeline
            .iter()
            .any(|entry| matches!(entry.what, Happening::Status { .. })));
    }

    #[test]
    fn a_message_flagged_twice_is_one_entry_until_its_last_flag_is_taken_back() {
        let mut record = testing::record(1, "Disk full", Severity::Sev2, 1_000);
        assert!(record.flag(message("$m", 2_000, "disk at 100%"), owned_event_id!("$r1")));
        assert!(!record.flag(message("$m", 2_000, "disk at 100%"), owned_event_id!("$r2")));
        assert!(!record.flag(message("$m", 2_000, "disk at 100%"), owned_event_id!("$r2")));
        assert_eq!(record.flags.len(), 1);
        assert_eq!(record.flags[0].reactions.len(), 2);

        assert_eq!(record.redact(&owned_event_id!("$r1")), Removed::Reaction);
        assert_eq!(record.flags.len(), 1);
        assert!(matches!(
            record.redact(&owned_event_id!("$r2")),
            Removed::Flag(_)
        ));
        assert!(record.flags.is_empty());
        assert_eq!(record.redact(&owned_event_id!("$r2")), Removed::Nothing);
    }

    #[test]
    fn redacting_the_message_removes_its_flag_and_edits_follow_only_its_author() {
        let mut record = testing::record(1, "Disk full", Severity::Sev2, 1_000);
        record.flag(message("$m", 2_000, "disk at 100%"), owned_event_id!("$r1"));
        assert!(!record.edit(
            &owned_event_id!("$m"),
            &owned_user_id!("@mallory:example.org"),
            "nothing to see"
        ));
        assert!(record.edit(
            &owned_event_id!("$m"),
            &owned_user_id!("@bob:example.org"),
            "disk at 99%"
        ));
        assert_eq!(record.flags[0].body, "disk at 99%");
        assert!(matches!(
            record.redact(&owned_event_id!("$m")),
            Removed::Flag(_)
        ));
        assert!(record.flags.is_empty());
    }

    #[test]
    fn the_timeline_orders_entries_and_flags_by_original_time() {
        let mut record = testing::record(1, "Disk full", Severity::Sev2, 1_000);
        record.flag(message("$late", 9_000, "fixed"), owned_event_id!("$r1"));
        record.flag(
            message("$early", 500, "first alert"),
            owned_event_id!("$r2"),
        );
        record
            .incident
            .set_status(
                Status::Identified,
                5_000,
                &owned_user_id!("@alice:example.org"),
            )
            .expect("a legal change");
        let at: Vec<u64> = record.timeline().iter().map(Line::at).collect();
        assert_eq!(at, vec![500, 1_000, 5_000, 9_000]);
    }

    #[test]
    fn thanks_are_counted_once_and_taken_back_by_redaction() {
        let mut record = testing::record(1, "Disk full", Severity::Sev2, 1_000);
        let thanks = Thanks {
            reaction: owned_event_id!("$t"),
            to: owned_user_id!("@bob:example.org"),
            by: owned_user_id!("@alice:example.org"),
        };
        assert!(record.thank(thanks.clone()));
        assert!(!record.thank(thanks));
        assert!(record.holds_reaction(&owned_event_id!("$t")));
        assert_eq!(record.redact(&owned_event_id!("$t")), Removed::Thanks);
        assert!(record.thanks.is_empty());
    }

    #[test]
    fn durations_count_from_the_start_when_given() {
        let mut stamps = crate::incident::Timestamps {
            declared: 10_000,
            acknowledged: Some(13_000),
            mitigated: Some(20_000),
            ..Default::default()
        };
        assert_eq!(stamps.durations().to_acknowledge, Some(3_000));
        assert_eq!(stamps.durations().to_resolve, None);
        stamps.started = Some(4_000);
        assert_eq!(stamps.durations().to_mitigate, Some(16_000));
    }

    #[test]
    fn entries_round_trip_through_json_with_a_kind_tag() {
        let entry = Entry {
            at: 1,
            by: owned_user_id!("@alice:example.org"),
            what: Happening::Followup {
                text: "add disk alerts".to_owned(),
                owner: Some(owned_user_id!("@bob:example.org")),
                due: Some(jiff::civil::date(2026, 12, 15)),
            },
        };
        let json = serde_json::to_value(&entry).expect("serializes");
        assert_eq!(json["kind"], "followup");
        assert_eq!(
            serde_json::from_value::<Entry>(json).expect("deserializes"),
            entry
        );
    }

    #[test]
    fn calls_and_who_joined_them_round_trip_through_json() {
        for (what, json) in [
            (
                Happening::Call {
                    service: "Jitsi".to_owned(),
                    conference: Some("inc-1-dns-0a1b2c3d4e".to_owned()),
                },
                serde_json::json!({
                    "at": 1, "by": "@alice:x", "kind": "call",
                    "service": "Jitsi", "conference": "inc-1-dns-0a1b2c3d4e",
                }),
            ),
            (
                Happening::Call {
                    service: "Element Call".to_owned(),
                    conference: None,
                },
                serde_json::json!({ "at": 1, "by": "@alice:x", "kind": "call", "service": "Element Call" }),
            ),
            (
                Happening::CallJoined,
                serde_json::json!({ "at": 1, "by": "@alice:x", "kind": "call_joined" }),
            ),
        ] {
            let entry = Entry {
                at: 1,
                by: owned_user_id!("@alice:x"),
                what,
            };
            assert_eq!(serde_json::to_value(&entry).expect("serializes"), json);
            assert_eq!(
                serde_json::from_value::<Entry>(json).expect("deserializes"),
                entry
            );
        }
    }

    #[test]
    fn escalations_and_their_entries_round_trip_through_json() {
        let mut record = testing::record(1, "DNS", Severity::Sev2, 1_000);
        let mut running = escalation("db", "$db:x");
        running.hurried_by = Some(owned_user_id!("@alice:x"));
        running.notify_at = Some(5_000);
        running.notices = vec![Notice {
            user: owned_user_id!("@dan:x"),
            channel: Channel::Ntfy,
            sent: false,
            failures: 2,
            retry_at: 9_000,
        }];
        record.escalations.push(running);
        let alice = owned_user_id!("@alice:x");
        for what in [
            Happening::Paged {
                people: vec![owned_user_id!("@dan:x")],
                escalations: vec![crate::timeline::Step {
                    policy: "db".to_owned(),
                    level: 2,
                }],
            },
            Happening::Notified {
                person: owned_user_id!("@dan:x"),
                channel: "email".to_owned(),
            },
            Happening::EscalationEnded {
                policy: "db".to_owned(),
                acknowledged: true,
            },
        ] {
            record.incident.log(2_000, &alice, what);
        }
        let json = serde_json::to_string(&record).expect("serializes");
        assert_eq!(
            serde_json::from_str::<IncidentRecord>(&json).expect("deserializes"),
            record
        );
        let kinds: Vec<String> = serde_json::from_str::<serde_json::Value>(&json).expect("json")
            ["incident"]["timeline"]
            .as_array()
            .expect("a timeline")
            .iter()
            .filter_map(|entry| entry["kind"].as_str().map(str::to_owned))
            .collect();
        assert!(
            kinds.ends_with(&[
                "paged".to_owned(),
                "notified".to_owned(),
                "escalation_ended".to_owned()
            ]),
            "{kinds:?}"
        );
    }

    #[test]
    fn a_notice_stored_before_channels_is_an_email() {
        let notice: Notice =
            serde_json::from_str(r#"{"user":"@dan:x","sent":true}"#).expect("deserializes");
        assert_eq!(notice.channel, Channel::Email);
        assert!(notice.sent);
    }
}
