//! The store over a storage engine of [`crate::engine`]: sled in the bot, memory in tests, the
//! same code and the same bytes either way.
//!
//! Every write is durable when it returns: it is flushed first (sled is durable only after a
//! flush; see the project's notes on sled). One process owns a database directory at a time:
//! sled locks it, and opening it twice fails with [`StoreError::Engine`]. The trees, keys and
//! encodings are those of the first release.

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use ruma::{EventId, OwnedEventId, RoomId};

use super::contract::{Handled, Store, StoreError};
use crate::{
    engine::{Engine, EngineError, MemoryEngine, SledEngine},
    record::IncidentRecord,
    sync::lock,
};

const HANDLED_TREE: &str = "handled";
const META_TREE: &str = "meta";
const INCIDENTS_TREE: &str = "incidents";
/// The rooms of incidents that may be open, by room ID, holding nothing: every open incident
/// is here (an incident is added before its record says open and taken out after its record
/// says resolved or closed, so a crash in between leaves one too many, never one missing).
const OPEN_TREE: &str = "incidents_open";
const INCIDENT_COUNTER_KEY: &str = "incident.last_number";
/// Set once [`OPEN_TREE`] holds every open incident (stores from before it had none).
const OPEN_INDEXED_KEY: &str = "incident.open_indexed";
/// sled's page cache. Its default is 1 GB; the bot reads back little of what it writes.
const CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// A store over a storage engine.
#[derive(Debug, Clone)]
pub struct EngineStore {
    engine: Arc<dyn Engine>,
    /// Held while the incident counter is read and written back, so that two callers never get
    /// the same number.
    counting: Arc<tokio::sync::Mutex<()>>,
    /// The open incidents as last read, by key, with the bytes they were decoded from: the
    /// periodic tasks read every open incident each second, and only what changed since (its
    /// bytes differ) is decoded again.
    decoded: Arc<Mutex<Decoded>>,
}

/// Records by key, each with the bytes it was decoded from.
type Decoded = HashMap<Vec<u8>, (Vec<u8>, IncidentRecord)>;

fn engine_error(error: EngineError) -> StoreError {
    StoreError::Engine(error.0)
}

impl EngineStore {
    /// Opens (or creates) the sled database in `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let trees = [HANDLED_TREE, META_TREE, INCIDENTS_TREE, OPEN_TREE];
        let engine = SledEngine::open(path, &trees, CACHE_BYTES).map_err(engine_error)?;
        Self::over(Arc::new(engine))
    }

    /// A store that forgets everything when dropped, for tests.
    pub fn in_memory() -> Self {
        Self::over(Arc::new(MemoryEngine::new())).expect("an empty store needs no index")
    }

    fn over(engine: Arc<dyn Engine>) -> Result<Self, StoreError> {
        let store = Self {
            engine,
            counting: Arc::default(),
            decoded: Arc::default(),
        };
        store.index_open_incidents()?;
        Ok(store)
    }

    /// Fills [`OPEN_TREE`] from every incident, once: in a store of a version before it. A
    /// record that cannot be read is indexed, so that reading the open incidents says so.
    fn index_open_incidents(&self) -> Result<(), StoreError> {
        let indexed = self.engine.get(META_TREE, OPEN_INDEXED_KEY.as_bytes());
        if indexed.map_err(engine_error)?.is_some() {
            return Ok(());
        }
        for (key, bytes) in self
            .engine
            .scan_prefix(INCIDENTS_TREE, b"")
            .map_err(engine_error)?
        {
            let open = decode_incident(&String::from_utf8_lossy(&key), &bytes)
                .map_or(true, |record| record.incident.status.is_open());
            if open {
                self.engine
                    .insert(OPEN_TREE, &key, &[])
                    .map_err(engine_error)?;
            }
        }
        self.engine
            .insert(META_TREE, OPEN_INDEXED_KEY.as_bytes(), b"1")
            .map_err(engine_error)?;
        self.engine.flush().map_err(engine_error)
    }

    /// Writes `value` under `key` in `tree`; durable when this returns.
    async fn put(&self, tree: &str, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.engine.insert(tree, key, value).map_err(engine_error)?;
        self.flush().await
    }

    async fn flush(&self) -> Result<(), StoreError> {
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || engine.flush())
            .await
            .map_err(|error| StoreError::Engine(error.to_string()))?
            .map_err(engine_error)
    }

    /// The last incident number handed out.
    fn last_number(&self) -> Result<u64, StoreError> {
        Ok(self
            .engine
            .get(META_TREE, INCIDENT_COUNTER_KEY.as_bytes())
            .map_err(engine_error)?
            .as_deref()
            .and_then(decode_counter)
            .unwrap_or(0))
    }
}

