//! The sled-backed store (with the sled engine of `crate::engine`, the only modules that name
//! sled).
//!
//! sled is durable only after `flush_async` returns (see the project's notes on sled), so every
//! write flushes before it reports success. One process owns a database directory at a time:
//! sled locks it, and opening it twice fails with [`StoreError::Engine`].

use std::path::Path;

use async_trait::async_trait;
use ruma::{EventId, RoomId};

use super::contract::{Handled, Store, StoreError};
use crate::record::IncidentRecord;

const HANDLED_TREE: &str = "handled";
const META_TREE: &str = "meta";
const INCIDENTS_TREE: &str = "incidents";
const INCIDENT_COUNTER_KEY: &str = "incident.last_number";

/// A store in a sled database directory.
#[derive(Debug, Clone)]
pub struct SledStore {
    db: sled::Db,
    handled: sled::Tree,
    meta: sled::Tree,
    incidents: sled::Tree,
}

fn engine(error: sled::Error) -> StoreError {
    StoreError::Engine(error.to_string())
}

impl SledStore {
    /// Opens (or creates) the database in `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = sled::open(path).map_err(engine)?;
        let handled = db.open_tree(HANDLED_TREE).map_err(engine)?;
        let meta = db.open_tree(META_TREE).map_err(engine)?;
        let incidents = db.open_tree(INCIDENTS_TREE).map_err(engine)?;
        Ok(Self {
            db,
            handled,
            meta,
            incidents,
        })
    }

    async fn flush(&self) -> Result<(), StoreError> {
        self.db.flush_async().await.map_err(engine)?;
        Ok(())
    }
}

/// The incident counter: a big-endian `u64`.
fn decode_counter(bytes: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(bytes).ok().map(u64::from_be_bytes)
}

#[async_trait]
impl Store for SledStore {
    async fn handled(&self, event_id: &EventId) -> Result<Option<Handled>, StoreError> {
        let Some(bytes) = self.handled.get(event_id.as_bytes()).map_err(engine)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| StoreError::Corrupt {
                key: event_id.to_string(),
                source,
            })
    }

    async fn mark_handled(&self, event_id: &EventId, record: Handled) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(&record).map_err(|source| StoreError::Corrupt {
            key: event_id.to_string(),
            source,
        })?;
        self.handled
            .insert(event_id.as_bytes(), bytes)
            .map_err(engine)?;
        self.flush().await
    }

    async fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .meta
            .get(key)
            .map_err(engine)?
            .map(|value| value.to_vec()))
    }

    async fn set_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.meta.insert(key, value).map_err(engine)?;
        self.flush().await
    }

    async fn next_incident_number(&self) -> Result<u64, StoreError> {
        // Atomic in sled, so two callers never get the same number.
        let updated = self
            .meta
            .update_and_fetch(INCIDENT_COUNTER_KEY, |last| {
                let last = last.and_then(decode_counter).unwrap_or(0);
                Some(last.saturating_add(1).to_be_bytes().to_vec())
            })
            .map_err(engine)?;
        let number = updated.as_deref().and_then(decode_counter).ok_or_else(|| {
            StoreError::Engine("incident counter unreadable after update".to_owned())
        })?;
        self.flush().await?;
        Ok(number)
    }

    async fn raise_incident_number(&self, used: u64) -> Result<(), StoreError> {
        self.meta
            .update_and_fetch(INCIDENT_COUNTER_KEY, |last| {
                let last = last.and_then(decode_counter).unwrap_or(0);
                Some(last.max(used).to_be_bytes().to_vec())
            })
            .map_err(engine)?;
        self.flush().await
    }

    async fn incident(&self, room_id: &RoomId) -> Result<Option<IncidentRecord>, StoreError> {
        let Some(bytes) = self.incidents.get(room_id.as_bytes()).map_err(engine)? else {
            return Ok(None);
        };
        decode_incident(room_id.as_str(), &bytes).map(Some)
    }

    async fn save_incident(&self, record: &IncidentRecord) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(record).map_err(|source| StoreError::Corrupt {
            key: record.room_id.to_string(),
            source,
        })?;
        self.incidents
            .insert(record.room_id.as_bytes(), bytes)
            .map_err(engine)?;
        self.flush().await
    }

    async fn incidents(&self) -> Result<Vec<IncidentRecord>, StoreError> {
        let mut all = Vec::new();
        for entry in &self.incidents {
            let (key, bytes) = entry.map_err(engine)?;
            all.push(decode_incident(&String::from_utf8_lossy(&key), &bytes)?);
        }
        all.sort_by_key(|record| record.incident.number);
        Ok(all)
    }
}

fn decode_incident(key: &str, bytes: &[u8]) -> Result<IncidentRecord, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt {
        key: key.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use ruma::event_id;

    use super::*;
    use crate::store::contract::Outcome;

    #[tokio::test]
    async fn records_survive_reopening_the_database() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let record = Handled {
            at_millis: 7,
            outcome: Outcome::Done,
        };
        {
            let store = SledStore::open(dir.path()).expect("open");
            store
                .mark_handled(event_id!("$a"), record)
                .await
                .expect("mark");
            store.set_meta("checkpoint", b"42").await.expect("meta");
        }
        let store = SledStore::open(dir.path()).expect("reopen");
        assert_eq!(
            store.handled(event_id!("$a")).await.expect("read"),
            Some(record)
        );
        assert_eq!(
            store.meta("checkpoint").await.expect("read"),
            Some(b"42".to_vec())
        );
        assert_eq!(store.next_incident_number().await.expect("number"), 1);
        drop(store);
        let store = SledStore::open(dir.path()).expect("reopen again");
        assert_eq!(
            store.next_incident_number().await.expect("number"),
            2,
            "numbers never repeat across restarts"
        );
    }

    #[tokio::test]
    async fn a_database_already_open_cannot_be_opened_again() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let _first = SledStore::open(dir.path()).expect("open");
        let second = SledStore::open(dir.path());
        assert!(matches!(second, Err(StoreError::Engine(_))), "{second:?}");
    }
}
