//! brigade-bot: the Matrix bot that runs incidents.
//!
//! [`run`] is the whole program behind `main`: it takes its listener and its shutdown signal so
//! tests can start it in-process on port 0 and stop it when they like.

// The futures of a command run deep (dispatch, declaration, publishing, matrix-sdk's own); a
// build from scratch computes their layouts past the default limit of 128.
#![recursion_limit = "256"]

pub mod ack_link;
pub mod channels;
pub mod cli;
pub mod commands;
pub mod config;
pub mod desk;
pub mod escalation;
pub mod filing;
pub mod git;
pub mod keys;
pub mod markdown;
pub mod matrix;
pub mod metrics;
pub mod names;
pub mod oncall;
pub mod postmortem_repo;
pub mod reach;
pub mod render;
pub mod report;
pub mod stats;
pub mod status;
mod storage;
pub mod transcript;
pub mod web;

use std::{future::Future, sync::Arc};

use brigade_core::{
    clock::{Clock, SystemClock},
    store::{EngineStore, Store, StoreError},
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::{
    config::Config,
    matrix::{bot::Bot, session::SessionError, sync::SyncError},
    metrics::{Health, Metrics},
    web::WebState,
};

/// The directory under `storage.path` that holds the bot's own sled database.
const SLED_DIR: &str = "brigade.sled";

/// Why the bot stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The storage directory could not be made private.
    #[error("storage directory: {0}")]
    Storage(std::io::Error),
    /// The store could not be opened.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The key of the acknowledge links could not be read or made.
    #[error("acknowledge links' key: {0}")]
    AckKey(#[from] keys::KeyError),
    /// The bot could not log in or restore its session.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The standard rooms could not be found or created.
    #[error("standard rooms: {0}")]
    Rooms(#[from] matrix::rooms::RoomsError),
    /// The homeserver's capabilities (its default room version) could not be read.
    #[error("homeserver capabilities: {0}")]
    Capabilities(Box<matrix_sdk::Error>),
    /// The sync loop failed for good.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// The HTTP server failed.
    #[error("http server: {0}")]
    Http(#[from] std::io::Error),
}

/// Runs the bot until `shutdown` completes: HTTP on `listener`, the Matrix session, the sync loop.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    let config = Arc::new(config);
    let clock = clock();
    let health = Arc::new(Health::new(clock.clone()));
    let metrics = Arc::new(Metrics::new());
    let stop = CancellationToken::new();
    tokio::spawn({
        let stop = stop.clone();
        async move {
            shutdown.await;
            info!("shutting down");
            stop.cancel();
        }
    });

    storage::make_private(&config.storage.path).map_err(RunError::Storage)?;
    let store: Arc<dyn Store> = Arc::new(EngineStore::open(&config.storage.path.join(SLED_DIR))?);
    ack_link::ensure_key(store.as_ref()).await?;
    // Covers taken in chat before a restart hold again.
    matrix::restore_covers(store.as_ref(), &config).await?;
    // HTTP next: /healthz says "starting" while the bot logs in and syncs.
    let web = WebState::new(
        config.clone(),
        health.clone(),
        metrics.clone(),
        store.clone(),
        clock.clone(),
    );
    // The status page needs only the store: it is kept while the homeserver is away.
    let status_site = Arc::new(status::writer::StatusSite::default());
    let status_writing = tokio::spawn(status::writer::run(
        status_site.clone(),
        config.clone(),
        store.clone(),
        clock.clone(),
        stop.clone(),
    ));
    let status_pushing = tokio::spawn(status::push::run(
        status_site.clone(),
        config.clone(),
        stop.clone(),
    ));
    let http = tokio::spawn({
        let router = web::router(web.clone());
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

    let client = tokio::select! {
        client = matrix::session::connect(&config) => client?,
        () = stop.cancelled() => return Ok(()),
    };
    matrix::profile::apply(&client, store.as_ref(), &config.profile).await;
    let rooms = matrix::rooms::ensure(&client, &config).await?;
    let room_version = match &config.incidents.room_version {
        Some(version) => version.clone(),
        None => {
            client
                .homeserver_capabilities()
                .room_versions()
                .await
                .map_err(|error| RunError::Capabilities(Box::new(error)))?
                .default
        }
    };
    info!(%room_version, "incident rooms use this room version");
    match &config.alerts.bridge {
        Some(bridge) => info!(registration = %bridge.path.display(), "alerts are believed from the bridge this registration names"),
        None => info!("no [alerts] bridge_registration: alerts in rooms are not acted on, so none declares an incident"),
    }

    let (publisher, published) = matrix::publisher::Publisher::new();
    let bot = Arc::new(Bot {
        client,
        config,
        store,
        metrics,
        health,
        clock,
        rooms,
        room_version,
        publisher,
        status: status_site,
        records: tokio::sync::Mutex::new(()),
        invitations: tokio::sync::Notify::new(),
        notices: tokio::sync::Notify::new(),
        joining: std::sync::Mutex::default(),
        pruned: std::sync::atomic::AtomicU64::new(0),
        overdue_checked: std::sync::atomic::AtomicU64::new(0),
        undecrypted: tokio::sync::Mutex::default(),
        postmortem_repo: postmortem_repo::Owed::default(),
    });
    let desk: Arc<dyn desk::Desk> = Arc::new(matrix::reports::MatrixDesk::new(bot.clone()));
    if web.desk.set(desk).is_err() {
        warn!("the web pages' desk was set twice");
    }
    tokio::spawn({
        let bot = bot.clone();
        async move {
            matrix::reports::invite_private_triagers(&bot).await;
            matrix::widgets::ensure_report_form(&bot).await;
        }
    });
    let publishing = tokio::spawn({
        let bot = bot.clone();
        let stop = stop.clone();
        async move { matrix::publish::run(&bot, published, stop).await }
    });
    let notifying = tokio::spawn({
        let bot = bot.clone();
        let stop = stop.clone();
        async move { matrix::notify::run(&bot, stop).await }
    });
    let committing = tokio::spawn({
        let bot = bot.clone();
        let stop = stop.clone();
        async move { matrix::postmortem_repo::run(&bot, stop).await }
    });
    let inviting = tokio::spawn({
        let bot = bot.clone();
        let stop = stop.clone();
        async move { matrix::partners::run(&bot, stop).await }
    });
    let synced = matrix::sync::run(bot, stop.clone()).await;
    stop.cancel();
    if let Err(error) = notifying.await {
        tracing::warn!(%error, "notifications ended abnormally");
    }
    if let Err(error) = committing.await {
        tracing::warn!(%error, "committing postmortems ended abnormally");
    }
    if let Err(error) = inviting.await {
        tracing::warn!(%error, "partner invitations ended abnormally");
    }
    if let Err(error) = publishing.await {
        tracing::warn!(%error, "publishing ended abnormally");
    }
    if let Err(error) = status_writing.await {
        tracing::warn!(%error, "the status page's writer ended abnormally");
    }
    if let Err(error) = status_pushing.await {
        tracing::warn!(%error, "the status page's pusher ended abnormally");
    }
    let served = http.await.map_err(std::io::Error::other)?;
    synced?;
    served?;
    info!("stopped");
    Ok(())
}

/// The operating system's clock; in the end-to-end tests' build, `BRIGADE_E2E_DAYS_AHEAD` days
/// ahead when set, to see what happens days later.
fn clock() -> Arc<dyn Clock> {
    #[cfg(feature = "failpoints")]
    if let Some(days) = std::env::var("BRIGADE_E2E_DAYS_AHEAD")
        .ok()
        .and_then(|days| days.parse::<u64>().ok())
    {
        warn!(days, "the clock runs ahead, for a test");
        return Arc::new(brigade_core::clock::AheadClock(
            std::time::Duration::from_secs(days * 24 * 60 * 60),
        ));
    }
    Arc::new(SystemClock)
}
