//! brigade-bridge: the Matrix application service that takes alert webhooks in and posts them
//! in rooms, exactly once, through a durable outbox.
//!
//! [`run`] is the whole program behind `main`; it takes its listener and its shutdown signal so
//! tests can start it in-process.

pub mod alert;
pub mod appservice;
pub mod bridge;
pub mod cli;
pub mod config;
pub mod homeserver;
pub mod hooks;
pub mod metrics;
pub mod outbox;
mod refusal;
pub mod registration;
pub mod silence;
pub mod store;
#[cfg(test)]
mod testing;
pub mod tickets;
pub mod web;

use std::{
    future::Future,
    sync::{atomic::AtomicBool, Arc},
    time::Duration,
};

use brigade_core::clock::SystemClock;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

pub use crate::bridge::Bridge;
use crate::{
    config::Config,
    homeserver::{HomeserverError, HttpHomeserver},
    metrics::Metrics,
    store::{Store, StoreError},
};

/// The directory under `storage.path` that holds the bridge's sled database.
const SLED_DIR: &str = "bridge.sled";

/// Why the bridge stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The store could not be opened.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The homeserver client could not be made.
    #[error(transparent)]
    Homeserver(#[from] HomeserverError),
    /// The HTTP server failed.
    #[error("http server: {0}")]
    Http(#[from] std::io::Error),
}

/// Runs the bridge until `shutdown` completes: HTTP on `listener`, the ping that makes it
/// ready, and the outbox.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    std::fs::create_dir_all(&config.storage.path)?;
    let store = Store::open(&config.storage.path.join(SLED_DIR))?;
    let homeserver = Arc::new(HttpHomeserver::new(
        &config.homeserver.url,
        config.appservice.as_token.clone(),
    )?);
    let bridge = Arc::new(Bridge {
        config,
        store,
        homeserver,
        metrics: Metrics::new(),
        clock: Arc::new(SystemClock),
        outbox: tokio::sync::Notify::new(),
        tickets: tokio::sync::Notify::new(),
        ready: AtomicBool::new(false),
        retry_held: AtomicBool::new(false),
        http: reqwest::Client::new(),
    });
    let stop = CancellationToken::new();
    tokio::spawn({
        let stop = stop.clone();
        async move {
            shutdown.await;
            stop.cancel();
        }
    });
    info!(listen = %listener.local_addr()?, pending = bridge.store.depth(), "brigade-bridge listening");
    let http = tokio::spawn({
        let router = web::router(bridge.clone());
        let stop = stop.clone();
        async move {
            brigade_core::http::serve(
                listener,
                router,
                brigade_core::http::Limits::default(),
                stop.cancelled_owned(),
            )
            .await
        }
    });
    let pinging = tokio::spawn({
        let bridge = bridge.clone();
        let stop = stop.clone();
        async move { ping_until_ready(&bridge, &stop).await }
    });
    let pruning = tokio::spawn({
        let bridge = bridge.clone();
        let stop = stop.clone();
        async move { prune_every_hour(&bridge, &stop).await }
    });
    let tickets = tokio::spawn({
        let bridge = bridge.clone();
        let stop = stop.clone();
        async move { tickets::run(&bridge, stop).await }
    });
    outbox::run(&bridge, stop.clone()).await;
    stop.cancel();
    let _ = tickets.await;
    let _ = pinging.await;
    let _ = pruning.await;
    http.await.map_err(std::io::Error::other)??;
    info!("stopped");
    Ok(())
}

/// Forgets what is over from the store (see [`store::Forgotten`]) at start and every hour.
async fn prune_every_hour(bridge: &Bridge, stop: &CancellationToken) {
    let mut interval = tokio::time::interval(Duration::from_secs(60 * 60));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = interval.tick() => {}
        }
        match bridge.store.prune(bridge.clock.now_millis()).await {
            Ok(forgotten) if forgotten == store::Forgotten::default() => {}
            Ok(forgotten) => info!(
                alerts = forgotten.alerts,
                bursts = forgotten.bursts,
                events = forgotten.events,
                silences = forgotten.silences,
                "forgot what is over"
            ),
            Err(error) => warn!(%error, "cannot forget what is over; trying again in an hour"),
        }
    }
}

/// Pings the homeserver (which calls the bridge back) until it answers, then marks the bridge
/// ready for `/healthz`.
async fn ping_until_ready(bridge: &Bridge, stop: &CancellationToken) {
    let mut wait = Duration::from_millis(200);
    loop {
        match bridge.homeserver.ping(&bridge.config.appservice.id).await {
            Ok(_) => {
                bridge
                    .ready
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                info!("the homeserver reaches the bridge: ready");
                return;
            }
            Err(error) => warn!(%error, "the homeserver did not answer the ping yet"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(Duration::from_secs(10));
    }
}
