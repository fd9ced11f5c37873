//! The trees of the bridge's store, on an engine of `brigade_core::engine`, and why the store
//! failed.

use brigade_core::engine::EngineError;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The storage engine failed (I/O, corruption, a lock held by another process).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A stored value is not what this bridge writes.
    #[error("corrupt record {key}: {source}")]
    Corrupt {
        /// Its key.
        key: String,
        /// Why it does not parse.
        source: serde_json::Error,
    },
}

/// The bridge's trees; their names are those on disk, unchanged since the first release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tree {
    /// Each alert's state, by alert key.
    Alerts,
    /// Alerts and bursts whose message is behind, by outbox key.
    Outbox,
    /// Burst records, by burst key.
    Bursts,
    /// Which alerts a burst counts: burst ID (big-endian) then alert key, holding the episode.
    Members,
    /// Homeserver events acted on, by event ID, holding when they were first seen (big-endian
    /// milliseconds; empty in stores of the first release).
    Events,
    /// Signed webhook deliveries accepted, by delivery ID, holding when they were made.
    Deliveries,
    /// Silences made from chat, by Alertmanager's silence ID.
    Silences,
    /// Follow-ups' tickets, by the bot's follow-up event ID.
    Tickets,
    /// Which follow-up each ticket is of: tracker name, NUL, ticket key; holding the event ID.
    TicketKeys,
}

impl Tree {
    /// Every tree.
    pub const ALL: [Self; 9] = [
        Self::Alerts,
        Self::Outbox,
        Self::Bursts,
        Self::Members,
        Self::Events,
        Self::Deliveries,
        Self::Silences,
        Self::Tickets,
        Self::TicketKeys,
    ];

    /// The tree's name in the database.
    pub fn name(self) -> &'static str {
        match self {
            Self::Alerts => "alerts",
            Self::Outbox => "outbox",
            Self::Bursts => "bursts",
            Self::Members => "burst_members",
            Self::Events => "events",
            Self::Deliveries => "deliveries",
            Self::Silences => "silences",
            Self::Tickets => "tickets",
            Self::TicketKeys => "ticket_keys",
        }
    }
}
