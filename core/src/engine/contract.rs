//! What every engine does, apart from the engines so that they import this and nothing that
//! imports them.

/// Why an engine failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("storage engine: {0}")]
pub struct EngineError(pub String);

/// An entry of a tree: its key and value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// A storage engine. Writes are visible at once and durable after [`Engine::flush`]; callers
/// serialise writes that must not interleave.
pub trait Engine: Send + Sync + std::fmt::Debug {
    /// The value under `key`.
    fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError>;
    /// Sets `key` to `value`; returns the value it replaced.
    fn insert(&self, tree: &str, key: &[u8], value: &[u8]) -> Result<Option<Vec<u8>>, EngineError>;
    /// Removes `key`.
    fn remove(&self, tree: &str, key: &[u8]) -> Result<(), EngineError>;
    /// Every key, in order.
    fn keys(&self, tree: &str) -> Result<Vec<Vec<u8>>, EngineError>;
    /// Every entry whose key starts with `prefix`, in order.
    fn scan_prefix(&self, tree: &str, prefix: &[u8]) -> Result<Vec<Entry>, EngineError>;
    /// How many entries the tree holds.
    fn len(&self, tree: &str) -> usize;
    /// An ID never handed out before, across restarts too.
    fn generate_id(&self) -> Result<u64, EngineError>;
    /// Makes every write so far durable. Blocking: called on a blocking thread.
    fn flush(&self) -> Result<(), EngineError>;
}
