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
    /// The room's messages could not be read back before an uncertain post: worth another
    /// try whatever the homeserver said, since posting without knowing could post twice, and
    /// a read is not a message the homeserver refused.
    #[error("cannot read the room back before an uncertain post: {0}")]
    LookBack(HomeserverError),
}

impl DeliveryError {
    /// A failed look back: held like a refused send when the bridge may not read the room,
    /// otherwise worth another try.
    pub fn look_back(error: HomeserverError) -> Self {
        if error.errcode() == Some("M_FORBIDDEN") {
            Self::Homeserver(error)
        } else {
            Self::LookBack(error)
        }
    }
}
