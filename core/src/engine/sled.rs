//! The sled engine.

use std::path::Path;

use super::contract::{Engine, EngineError, Entry};

/// A sled database with named trees.
#[derive(Debug, Clone)]
pub struct SledEngine {
    db: sled::Db,
    trees: Vec<(&'static str, sled::Tree)>,
}

fn engine(error: sled::Error) -> EngineError {
    EngineError(error.to_string())
}

/// How long an open waits for a lock another handle of this process is letting go of.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

impl SledEngine {
    /// Opens (or creates) the database in `dir` with `trees`, caching up to `cache_bytes`
    /// (sled's default is 1 GB); fails if another process holds it.
    ///
    /// A database this process has just closed can stay locked for a moment while sled's
    /// background threads let go of it (seen in tests that reopen one): its lock is waited
    /// for, up to [`LOCK_WAIT`], before the open fails.
    pub fn open(dir: &Path, trees: &[&'static str], cache_bytes: u64) -> Result<Self, EngineError> {
        let config = sled::Config::new().path(dir).cache_capacity(cache_bytes);
        let started = std::time::Instant::now();
        let db = loop {
            match config.open() {
                Ok(db) => break db,
                Err(sled::Error::Io(error))
                    if error.to_string().starts_with("could not acquire lock")
                        && started.elapsed() < LOCK_WAIT =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(error) => return Err(engine(error)),
            }
        };
        let trees = trees
            .iter()
            .map(|name| Ok((*name, db.open_tree(name).map_err(engine)?)))
            .collect::<Result<_, EngineError>>()?;
        Ok(Self { db, trees })
    }

    fn tree(&self, tree: &str) -> Result<&sled::Tree, EngineError> {
        self.trees
            .iter()
            .find(|(name, _)| *name == tree)
            .map(|(_, tree)| tree)
            .ok_or_else(|| EngineError(format!("no tree `{tree}` was opened")))
    }
}

impl Engine for SledEngine {
    fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        Ok(self
            .tree(tree)?
            .get(key)
            .map_err(engine)?
            .map(|value| value.to_vec()))
    }

    fn insert(&self, tree: &str, key: &[u8], value: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        Ok(self
            .tree(tree)?
            .insert(key, value)
            .map_err(engine)?
            .map(|value| value.to_vec()))
    }

    fn remove(&self, tree: &str, key: &[u8]) -> Result<(), EngineError> {
        self.tree(tree)?.remove(key).map_err(engine)?;
        Ok(())
    }

    fn keys(&self, tree: &str) -> Result<Vec<Vec<u8>>, EngineError> {
        self.tree(tree)?
            .iter()
            .keys()
            .map(|key| Ok(key.map_err(engine)?.to_vec()))
            .collect()
    }

    fn scan_prefix(&self, tree: &str, prefix: &[u8]) -> Result<Vec<Entry>, EngineError> {
        self.tree(tree)?
            .scan_prefix(prefix)
            .map(|entry| {
                let (key, value) = entry.map_err(engine)?;
                Ok((key.to_vec(), value.to_vec()))
            })
            .collect()
    }

    fn len(&self, tree: &str) -> usize {
        self.tree(tree).map_or(0, sled::Tree::len)
    }

    fn generate_id(&self) -> Result<u64, EngineError> {
        self.db.generate_id().map_err(engine)
    }

    /// Not `flush_async`: its flushes wait in sled's own thread pool for writes queued behind
    /// them in that pool, and a few dozen concurrent webhooks deadlocked it (seen here).
    fn flush(&self) -> Result<(), EngineError> {
        self.db.flush().map_err(engine)?;
        Ok(())
    }
}