/// The incident counter: a big-endian `u64`.
fn decode_counter(bytes: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(bytes).ok().map(u64::from_be_bytes)
}

#[async_trait]
impl Store for EngineStore {
    async fn handled(&self, event_id: &EventId) -> Result<Option<Handled>, StoreError> {
        let Some(bytes) = self
            .engine
            .get(HANDLED_TREE, event_id.as_bytes())
            .map_err(engine_error)?
        else {
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
        self.put(HANDLED_TREE, event_id.as_bytes(), &bytes).await
    }

    async fn finished_before(&self, cutoff: u64) -> Result<Vec<OwnedEventId>, StoreError> {
        let mut finished = Vec::new();
        for (key, bytes) in self
            .engine
            .scan_prefix(HANDLED_TREE, b"")
            .map_err(engine_error)?
        {
            // A record this version cannot read is kept: it may be one it should not forget.
            let Ok(record) = serde_json::from_slice::<Handled>(&bytes) else {
                continue;
            };
            let Ok(event_id) = OwnedEventId::try_from(String::from_utf8_lossy(&key).as_ref())
            else {
                continue;
            };
            if record.finished_before(cutoff) {
                finished.push(event_id);
            }
        }
        Ok(finished)
    }

    async fn forget(&self, meta: &[String], events: &[OwnedEventId]) -> Result<(), StoreError> {
        for key in meta {
            self.engine
                .remove(META_TREE, key.as_bytes())
                .map_err(engine_error)?;
        }
        for event_id in events {
            self.engine
                .remove(HANDLED_TREE, event_id.as_bytes())
                .map_err(engine_error)?;
        }
        self.flush().await
    }

    async fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.engine
            .get(META_TREE, key.as_bytes())
            .map_err(engine_error)
    }

