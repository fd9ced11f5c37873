//! An in-memory store for unit tests and for the conformance suite's reference.

use std::{collections::HashMap, sync::Mutex};

use async_trait::async_trait;
use ruma::{EventId, OwnedEventId, OwnedRoomId, RoomId};

use super::contract::{Handled, Store, StoreError};
use crate::record::IncidentRecord;
use crate::sync::lock;

/// A store that forgets everything when dropped.
#[derive(Debug, Default)]
pub struct MemoryStore {
    handled: Mutex<HashMap<OwnedEventId, Handled>>,
    meta: Mutex<HashMap<String, Vec<u8>>>,
    last_number: Mutex<u64>,
    incidents: Mutex<HashMap<OwnedRoomId, IncidentRecord>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn handled(&self, event_id: &EventId) -> Result<Option<Handled>, StoreError> {
        Ok(lock(&self.handled).get(event_id).copied())
    }

    async fn mark_handled(&self, event_id: &EventId, record: Handled) -> Result<(), StoreError> {
        lock(&self.handled).insert(event_id.to_owned(), record);
        Ok(())
    }

    async fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(lock(&self.meta).get(key).cloned())
    }

    async fn set_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        lock(&self.meta).insert(key.to_owned(), value.to_vec());
        Ok(())
    }

    async fn next_incident_number(&self) -> Result<u64, StoreError> {
        let mut last = lock(&self.last_number);
        *last += 1;
        Ok(*last)
    }

    async fn raise_incident_number(&self, used: u64) -> Result<(), StoreError> {
        let mut last = lock(&self.last_number);
        *last = (*last).max(used);
        Ok(())
    }

    async fn incident(&self, room_id: &RoomId) -> Result<Option<IncidentRecord>, StoreError> {
        Ok(lock(&self.incidents).get(room_id).cloned())
    }

    async fn save_incident(&self, record: &IncidentRecord) -> Result<(), StoreError> {
        lock(&self.incidents).insert(record.room_id.clone(), record.clone());
        Ok(())
    }

    async fn incidents(&self) -> Result<Vec<IncidentRecord>, StoreError> {
        let mut all: Vec<_> = lock(&self.incidents).values().cloned().collect();
        all.sort_by_key(|record| record.incident.number);
        Ok(all)
    }
}
