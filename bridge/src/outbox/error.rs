//! Why a delivery failed: the homeserver (for good, or worth another try) or the store.

use crate::{homeserver::HomeserverError, store::StoreError};

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The homeserver failed or refused.
    #[error(transparent)]
    Homeserver(#[from] HomeserverError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
