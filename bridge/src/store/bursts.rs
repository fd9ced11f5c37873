//! Bursts: each one's record and alerts, and what its message and its full list show.

use super::{
    encode,
    engine::Tree,
    records::{burst_key, BurstRecord, Placement},
    AlertRecord, Store, StoreError,
};

impl Store {
    /// Burst `id`'s record.
    pub fn burst(&self, id: u64) -> Result<Option<BurstRecord>, StoreError> {
        let key = burst_key(id);
        let Some(bytes) = self.engine.get(Tree::Bursts.name(), key.as_bytes())? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| StoreError::Corrupt { key, source })
    }

    /// The alerts placed in burst `id`, as they are now (an alert that has since begun a new
    /// episode is included: its episode in the burst ended resolved). A membership whose
    /// placement a crash cut short is not one: that alert is placed again.
    pub fn burst_members(&self, id: u64) -> Result<Vec<AlertRecord>, StoreError> {
        let mut members = Vec::new();
        for (member, episode) in self
            .engine
            .scan_prefix(Tree::Members.name(), &id.to_be_bytes())?
        {
            let key = String::from_utf8_lossy(&member[8..]).into_owned();
            let episode = episode.as_slice().try_into().map_or(0, u64::from_be_bytes);
            if let Some(record) = self.alert(&key)? {
                let placed = record.placement == Some(Placement::Burst(id));
                if placed || record.first_seen != episode {
                    members.push(record);
                }
            }
        }
        Ok(members)
    }

    /// Marks burst `id` for delivery with a new version; called with `writing` held.
    pub(super) fn touch_burst(&self, id: u64) -> Result<(), StoreError> {
        let key = burst_key(id);
        if let Some(mut burst) = self.burst(id)? {
            burst.version += 1;
            self.engine
                .insert(Tree::Outbox.name(), key.as_bytes(), &[])?;
            self.engine
                .insert(Tree::Bursts.name(), key.as_bytes(), &encode(&key, &burst)?)?;
        }
        Ok(())
    }

    /// Records that burst `id`'s message shows `shown` (posted as `event_id`), and takes it out
    /// of the outbox if its list shows that too and nothing changed meanwhile; durable when
    /// this returns.
    pub async fn burst_delivered(
        &self,
        id: u64,
        shown: u64,
        event_id: &str,
    ) -> Result<(), StoreError> {
        self.burst_shown(id, |burst| {
            burst.shown = burst.shown.max(shown);
            burst.event_id = Some(event_id.to_owned());
            // A burst stored before there were lists owes one from its first change on.
            burst.list_shown.get_or_insert(0);
        })
        .await
    }

    /// Records that burst `id`'s full list (in its message's thread) shows `shown` (posted as
    /// `event_id`), like [`Self::burst_delivered`].
    pub async fn burst_list_delivered(
        &self,
        id: u64,
        shown: u64,
        event_id: &str,
    ) -> Result<(), StoreError> {
        self.burst_shown(id, |burst| {
            burst.list_shown = Some(burst.list_shown.unwrap_or(0).max(shown));
            burst.list_event_id = Some(event_id.to_owned());
        })
        .await
    }

    /// Records what `shown` says burst `id` shows, and takes it out of the outbox once its
    /// message and its list are in step (or it is gone).
    async fn burst_shown(
        &self,
        id: u64,
        shown: impl FnOnce(&mut BurstRecord),
    ) -> Result<(), StoreError> {
        {
            let _writing = self.writing.lock().await;
            let key = burst_key(id);
            match self.burst(id)? {
                None => {
                    self.engine.remove(Tree::Outbox.name(), key.as_bytes())?;
                }
                Some(mut burst) => {
                    shown(&mut burst);
                    self.engine.insert(
                        Tree::Bursts.name(),
                        key.as_bytes(),
                        &encode(&key, &burst)?,
                    )?;
                    if burst.in_step() {
                        self.engine.remove(Tree::Outbox.name(), key.as_bytes())?;
                    }
                }
            }
            self.wrote();
        }
        self.flush().await
    }
}
