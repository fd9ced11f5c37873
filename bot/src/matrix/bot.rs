//! What every handler works with: the client, the configuration, the store and the tasks that
//! carry changes on. Passed explicitly (`&Bot`), never global.

use std::sync::Arc;

use brigade_core::{clock::Clock, store::Store};
use matrix_sdk::{ruma::RoomVersionId, Client};

use super::{publisher::Publisher, rooms::StandardRooms};
use crate::{
    config::Config,
    metrics::{Health, Metrics},
};

/// What every handler works with.
#[derive(Debug)]
pub struct Bot {
    /// The logged-in client.
    pub client: Client,
    /// The validated configuration.
    pub config: Arc<Config>,
    /// What has been handled, and small named values.
    pub store: Arc<dyn Store>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Sync health for `/healthz`.
    pub health: Arc<Health>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// The space, triage, announcements and postmortems rooms.
    pub rooms: StandardRooms,
    /// The version incident rooms are created in.
    pub room_version: RoomVersionId,
    /// Brings incident rooms in step with their records.
    pub publisher: Publisher,
    /// Asks for the status page to be built again.
    pub status: Arc<crate::status::writer::StatusSite>,
    /// Held while an incident record is read, changed and written back.
    pub records: tokio::sync::Mutex<()>,
    /// Wakes the sender of queued invitations when some are queued.
    pub invitations: tokio::sync::Notify,
    /// Wakes the sender of notifications outside Matrix when a stored page owes some, so
    /// that one due at once (`notify_after = 0`) waits for no tick.
    pub notices: tokio::sync::Notify,
    /// Rooms whose invitation of the bot is being answered (in the background).
    pub joining: std::sync::Mutex<std::collections::HashSet<matrix_sdk::ruma::OwnedRoomId>>,
    /// When the store was last pruned of what can no longer be replayed (0: not yet).
    pub pruned: std::sync::atomic::AtomicU64,
    /// The day (since the Unix epoch, UTC) overdue follow-ups were last all reminded.
    pub overdue_checked: std::sync::atomic::AtomicU64,
    /// The events held until they can be decrypted.
    pub undecrypted: tokio::sync::Mutex<Undecrypted>,
    /// The final postmortems owed to `[postmortems] git`.
    pub postmortem_repo: crate::postmortem_repo::Owed,
}

impl Bot {
    /// Wakes the sender of notifications if `record`, just stored, owes one now.
    pub fn owes_notices(&self, record: &brigade_core::record::IncidentRecord) {
        let now = self.clock.now_millis();
        let owes = record.escalations.iter().any(|escalation| {
            escalation.notify_at.is_some_and(|at| at <= now)
                && escalation
                    .notices
                    .iter()
                    .any(|notice| !notice.sent && notice.retry_at <= now)
        });
        if owes {
            self.notices.notify_one();
        }
    }
}

/// The events held until they can be decrypted (kept in the store too), and which of them are
/// with the worker now.
#[derive(Debug, Default)]
pub struct Undecrypted {
    /// Every event held, oldest first.
    pub events: Vec<crate::keys::HeldEvent>,
    /// Those decrypted and queued, not handled yet.
    pub queued: std::collections::HashSet<matrix_sdk::ruma::OwnedEventId>,
}

/// A crash (exit 137, as after SIGKILL), for the end-to-end tests' fault injection.
#[cfg(feature = "failpoints")]
pub fn crash<T>() -> T {
    tracing::warn!("failpoint: crashing");
    std::process::exit(137)
}
