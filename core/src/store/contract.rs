//! What every store promises: the records it keeps and the [`Store`] trait, apart from the
//! implementations so that they import this and nothing that imports them.

use async_trait::async_trait;
use ruma::{EventId, OwnedEventId, RoomId};
use serde::{Deserialize, Serialize};

use crate::record::IncidentRecord;

/// What became of an event the process acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Work on the event began; its effects may be partly done. A restart finishes it (its
    /// messages carry transaction IDs derived from the event, so nothing is posted twice)
    /// whatever its age, because the bot, not the sender, was late.
    Started,
    /// The event's effect was carried out.
    Done,
    /// The event was answered with a refusal (malformed, not allowed).
    Refused,
    /// The event was deliberately not acted on (for example a command older than the maximum
    /// age), and must not be reconsidered.
    Ignored,
}

/// How much longer a record without its event's sending time is kept: 30 days.
pub const UNDATED_KEPT_MILLIS: u64 = 30 * 24 * 60 * 60 * 1000;

/// The record kept for an event once its effect is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handled {
    /// When the process finished with the event, in milliseconds since the Unix epoch.
    pub at_millis: u64,
    /// What was done.
    pub outcome: Outcome,
    /// When the event says it was sent (its `origin_server_ts`), which another server may
    /// put in the future; records of the first release have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_millis: Option<u64>,
}

impl Handled {
    /// Whether the event is finished with and neither its handling nor its sending time is
    /// at or after `cutoff`: an event sent that long ago is no longer acted on, so forgetting
    /// it cannot make it run again. A record without its sending time (the first release's)
    /// is kept [`UNDATED_KEPT_MILLIS`] longer, for an event dated ahead by another server.
    pub fn finished_before(&self, cutoff: u64) -> bool {
        let sent_before = match self.sent_millis {
            Some(sent) => sent < cutoff,
            None => self.at_millis < cutoff.saturating_sub(UNDATED_KEPT_MILLIS),
        };
        self.outcome != Outcome::Started && self.at_millis < cutoff && sent_before
    }
}

/// Errors from a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The storage engine failed (I/O, corruption, a lock held by another process).
    #[error("storage engine failed: {0}")]
    Engine(String),
    /// A stored value could not be read back.
    #[error("stored value under {key:?} is unreadable: {source}")]
    Corrupt {
        /// The key whose value is unreadable.
        key: String,
        /// Why it could not be decoded.
        source: serde_json::Error,
    },
}

/// The store every Brigade process keeps.
///
/// Every write method returns only once the write is durable: callers acknowledge work (to a
/// homeserver, a webhook sender, or their own sync loop) after it, never before.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// The record for `event_id`, if the process has acted on it.
    async fn handled(&self, event_id: &EventId) -> Result<Option<Handled>, StoreError>;

    /// Records that `event_id` has been acted on.
    async fn mark_handled(&self, event_id: &EventId, record: Handled) -> Result<(), StoreError>;

    /// The events whose records are [`Handled::finished_before`] `cutoff`, in no set order.
    async fn finished_before(&self, cutoff: u64) -> Result<Vec<OwnedEventId>, StoreError>;

    /// Forgets the small named values `meta`, then the records of `events`, so that a crash in
    /// between leaves records whose values are gone (forgotten again next time), never values
    /// that nothing names any more. Durable when this returns.
    async fn forget(&self, meta: &[String], events: &[OwnedEventId]) -> Result<(), StoreError>;

    /// A small named value (a checkpoint, a fingerprint), if set.
    async fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Sets a small named value.
    async fn set_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;

    /// The next incident number: 1 for the first, then one more each time, never repeated,
    /// durable before it is returned.
    async fn next_incident_number(&self) -> Result<u64, StoreError>;

    /// Makes the numbers given from now on greater than `used` (found in use elsewhere, as
    /// when the store is rebuilt from the rooms); a lower `used` changes nothing.
    async fn raise_incident_number(&self, used: u64) -> Result<(), StoreError>;

    /// The incident whose room is `room_id`, if there is one.
    async fn incident(&self, room_id: &RoomId) -> Result<Option<IncidentRecord>, StoreError>;

    /// Stores `record`, replacing what was stored for its room.
    async fn save_incident(&self, record: &IncidentRecord) -> Result<(), StoreError>;

    /// Every incident, in the order of their numbers.
    async fn incidents(&self) -> Result<Vec<IncidentRecord>, StoreError>;

    /// The open incidents (neither resolved nor closed), in the order of their numbers: read
    /// through an index, so that the cost follows the open incidents, not all there ever were.
    async fn open_incidents(&self) -> Result<Vec<IncidentRecord>, StoreError>;
}
