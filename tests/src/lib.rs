//! The project's own test harness: real Synapse homeservers, people as matrix-sdk clients, and
//! the bot as a process that can be killed and restarted.

// matrix-sdk's futures are deep enough to overflow the compiler's default limit when spawned.
#![recursion_limit = "256"]

pub mod alertmanager;
pub mod bench;
pub mod bot;
pub mod bridge;
pub mod browser;
pub mod client;
pub mod desk;
pub mod fuzzing;
pub mod gateway;
pub mod git;
pub mod github;
pub mod ntfy;
pub mod openapi;
pub mod process;
pub mod proxy;
pub mod servers;
pub mod smtp;
pub mod synapse;
pub mod wait;
