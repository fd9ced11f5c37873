//! The sync checkpoint: the bot's time up to which every event has been worked through. The
//! worker stores it once everything queued before it is done; at start-up the sync loop reads
//! each room back to a little before it, so nothing a crash interrupted is missed.

use brigade_core::store::{Store, StoreError};

use crate::keys::{self, KeyError};

/// Records that every event up to `at_millis` is done.
pub async fn store(store: &dyn Store, at_millis: u64) -> Result<(), KeyError> {
    keys::checkpoint().set(store, &at_millis).await
}

/// The checkpoint, if the bot has one (none on its very first start).
pub async fn load(store: &dyn Store) -> Result<Option<u64>, StoreError> {
    keys::checkpoint().get(store).await
}
