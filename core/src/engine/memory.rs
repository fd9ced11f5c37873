//! The memory engine, for unit tests: the same trees, gone when dropped.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
};

use crate::sync::lock;

use super::contract::{Engine, EngineError, Entry};

/// One tree's entries, in key order.
type Entries = BTreeMap<Vec<u8>, Vec<u8>>;

/// Trees in memory.
#[derive(Debug, Default)]
pub struct MemoryEngine {
    trees: Mutex<HashMap<String, Entries>>,
    ids: AtomicU64,
}

impl MemoryEngine {
    /// Empty trees.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Engine for MemoryEngine {
    fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        Ok(lock(&self.trees)
            .get(tree)
            .and_then(|entries| entries.get(key).cloned()))
    }

    fn insert(&self, tree: &str, key: &[u8], value: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        Ok(lock(&self.trees)
            .entry(tree.to_owned())
            .or_default()
            .insert(key.to_vec(), value.to_vec()))
    }

    fn remove(&self, tree: &str, key: &[u8]) -> Result<(), EngineError> {
        if let Some(entries) = lock(&self.trees).get_mut(tree) {
            entries.remove(key);
        }
        Ok(())
    }

    fn keys(&self, tree: &str) -> Result<Vec<Vec<u8>>, EngineError> {
        Ok(lock(&self.trees)
            .get(tree)
            .map(|entries| entries.keys().cloned().collect())
            .unwrap_or_default())
    }

    fn scan_prefix(&self, tree: &str, prefix: &[u8]) -> Result<Vec<Entry>, EngineError> {
        Ok(lock(&self.trees)
            .get(tree)
            .map(|entries| {
                entries
                    .range(prefix.to_vec()..)
                    .take_while(|(key, _)| key.starts_with(prefix))
                    .map(|(key, value)| (key.clone(), value.clone()))
                    .collect()
            })
            .unwrap_or_default())
    }

    fn len(&self, tree: &str) -> usize {
        lock(&self.trees).get(tree).map_or(0, Entries::len)
    }

    fn generate_id(&self) -> Result<u64, EngineError> {
        Ok(self.ids.fetch_add(1, Ordering::Relaxed))
    }

    fn flush(&self) -> Result<(), EngineError> {
        Ok(())
    }
}
