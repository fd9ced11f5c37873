//! Storage engines: named trees of ordered byte keys, a durable barrier, and IDs that never
//! repeat. A store that wants more than the bot's [`crate::store::Store`] (the bridge's alerts
//! and outbox) is written over [`Engine`], and runs the same over sled ([`SledEngine`]; with
//! [`crate::store::SledStore`] the only modules that name sled) and over memory
//! ([`MemoryEngine`], for tests).

mod contract;
mod memory;
mod sled;

pub use contract::{Engine, EngineError, Entry};
pub use memory::MemoryEngine;
pub use sled::SledEngine;
