//! The sled engine: the only module of the bridge that names sled.

use std::path::Path;

use super::engine::{Engine, Entry, StoreError, Tree};

/// sled's page cache. Its default is 1 GB; the bridge reads back little of what it writes.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// A sled database with the bridge's trees.
#[derive(Debug, Clone)]
pub struct SledEngine {
    db: sled::Db,
    trees: Vec<(Tree, sled::Tree)>,
}

fn engine(error: sled::Error) -> StoreError {
    StoreError::Engine(error.to_string())
}

impl SledEngine {
    /// Opens (or creates) the database in `dir`; fails if another process holds it.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(engine)?;
        let trees = Tree::ALL
            .into_iter()
            .map(|tree| Ok((tree, db.open_tree(tree.name()).map_err(engine)?)))
            .collect::<Result<_, StoreError>>()?;
        Ok(Self { db, trees })
    }

    fn tree(&self, tree: Tree) -> &sled::Tree {
        &self
            .trees
            .iter()
            .find(|(name, _)| *name == tree)
            .expect("every tree is opened with the database")
            .1
    }
}

impl Engine for SledEngine {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .tree(tree)
            .get(key)
            .map_err(engine)?
            .map(|value| value.to_vec()))
    }

    fn insert(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .tree(tree)
            .insert(key, value)
            .map_err(engine)?
            .map(|value| value.to_vec()))
    }

    fn remove(&self, tree: Tree, key: &[u8]) -> Result<(), StoreError> {
        self.tree(tree).remove(key).map_err(engine)?;
        Ok(())
    }

    fn keys(&self, tree: Tree) -> Result<Vec<Vec<u8>>, StoreError> {
        self.tree(tree)
            .iter()
            .keys()
            .map(|key| Ok(key.map_err(engine)?.to_vec()))
            .collect()
    }

    fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<Entry>, StoreError> {
        self.tree(tree)
            .scan_prefix(prefix)
            .map(|entry| {
                let (key, value) = entry.map_err(engine)?;
                Ok((key.to_vec(), value.to_vec()))
            })
            .collect()
    }

    fn len(&self, tree: Tree) -> usize {
        self.tree(tree).len()
    }

    fn generate_id(&self) -> Result<u64, StoreError> {
        self.db.generate_id().map_err(engine)
    }

    /// Not `flush_async`: its flushes wait in sled's own thread pool for writes queued behind
    /// them in that pool, and a few dozen concurrent webhooks deadlocked it (seen here).
    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(engine)?;
        Ok(())
    }
}
