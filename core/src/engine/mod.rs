//! Storage engines: named trees of ordered byte keys, a durable barrier, and IDs that never
//! repeat. The bot's store and the bridge's are written over [`Engine`], and run the same over
//! sled ([`SledEngine`], the only module that names sled) and over memory ([`MemoryEngine`], for
//! tests).

mod contract;
mod memory;
mod sled;

pub use contract::{Engine, EngineError, Entry};
pub use memory::MemoryEngine;
pub use sled::SledEngine;
