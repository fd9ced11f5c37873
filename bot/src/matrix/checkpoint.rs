//! The sync checkpoint: the bot's time up to which every event has been worked through. The
//! worker stores it once everything queued before it is done; at start-up the sync loop reads
//! each room back to a little before it, so nothing a crash interrupted is missed.

use brigade_core::store::{Store, StoreError};

const CHECKPOINT_KEY: &str = "sync.checkpoint_millis";

/// Records that every event up to `at_millis` is done.
pub async fn store(store: &dyn Store, at_millis: u64) -> Result<(), StoreError> {
    store
        .set_meta(CHECKPOINT_KEY, at_millis.to_string().as_bytes())
        .await
}

/// The checkpoint, if the bot has one (none on its very first start).
pub async fn load(store: &dyn Store) -> Result<Option<u64>, StoreError> {
    let Some(bytes) = store.meta(CHECKPOINT_KEY).await? else {
        return Ok(None);
    };
    Ok(std::str::from_utf8(&bytes)
        .ok()
        .and_then(|text| text.parse().ok()))
}
