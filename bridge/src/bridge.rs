//! What every part of the bridge works with, passed explicitly (`&Bridge`), never global.

use std::sync::{atomic::AtomicBool, Arc};

use brigade_core::clock::Clock;

use crate::{config::Config, homeserver::Homeserver, metrics::Metrics, store::Store};

/// What every part of the bridge works with.
#[derive(Debug)]
pub struct Bridge {
    /// The validated configuration.
    pub config: Config,
    /// Alerts and the outbox.
    pub store: Store,
    /// The homeserver, as the application service.
    pub homeserver: Arc<dyn Homeserver>,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Wakes the outbox when alerts are accepted.
    pub outbox: tokio::sync::Notify,
    /// Wakes the tickets' worker when a follow-up or a tracker's change comes in.
    pub tickets: tokio::sync::Notify,
    /// Whether the homeserver has answered the bridge's ping.
    pub ready: AtomicBool,
    /// Set when a virtual user is invited somewhere: routes held back are tried again.
    pub retry_held: AtomicBool,
    /// For the peers the bridge calls besides the homeserver (Alertmanager's API).
    pub http: reqwest::Client,
}

/// A crash (exit 137, as after SIGKILL), for the end-to-end tests' fault injection.
#[cfg(feature = "failpoints")]
pub fn crash<T>() -> T {
    tracing::warn!("failpoint: crashing");
    std::process::exit(137)
}
