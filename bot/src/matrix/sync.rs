//! The sync loop, and the catch-up that makes it exactly-once across restarts.
//!
//! matrix-sdk stores the sync token before it hands events over, so an event whose handling a
//! crash interrupted would never come back from sync. The bot therefore keeps its own
//! checkpoint: the time up to which every event has been worked through (see [`super::worker`]).
//! At start-up it pages back through each joined room to a little before the checkpoint and
//! queues what it finds; the store's record of handled events drops what was already done.

use std::{collections::HashSet, sync::Arc, time::Duration};

use brigade_core::{clock::millis, store::StoreError};
use matrix_sdk::{
    config::SyncSettings,
    deserialized_responses::TimelineEvent,
    room::MessagesOptions,
    ruma::{
        api::client::{filter::FilterDefinition, sync::sync_events::v3::Filter},
        OwnedRoomId, UInt,
    },
    Room,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use super::{
    bot::Bot,
    checkpoint, rebuild, undecrypted,
    worker::{self, Work},
};
/// Catch-up looks this far before the checkpoint, for clock skew between the homeserver (which
/// stamps events) and the bot (which stamps checkpoints).
const CATCH_UP_MARGIN: Duration = Duration::from_secs(120);
const CATCH_UP_PAGE: u32 = 50;
const CATCH_UP_MAX_PAGES: usize = 20;
const SYNC_TIMEOUT: Duration = Duration::from_secs(30);
const QUEUE_CAPACITY: usize = 1024;
/// How often the worker looks for reminders that are due.
const TICK: Duration = Duration::from_secs(1);

/// Why the sync loop stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The first sync failed (the homeserver refused the bot, or is unreachable).
    #[error("sync failed: {0}")]
    Matrix(#[from] matrix_sdk::Error),
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The checkpoint could not be kept.
    #[error(transparent)]
    Key(#[from] crate::keys::KeyError),
}

/// Syncs until `shutdown`, handling every event once.
pub async fn run(bot: Arc<Bot>, shutdown: CancellationToken) -> Result<(), SyncError> {
    let checkpoint = checkpoint::load(bot.store.as_ref()).await?;
    if checkpoint.is_none() {
        first_sync(&bot).await?;
    }
    // Before any event is worked on: a command in an incident room finds its record.
    rebuild::missing(&bot).await?;
    undecrypted::load(&bot).await?;

    let (queue, receiver) = mpsc::channel(QUEUE_CAPACITY);
    let worker = tokio::spawn({
        let bot = bot.clone();
        let shutdown = shutdown.clone();
        async move { worker::run(&bot, receiver, shutdown).await }
    });

    for room in bot.client.invited_rooms() {
        let _ = queue
            .send(Work::Invite {
                room_id: room.room_id().to_owned(),
            })
            .await;
    }
    if let Some(checkpoint) = checkpoint {
        let since = checkpoint.saturating_sub(millis(CATCH_UP_MARGIN));
        catch_up(&bot, &queue, since).await;
    }
    retry_held(&bot, &queue).await;

    tokio::select! {
        () = shutdown.cancelled() => {}
        () = sync_forever(&bot, &queue) => {}
        () = tick(&queue) => {}
    }
    drop(queue);
    if let Err(error) = worker.await {
        warn!(%error, "worker ended abnormally");
    }
    Ok(())
}

/// Syncs and queues what arrives, until the queue closes.
///
/// Not `Client::sync`: its loop sleeps a whole second whenever two syncs come within a second,
/// which would hold every answer up by up to a second under steady traffic. Here a sync that
/// returns early (because something happened) is followed by the next one at once; only failures
/// back off.
async fn sync_forever(bot: &Bot, queue: &mpsc::Sender<Work>) {
    // The first sync returns at once, so /healthz turns healthy without waiting out a long poll.
    let mut settings = SyncSettings::default()
        .timeout(Duration::ZERO)
        .filter(timeline_filter());
    let mut failures: u32 = 0;
    // When the last sync response came: a limited timeline is read back to a little before it.
    let mut previous_sync = bot.clock.now_millis();
    // Rooms the bot was in before this sync. A room it has just joined starts `limited`, and
    // what was said there before the bot came is not for it to act on.
    let mut known: HashSet<OwnedRoomId> = bot
        .client
        .joined_rooms()
        .iter()
        .map(|room| room.room_id().to_owned())
        .collect();
    loop {
        let response = match bot.client.sync_once(settings.clone()).await {
            Ok(response) => response,
            Err(error) => {
                bot.metrics.sync(false);
                if failures == 0 {
                    warn!(%error, "sync failed; retrying until the homeserver answers");
                } else {
                    debug!(%error, "sync failed again");
                }
                failures = failures.saturating_add(1);
                tokio::time::sleep(backoff(failures)).await;
                continue;
            }
        };
        if failures > 0 {
            info!(failures, "sync restored");
            failures = 0;
        }
        bot.health.synced();
        bot.metrics.sync(true);
        settings = settings
            .token(response.next_batch.clone())
            .timeout(SYNC_TIMEOUT);
        for (room_id, update) in response.rooms.joined {
            let newly_joined = known.insert(room_id.clone());
            if update.timeline.limited && !newly_joined {
                // More happened in this room than one sync carries: read back what was left out
                // (events already handled are dropped by the store's record).
                let Some(room) = bot.client.get_room(&room_id) else {
                    continue;
                };
                let since = previous_sync.saturating_sub(millis(CATCH_UP_MARGIN));
                warn!(%room_id, "sync skipped events in a busy room; reading them back");
                let from = update.timeline.prev_batch.clone();
                if !backfill(bot, &room, queue, since, from).await {
                    return;
                }
            }
            for event in update.timeline.events {
                if !queue_or_hold(bot, queue, &room_id, event).await {
                    return;
                }
            }
        }
        if !retry_held(bot, queue).await {
            return;
        }
        for room_id in response.rooms.invited.into_keys() {
            if queue.send(Work::Invite { room_id }).await.is_err() {
                return;
            }
        }
        previous_sync = bot.clock.now_millis();
        let checkpoint = Work::Checkpoint {
            at_millis: previous_sync,
        };
        if queue.send(checkpoint).await.is_err() {
            return;
        }
    }
}

/// Queues a [`Work::Tick`] every [`TICK`], until the queue closes. Ticks missed while the
/// queue was full are skipped, not bunched up.
async fn tick(queue: &mpsc::Sender<Work>) {
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        interval.tick().await;
        if queue.send(Work::Tick).await.is_err() {
            return;
        }
    }
}

/// 0.5 s after the first failure, doubling to at most 8 s.
fn backoff(failures: u32) -> Duration {
    Duration::from_millis(500 * 2u64.pow(failures.saturating_sub(1).min(4)))
}

/// The very first start: sync once to learn the rooms, and treat what is already there as
/// history, not as commands to run.
async fn first_sync(bot: &Bot) -> Result<(), SyncError> {
    let response = bot.client.sync_once(SyncSettings::default()).await?;
    bot.health.synced();
    let rooms = response.rooms.joined.len();
    checkpoint::store(bot.store.as_ref(), bot.clock.now_millis()).await?;
    info!(rooms, "first start: existing history is not acted on");
    Ok(())
}

/// Each sync carries up to this many events per room before it says `limited`.
const TIMELINE_LIMIT: u32 = 100;

fn timeline_filter() -> Filter {
    let mut definition = FilterDefinition::default();
    definition.room.timeline.limit = Some(UInt::from(TIMELINE_LIMIT));
    Filter::FilterDefinition(definition)
}

/// Queues each joined room's events since `since_millis`, oldest first.
async fn catch_up(bot: &Bot, queue: &mpsc::Sender<Work>, since_millis: u64) {
    for room in bot.client.joined_rooms() {
        if !backfill(bot, &room, queue, since_millis, None).await {
            return;
        }
    }
}

/// Queues the held events that decrypt now. False when the queue has closed.
async fn retry_held(bot: &Bot, queue: &mpsc::Sender<Work>) -> bool {
    let decrypted = match undecrypted::retry(bot).await {
        Ok(decrypted) => decrypted,
        Err(error) => {
            warn!(%error, "could not try the held events again");
            return true;
        }
    };
    for event in decrypted {
        if queue.send(Work::Decrypted(event)).await.is_err() {
            return false;
        }
    }
    true
}

/// Queues `event` of `room_id`, or holds it while it cannot be decrypted. False when the queue
/// has closed.
async fn queue_or_hold(
    bot: &Bot,
    queue: &mpsc::Sender<Work>,
    room_id: &OwnedRoomId,
    event: TimelineEvent,
) -> bool {
    if event.kind.is_utd() {
        // Held before the checkpoint can pass it: the store is tried until it takes it.
        let mut wait = Duration::from_millis(500);
        while let Err(error) = undecrypted::hold(bot, room_id, event.raw()).await {
            error!(%room_id, %error, retry_in = ?wait, "could not hold an event that cannot be decrypted yet; trying again");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(30));
        }
        return true;
    }
    let work = Work::Event {
        room_id: room_id.clone(),
        raw: event.into_raw(),
    };
    queue.send(work).await.is_ok()
}

