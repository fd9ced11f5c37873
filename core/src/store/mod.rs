//! Storage behind a trait: what a process has already acted on, and small named values.
//!
//! The bot and the bridge each keep one store. Matrix rooms are the durable public record;
//! the store is the working copy that makes effects happen exactly once across restarts. One
//! implementation, [`EngineStore`], runs over sled and over memory (the engines of
//! [`crate::engine`], whose sled engine is the only module that names sled); the conformance
//! suite runs over both.

mod contract;
mod engine_store;

#[cfg(test)]
mod conformance;

pub use crate::record::IncidentRecord;
pub use contract::{Handled, Outcome, Store, StoreError, UNDATED_KEPT_MILLIS};
pub use engine_store::EngineStore;