    async fn set_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.put(META_TREE, key.as_bytes(), value).await
    }

    async fn next_incident_number(&self) -> Result<u64, StoreError> {
        let _counting = self.counting.lock().await;
        let number = self.last_number()?.saturating_add(1);
        self.put(
            META_TREE,
            INCIDENT_COUNTER_KEY.as_bytes(),
            &number.to_be_bytes(),
        )
        .await?;
        Ok(number)
    }

    async fn raise_incident_number(&self, used: u64) -> Result<(), StoreError> {
        let _counting = self.counting.lock().await;
        let number = self.last_number()?.max(used);
        self.put(
            META_TREE,
            INCIDENT_COUNTER_KEY.as_bytes(),
            &number.to_be_bytes(),
        )
        .await
    }

    async fn incident(&self, room_id: &RoomId) -> Result<Option<IncidentRecord>, StoreError> {
        let Some(bytes) = self
            .engine
            .get(INCIDENTS_TREE, room_id.as_bytes())
            .map_err(engine_error)?
        else {
            return Ok(None);
        };
        decode_incident(room_id.as_str(), &bytes).map(Some)
    }

    async fn save_incident(&self, record: &IncidentRecord) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(record).map_err(|source| StoreError::Corrupt {
            key: record.room_id.to_string(),
            source,
        })?;
        let key = record.room_id.as_bytes();
        if record.incident.status.is_open() {
            self.engine
                .insert(OPEN_TREE, key, &[])
                .map_err(engine_error)?;
            self.put(INCIDENTS_TREE, key, &bytes).await
        } else {
            self.engine
                .insert(INCIDENTS_TREE, key, &bytes)
                .map_err(engine_error)?;
            self.engine.remove(OPEN_TREE, key).map_err(engine_error)?;
            self.flush().await
        }
    }

    async fn incidents(&self) -> Result<Vec<IncidentRecord>, StoreError> {
        let mut all = Vec::new();
        for (key, bytes) in self
            .engine
            .scan_prefix(INCIDENTS_TREE, b"")
            .map_err(engine_error)?
        {
            all.push(decode_incident(&String::from_utf8_lossy(&key), &bytes)?);
        }
        all.sort_by_key(|record| record.incident.number);
        Ok(all)
    }

    async fn open_incidents(&self) -> Result<Vec<IncidentRecord>, StoreError> {
        let mut open = Vec::new();
        // Taken out while the store is read, so that no other reader waits on the lock; two
        // at once decode what changed twice, and the last one's is kept.
        let mut decoded = std::mem::take(&mut *lock(&self.decoded));
        let mut kept = HashMap::with_capacity(decoded.len());
        for key in self.engine.keys(OPEN_TREE).map_err(engine_error)? {
            let Some(bytes) = self
                .engine
                .get(INCIDENTS_TREE, &key)
                .map_err(engine_error)?
            else {
                self.engine.remove(OPEN_TREE, &key).map_err(engine_error)?;
                continue;
            };
            let record = match decoded.remove(&key) {
                Some((read, record)) if read == bytes => record,
                _ => decode_incident(&String::from_utf8_lossy(&key), &bytes)?,
            };
            if record.incident.status.is_open() {
                open.push(record.clone());
                kept.insert(key, (bytes, record));
            } else {
                // Left by a crash between a closing record and its index: durable with the
                // next write, and taken out again if a crash loses it.
                self.engine.remove(OPEN_TREE, &key).map_err(engine_error)?;
            }
        }
        *lock(&self.decoded) = kept;
        open.sort_by_key(|record| record.incident.number);
        Ok(open)
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
            sent_millis: Some(6),
        };
        {
            let store = EngineStore::open(dir.path()).expect("open");
            store
                .mark_handled(event_id!("$a"), record)
                .await
                .expect("mark");
            store.set_meta("checkpoint", b"42").await.expect("meta");
        }
        let store = EngineStore::open(dir.path()).expect("reopen");
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
        let store = EngineStore::open(dir.path()).expect("reopen again");
        assert_eq!(
            store.next_incident_number().await.expect("number"),
            2,
            "numbers never repeat across restarts"
        );
    }

    #[tokio::test]
    async fn a_database_already_open_cannot_be_opened_again() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let _first = EngineStore::open(dir.path()).expect("open");
        let second = EngineStore::open(dir.path());
        assert!(matches!(second, Err(StoreError::Engine(_))), "{second:?}");
    }

    /// A database as the first release wrote it (trees, keys and encodings, byte for byte) is
    /// read the same, and its numbers go on.
    #[tokio::test]
    async fn a_database_written_by_the_first_release_is_read_the_same() {
        use ruma::room_id;

        let dir = tempfile::tempdir().expect("temporary directory");
        {
            let trees = [HANDLED_TREE, META_TREE, INCIDENTS_TREE];
            let engine = SledEngine::open(dir.path(), &trees, 1 << 20).expect("open");
            let put = |tree: &str, key: &[u8], value: &[u8]| {
                engine.insert(tree, key, value).expect("written");
            };
            put("handled", b"$a", br#"{"at_millis":7,"outcome":"done"}"#);
            put("meta", b"sync.checkpoint_millis", b"42");
            put("meta", b"incident.last_number", &3u64.to_be_bytes());
            put(
                "incidents",
                b"!inc:example.org",
                br##"{"incident":{"number":3,"title":"Disk full","severity":"SEV2","type":"operations","status":"investigating","private":false,"commander":"@alice:example.org","roles":{},"summary":"","timestamps":{"declared":1000}},"room_id":"!inc:example.org","alias":"#inc-20261128-3-disk-full:example.org","summary_event":"$summary","version":2}"##,
            );
            engine.flush().expect("flushed");
        }
        let store = EngineStore::open(dir.path()).expect("opened by this version");
        assert_eq!(
            store.handled(event_id!("$a")).await.expect("read"),
            Some(Handled {
                at_millis: 7,
                outcome: Outcome::Done,
                sent_millis: None,
            })
        );
        assert_eq!(
            store.meta("sync.checkpoint_millis").await.expect("read"),
            Some(b"42".to_vec())
        );
        let record = store
            .incident(room_id!("!inc:example.org"))
            .await
            .expect("read")
            .expect("the incident");
        assert_eq!(
            (
                record.incident.number.0,
                record.incident.title.as_str(),
                record.alias.as_str(),
                record.summary_event.as_ref().map(|id| id.as_str()),
                record.version,
            ),
            (
                3,
                "Disk full",
                "#inc-20261128-3-disk-full:example.org",
                Some("$summary"),
                2
            )
        );
        assert_eq!(store.incidents().await.expect("all").len(), 1);
        assert_eq!(
            store.open_incidents().await.expect("open").len(),
            1,
            "the open incidents of a store from before the index are indexed at opening"
        );
        assert_eq!(store.next_incident_number().await.expect("number"), 4);
    }

    /// Reading the open incidents reads no closed one: a closed record that could not even be
    /// read does not stand in the way (the reminder tick used to read every incident each
    /// second).
    #[tokio::test]
    async fn the_open_incidents_are_read_without_reading_the_closed_ones() {
        use crate::{incident::Severity, incident::Status, testing};

        let dir = tempfile::tempdir().expect("temporary directory");
        let store = EngineStore::open(dir.path()).expect("open");
        let alice = ruma::user_id!("@alice:example.org");
        for number in 1..=50 {
            let mut record = testing::record(number, "old", Severity::Sev3, 1_000);
            record.room_id = format!("!closed{number}:x").try_into().expect("room ID");
            record
                .incident
                .set_status(Status::Resolved, 2_000, alice)
                .expect("resolved");
            store.save_incident(&record).await.expect("save");
        }
        let mut open = testing::record(51, "now", Severity::Sev1, 3_000);
        open.room_id = ruma::owned_room_id!("!open:x");
        store.save_incident(&open).await.expect("save");
        store
            .engine
            .insert(INCIDENTS_TREE, b"!closed7:x", b"{not json")
            .expect("spoiled");
        drop(store);

        let store = EngineStore::open(dir.path()).expect("reopen");
        assert!(
            store.incidents().await.is_err(),
            "every incident includes the spoiled one"
        );
        assert_eq!(store.open_incidents().await.expect("open"), vec![open]);
    }

    /// The open incidents, read again, are what is stored now: one changed since (by this
    /// store or by a write underneath it) is decoded again, one closed leaves.
    #[tokio::test]
    async fn the_open_incidents_read_again_show_every_change() {
        use crate::{incident::Severity, incident::Status, testing};

        let store = EngineStore::in_memory();
        let mut first = testing::record(1, "DNS", Severity::Sev2, 1_000);
        store.save_incident(&first).await.expect("save");
        let mut second = testing::record(2, "Disk", Severity::Sev3, 1_000);
        second.room_id = ruma::owned_room_id!("!second:x");
        store.save_incident(&second).await.expect("save");
        assert_eq!(store.open_incidents().await.expect("open").len(), 2);

        first.incident.title = "DNS again".to_owned();
        store.save_incident(&first).await.expect("save");
        second.version = 9;
        let bytes = serde_json::to_vec(&second).expect("serializes");
        store
            .engine
            .insert(INCIDENTS_TREE, second.room_id.as_bytes(), &bytes)
            .expect("written underneath");
        let open = store.open_incidents().await.expect("open");
        assert_eq!(open[0].incident.title, "DNS again");
        assert_eq!(open[1].version, 9);

        let alice = ruma::user_id!("@alice:example.org");
        first
            .incident
            .set_status(Status::Resolved, 2_000, alice)
            .expect("resolved");
        store.save_incident(&first).await.expect("save");
        let open = store.open_incidents().await.expect("open");
        assert_eq!(open.len(), 1);
        assert_eq!(lock(&store.decoded).len(), 1, "the closed one is not kept");
    }
}
