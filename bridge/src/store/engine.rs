//! What the bridge's store needs of a storage engine: named trees of ordered byte keys, a
//! durable barrier, and IDs that never repeat. Two engines implement it: sled
//! ([`super::sled_engine`], the only module that names sled) and memory ([`super::memory`]), and
//! one conformance suite runs the store over both.

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The storage engine failed (I/O, corruption, a lock held by another process).
    #[error("storage engine: {0}")]
    Engine(String),
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
    /// Homeserver events acted on, by event ID.
    Events,
}

impl Tree {
    /// Every tree.
    pub const ALL: [Self; 5] = [
        Self::Alerts,
        Self::Outbox,
        Self::Bursts,
        Self::Members,
        Self::Events,
    ];

    /// The tree's name in the database.
    pub fn name(self) -> &'static str {
        match self {
            Self::Alerts => "alerts",
            Self::Outbox => "outbox",
            Self::Bursts => "bursts",
            Self::Members => "burst_members",
            Self::Events => "events",
        }
    }
}

/// An entry of a tree: its key and value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// A storage engine. Writes are visible at once and durable after [`Engine::flush`]; callers
/// serialise writes that must not interleave.
pub trait Engine: Send + Sync + std::fmt::Debug {
    /// The value under `key`.
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Sets `key` to `value`; returns the value it replaced.
    fn insert(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Removes `key`.
    fn remove(&self, tree: Tree, key: &[u8]) -> Result<(), StoreError>;
    /// Every key, in order.
    fn keys(&self, tree: Tree) -> Result<Vec<Vec<u8>>, StoreError>;
    /// Every entry whose key starts with `prefix`, in order.
    fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<Entry>, StoreError>;
    /// How many entries the tree holds.
    fn len(&self, tree: Tree) -> usize;
    /// An ID never handed out before, across restarts too.
    fn generate_id(&self) -> Result<u64, StoreError>;
    /// Makes every write so far durable. Blocking: called on a blocking thread.
    fn flush(&self) -> Result<(), StoreError>;
}
