//! What happened during an incident, in order (SPEC §3): the entries the bot writes as the
//! incident changes, and the messages people flag with 📌, each at its original time.
//!
//! Automatic entries live in the [`Incident`](crate::incident::Incident), so they travel in the
//! room's state (pages of `org.brigade.incident.timeline`) and survive the bot's store. Flags and thanks live in the
//! [`IncidentRecord`](crate::record::IncidentRecord); they are reactions in the room, so they
//! can be read back from it. This module holds the data; the behaviour lives with the record.

use ruma::{OwnedEventId, OwnedRoomId, OwnedServerName, OwnedUserId};
use serde::{Deserialize, Serialize};

use crate::kinds::{Impact, Role, Severity, Status};

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

/// The most a page of the timeline takes in room state, as JSON: well under the 64 KiB a
/// homeserver takes for a whole event.
pub const TIMELINE_PAGE_BYTES: usize = 30 * 1024;

/// The most of an entry's text the room's state keeps, in characters (the store and the room's
/// messages keep all of it). Even escaped six times over it fits in a page.
pub const STATE_TEXT_CHARS: usize = 4_000;

/// What a page's JSON takes besides its entries.
const PAGE_OVERHEAD: usize = 16;

/// One page of an incident's timeline in its room's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelinePage {
    /// Its entries, oldest first.
    pub entries: Vec<Entry>,
}

/// `entries` as room state holds them, oldest first: pages of at most
/// [`TIMELINE_PAGE_BYTES`] as JSON, each entry's text cut to [`STATE_TEXT_CHARS`]. Filled
/// from the first page on, so a new entry changes the last page only.
pub fn pages(entries: &[Entry]) -> Vec<TimelinePage> {
    let mut pages: Vec<TimelinePage> = Vec::new();
    let mut size = 0;
    for entry in entries {
        let entry = entry.cut_for_state(STATE_TEXT_CHARS);
        let bytes = serde_json::to_vec(&entry).map_or(0, |bytes| bytes.len()) + 1;
        match pages.last_mut() {
            Some(page) if size + bytes <= TIMELINE_PAGE_BYTES => {
                page.entries.push(entry);
                size += bytes;
            }
            _ => {
                pages.push(TimelinePage {
                    entries: vec![entry],
                });
                size = PAGE_OVERHEAD + bytes;
            }
        }
    }
    pages
}

impl Entry {
    /// The entry with its text (an update's, a follow-up's) cut to `chars` characters.
    pub fn cut_for_state(&self, chars: usize) -> Self {
        let mut entry = self.clone();
        if let Happening::Update { text, .. } | Happening::Followup { text, .. } = &mut entry.what {
            if let Some((at, _)) = text.char_indices().nth(chars) {
                text.truncate(at);
                text.push('…');
            }
        }
        entry
    }
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
        /// The commander before, if there was one.
        from: Option<OwnedUserId>,
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
        /// The steps of escalation policies this page was, if any: the first level of each
        /// policy it started, or the next level of a running one.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        escalations: Vec<Step>,
    },
    /// Someone paged by an escalation was notified outside Matrix, their page unacknowledged.
    Notified {
        /// Who.
        person: OwnedUserId,
        /// How: `email`, `ntfy` or `phone` (`brigade_core::record::Channel::name`).
        channel: String,
    },
    /// An escalation policy stopped paging: acknowledged (by the entry's author), or out of
    /// levels with nobody acknowledging.
    EscalationEnded {
        /// The policy.
        policy: String,
        /// Whether someone acknowledged; false when it ran out of levels.
        acknowledged: bool,
    },
    /// A status update (`!inc update`, or a note with a status change).
    Update {
        /// What it says.
        text: String,
        /// Written for the public: on the status page too (`!inc update --public`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        public: bool,
    },
    /// What the incident does to one of the status page's components changed.
    Affects {
        /// The component.
        component: String,
        /// How badly it is affected now; none when no longer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        impact: Option<Impact>,
    },
    /// The incident was shared with a partner organisation's server (SPEC §7).
    Shared {
        /// The partner's server.
        server: OwnedServerName,
    },
    /// A call was put in the incident room (`!inc call`).
    Call {
        /// Where: `Jitsi` or `Element Call`.
        service: String,
        /// The Jitsi conference's name, so that asking again keeps the call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conference: Option<String>,
    },
    /// The entry's author joined the room's call (seen by their call membership).
    CallJoined,
    /// An action item for after the incident.
    Followup {
        /// What is to be done.
        text: String,
        /// Who will do it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner: Option<OwnedUserId>,
        /// By when.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due: Option<jiff::civil::Date>,
    },
    /// A follow-up's ticket was opened in a tracker, by the bridge (SPEC §16).
    Ticket {
        /// Which follow-up: its number, from 1, in the order they were recorded.
        followup: usize,
        /// The tracker, as the bridge's configuration names it.
        tracker: String,
        /// How the tracker names the ticket: `acme/app#12`, `OPS-7`.
        key: String,
        /// The ticket's page.
        url: String,
    },
    /// A follow-up's ticket was closed (the work is done) or reopened in its tracker.
    TicketState {
        /// Which follow-up, by number.
        followup: usize,
        /// Closed, or open again.
        closed: bool,
        /// Who did it, as the tracker names them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by_name: Option<String>,
    },
}

/// One step of an escalation policy (SPEC §14).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The policy.
    pub policy: String,
    /// The level paged, from 1.
    pub level: u32,
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
