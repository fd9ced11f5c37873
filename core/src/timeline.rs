//! What happened during an incident, in order (SPEC §3): the entries the bot writes as the
//! incident changes, and the messages people flag with 📌, each at its original time.
//!
//! Automatic entries live in the [`Incident`](crate::incident::Incident), so they travel in the
//! room's `org.brigade.incident` state and survive the bot's store. Flags and thanks live in the
//! [`IncidentRecord`]; they are reactions in the room, so they can be read back from it.

use ruma::{OwnedEventId, OwnedRoomId, OwnedServerName, OwnedUserId, UserId};
use serde::{Deserialize, Serialize};

use crate::incident::{IncidentRecord, Role, Severity, Status};

/// One automatic entry: something that happened to the incident, when and by whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// When, in milliseconds since the Unix epoch.
    pub at: u64,
    /// Who did it.
    pub by: OwnedUserId,
    /// What happened.
    #[serde(flatten)]
    pub what: Happening,
}

/// What an automatic entry records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Happening {
    /// The incident was declared.
    Declared {
        /// Its first severity.
        severity: Severity,
    },
    /// Someone said they are on it (👀 or their first message).
    Acknowledged,
    /// The status changed.
    Status {
        /// The status before.
        from: Status,
        /// The status after.
        to: Status,
    },
    /// The severity changed.
    Severity {
        /// The severity before.
        from: Severity,
        /// The severity after.
        to: Severity,
    },
    /// Command was handed over.
    Commander {
        /// The commander before.
        from: OwnedUserId,
        /// The commander after.
        to: OwnedUserId,
    },
    /// A role was given.
    Role {
        /// The role.
        role: Role,
        /// Who holds it now.
        to: OwnedUserId,
    },
    /// People were paged.
    Paged {
        /// Who.
        people: Vec<OwnedUserId>,
    },
    /// A status update (`!inc update`, or a note with a status change).
    Update {
        /// What it says.
        text: String,
    },
    /// The incident was shared with a partner organisation's server (SPEC §7).
    Shared {
        /// The partner's server.
        server: OwnedServerName,
    },
    /// An action item for after the incident.
    Followup {
        /// What is to be done.
        text: String,
        /// Who will do it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner: Option<OwnedUserId>,
    },
}

/// A message flagged for the timeline with 📌 (or a configured alias).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flag {
    /// The flagged message.
    pub event_id: OwnedEventId,
    /// When it was sent (its original timestamp).
    pub at: u64,
    /// Who wrote it.
    pub author: OwnedUserId,
    /// What it says now (after edits); for a file or an image, its name.
    pub body: String,
    /// For a file or an image, where its content is (`mxc://`; empty when encrypted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<String>,
    /// The reactions that flag it; the flag goes when the last one is taken back.
    pub reactions: Vec<OwnedEventId>,
    /// The bot's own 📌 on the message, which says it is in the timeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark: Option<OwnedEventId>,
    /// The room it was said in, when not the incident's own: its shared partner room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<OwnedRoomId>,
}

/// A message that was flagged, as read from the room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its event.
    pub event_id: OwnedEventId,
    /// When it was sent.
    pub at: u64,
    /// Who wrote it.
    pub author: OwnedUserId,
    /// Its text, or a file's name.
    pub body: String,
    /// A file's or an image's `mxc://` URL.
    pub media: Option<String>,
    /// The room it was said in, when not the incident's own: its shared partner room.
    pub room: Option<OwnedRoomId>,
}

/// Someone thanked with 🙏 or 🎉 on one of their messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thanks {
    /// The reaction that thanks.
    pub reaction: OwnedEventId,
    /// Who is thanked: the author of the message.
    pub to: OwnedUserId,
    /// Who thanks.
    pub by: OwnedUserId,
}

/// What a redaction took away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removed {
    /// A flag's last reaction, or the flagged message: the flag is gone.
    Flag(Flag),
    /// One of several reactions on a flagged message: the flag stays.
    Reaction,
    /// A thanks.
    Thanks,
    /// Nothing the record knows.
    Nothing,
}

impl IncidentRecord {
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
    /// Roles, pages, follow-ups, thanks and whatever was flagged in the incident's own room stay
    /// inside.
    pub fn shared_view(&self) -> IncidentRecord {
        let mut view = self.clone();
        view.flags.retain(|flag| flag.room.is_some());
        view.thanks.clear();
        view.incident.timeline.retain(|entry| {
            !matches!(
                entry.what,
                Happening::Role { .. } | Happening::Paged { .. } | Happening::Followup { .. }
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

    /// The follow-ups, oldest first.
    pub fn followups(&self) -> impl Iterator<Item = (&Entry, &str, Option<&OwnedUserId>)> {
        self.incident
            .timeline
            .iter()
            .filter_map(|entry| match &entry.what {
                Happening::Followup { text, owner } => Some((entry, text.as_str(), owner.as_ref())),
                _ => None,
            })
    }
}

/// One line of the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line<'a> {
    /// Something the bot recorded.
    Entry(&'a Entry),
    /// A flagged message.
    Flag(&'a Flag),
}

impl Line<'_> {
    /// When it happened.
    pub fn at(&self) -> u64 {
        match self {
            Self::Entry(entry) => entry.at,
            Self::Flag(flag) => flag.at,
        }
    }
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

impl crate::incident::Timestamps {
    /// When the incident began as far as durations go: its start when given, else its
    /// declaration.
    pub fn origin(&self) -> u64 {
        self.started.unwrap_or(self.declared).min(self.declared)
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

#[cfg(test)]
mod tests {
    use ruma::{owned_event_id, owned_user_id};

    use super::*;
    use crate::testing;

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
            .add_followup("Buy disks".to_owned(), None, 2_000, &alice);
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
            },
        };
        let json = serde_json::to_value(&entry).expect("serializes");
        assert_eq!(json["kind"], "followup");
        assert_eq!(
            serde_json::from_value::<Entry>(json).expect("deserializes"),
            entry
        );
    }
}
