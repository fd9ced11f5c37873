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