/// Queues `room`'s events since `since_millis`, oldest first, reading back from `from` (the
/// latest event when `None`). False when the queue has closed.
async fn backfill(
    bot: &Bot,
    room: &Room,
    queue: &mpsc::Sender<Work>,
    since_millis: u64,
    from: Option<String>,
) -> bool {
    let room_id = room.room_id().to_owned();
    let mut events = Vec::new();
    let mut from = from;
    let mut complete = false;
    for _ in 0..CATCH_UP_MAX_PAGES {
        let mut options = MessagesOptions::backward().from(from.as_deref());
        options.limit = UInt::from(CATCH_UP_PAGE);
        let page = match room.messages(options).await {
            Ok(page) => page,
            Err(error) => {
                warn!(%room_id, %error, "catch-up could not read the room; commands sent there while the bot was down may be missed");
                complete = true;
                break;
            }
        };
        let mut reached = page.chunk.is_empty() || page.end.is_none();
        for event in page.chunk {
            let timestamp = event
                .raw()
                .get_field::<UInt>("origin_server_ts")
                .ok()
                .flatten()
                .map_or(0, u64::from);
            if timestamp < since_millis {
                reached = true;
                break;
            }
            events.push(event);
        }
        if reached {
            complete = true;
            break;
        }
        from = page.end;
    }
    if !complete {
        warn!(%room_id, examined = events.len(), "catch-up stopped before the checkpoint; older commands are not looked at");
    }
    if !events.is_empty() {
        info!(%room_id, events = events.len(), "catching up");
    }
    for event in events.into_iter().rev() {
        if !queue_or_hold(bot, queue, &room_id, event).await {
            return false;
        }
    }
    true
}
