//! Everything that touches `matrix_sdk::Client`: the session, the sync loop, and the handlers
//! that turn events into effects exactly once.

mod alerts;
mod ask;
mod command;
mod forward;
mod handoffs;
pub mod incident;
mod invites;
mod once;
mod postmortem;
pub mod profile;
pub mod publish;
mod reaction;
mod rebuild;
mod reminders;
mod reply;
mod responder;
pub mod rooms;
pub mod session;
mod share;
pub mod sync;
pub mod timeline;
mod worker;

use std::sync::Arc;

use brigade_core::{clock::Clock, store::Store};
use matrix_sdk::{ruma::RoomVersionId, Client};

use crate::{
    config::Config,
    metrics::{Health, Metrics},
};

/// A crash (exit 137, as after SIGKILL), for the end-to-end tests' fault injection.
#[cfg(feature = "failpoints")]
fn crash<T>() -> T {
    tracing::warn!("failpoint: crashing");
    std::process::exit(137)
}

/// What every handler works with.
#[derive(Debug)]
pub struct Bot {
    /// The logged-in client.
    pub client: Client,
    /// The validated configuration.
    pub config: Arc<Config>,
    /// What has been handled, and small named values.
    pub store: Arc<dyn Store>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Sync health for `/healthz`.
    pub health: Arc<Health>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// The space, triage, announcements and postmortems rooms.
    pub rooms: rooms::StandardRooms,
    /// The version incident rooms are created in.
    pub room_version: RoomVersionId,
    /// Brings incident rooms in step with their records.
    pub publisher: publish::Publisher,
    /// Held while an incident record is read, changed and written back.
    pub records: tokio::sync::Mutex<()>,
    /// Wakes the sender of partner invitations when some are queued.
    pub invitations: tokio::sync::Notify,
}

/// Sends partner invitations (and sets up the partners' standing rooms) until `shutdown`.
pub async fn invite_partners(bot: &Bot, shutdown: tokio_util::sync::CancellationToken) {
    share::run(bot, shutdown).await;
}
