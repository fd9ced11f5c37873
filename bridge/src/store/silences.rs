//! Silences made from chat: which room made each, so that only that room lists and ends it.

use serde::{Deserialize, Serialize};

use super::{encode, engine::Tree, Store, StoreError};

/// A silence a room's command made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SilenceRecord {
    /// Alertmanager's ID for it.
    pub id: String,
    /// The room it was made in.
    pub room_id: String,
    /// Its matchers, as shown.
    pub matchers: String,
    /// When it ends (milliseconds since the Unix epoch).
    pub ends: u64,
    /// Who made it.
    pub by: String,
    /// Who ended it, once someone did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_by: Option<String>,
}

impl Store {
    /// Keeps `record`; durable when this returns.
    pub async fn keep_silence(&self, record: &SilenceRecord) -> Result<(), StoreError> {
        {
            let _writing = self.writing.lock().await;
            self.engine.insert(
                Tree::Silences.name(),
                record.id.as_bytes(),
                &encode(&record.id, record)?,
            )?;
            self.wrote();
        }
        self.flush().await
    }

    /// The silence `id`, if a room made it.
    pub fn silence(&self, id: &str) -> Result<Option<SilenceRecord>, StoreError> {
        let Some(bytes) = self.engine.get(Tree::Silences.name(), id.as_bytes())? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| StoreError::Corrupt {
                key: id.to_owned(),
                source,
            })
    }

    /// The silences `room_id` made that nobody ended and that end after `now`, soonest first.
    pub fn silences_of(&self, room_id: &str, now: u64) -> Result<Vec<SilenceRecord>, StoreError> {
        let mut silences = Vec::new();
        for (key, bytes) in self.engine.scan_prefix(Tree::Silences.name(), b"")? {
            let record: SilenceRecord =
                serde_json::from_slice(&bytes).map_err(|source| StoreError::Corrupt {
                    key: String::from_utf8_lossy(&key).into_owned(),
                    source,
                })?;
            if record.room_id == room_id && record.ended_by.is_none() && record.ends > now {
                silences.push(record);
            }
        }
        silences.sort_by_key(|record| record.ends);
        Ok(silences)
    }

    /// Whether the homeserver's event `event_id` was acted on already.
    pub fn seen(&self, event_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .engine
            .get(Tree::Events.name(), event_id.as_bytes())?
            .is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_rooms_silences_are_its_own_and_current_only() {
        let store = Store::in_memory();
        let silence = |id: &str, room: &str, ends| SilenceRecord {
            id: id.to_owned(),
            room_id: room.to_owned(),
            matchers: "alertname=\"DiskFull\"".to_owned(),
            ends,
            by: "@alice:example.org".to_owned(),
            ended_by: None,
        };
        for record in [
            silence("a", "!ops", 5_000),
            silence("b", "!ops", 3_000),
            silence("c", "!other", 5_000),
            silence("d", "!ops", 1_000),
        ] {
            store.keep_silence(&record).await.expect("kept");
        }
        let mut ended = silence("e", "!ops", 9_000);
        ended.ended_by = Some("@bob:example.org".to_owned());
        store.keep_silence(&ended).await.expect("kept");
        let ids: Vec<String> = store
            .silences_of("!ops", 2_000)
            .expect("read")
            .into_iter()
            .map(|record| record.id)
            .collect();
        assert_eq!(
            ids,
            ["b", "a"],
            "soonest first; ended and past ones left out"
        );
        assert_eq!(
            store.silence("c").expect("read"),
            Some(silence("c", "!other", 5_000))
        );
        assert!(!store.seen("$e").expect("read"));
        assert!(store.first_time("$e", 1).await.expect("stored"));
        assert!(store.seen("$e").expect("read"));
    }
}
