//! Storage behind a trait: what a process has already acted on, and small named values.
//!
//! The bot and the bridge each keep one store. Matrix rooms are the durable public record;
//! the store is the working copy that makes effects happen exactly once across restarts. Two
//! implementations pass the same conformance suite: [`MemoryStore`] for unit tests and
//! [`SledStore`], which with the sled engine of [`crate::engine`] are the only modules that name
//! sled, so another engine is one module away.

mod contract;
mod memory;
mod sled_store;

#[cfg(test)]
mod conformance;

pub use crate::record::IncidentRecord;
pub use contract::{Handled, Outcome, Store, StoreError};
pub use memory::MemoryStore;
pub use sled_store::SledStore;
