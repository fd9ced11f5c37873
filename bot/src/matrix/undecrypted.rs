//! Events the bot cannot decrypt yet: their room key has not arrived (a slow federation, a
//! sender's client that shares it late). Each is held in the store, so that neither the
//! checkpoint moving on nor a restart loses it, and tried again after every sync (matrix-sdk
//! keeps whatever keys a sync brought). Decrypted, it goes to the worker like any other event,
//! and leaves once handled, so it is acted on once. One still undecryptable once it is older
//! than `commands.max_age` (a command that old is not run any more) is given up, logged and
//! counted.

use brigade_core::clock::millis;
use matrix_sdk::ruma::{
    events::{room::encrypted::OriginalSyncRoomEncryptedEvent, AnySyncTimelineEvent},
    serde::Raw,
    OwnedEventId, OwnedRoomId, OwnedUserId, UInt,
};
use tracing::{debug, info, warn};

use super::bot::{Bot, Undecrypted};
use crate::keys::{self, HeldEvent, KeyError};

/// The most events held at once; past it the oldest is given up (a room whose keys never
/// come must not fill the store, which rewrites the list at each change).
const MOST_HELD: usize = 200;

/// A held event, decrypted now, for the worker.
#[derive(Debug)]
pub struct Decrypted {
    /// Its room.
    pub room_id: OwnedRoomId,
    /// Its ID.
    pub event_id: OwnedEventId,
    /// The event, decrypted.
    pub raw: Raw<AnySyncTimelineEvent>,
}

/// Reads the events held before a restart back from the store.
pub async fn load(bot: &Bot) -> Result<(), KeyError> {
    let events = keys::undecrypted()
        .get_to_change(bot.store.as_ref())
        .await?
        .unwrap_or_default();
    if !events.is_empty() {
        info!(
            events = events.len(),
            "events held for their room keys before the restart"
        );
    }
    bot.metrics.undecrypted_held(events.len());
    bot.undecrypted.lock().await.events = events;
    Ok(())
}

/// Holds `event` of `room_id`, which could not be decrypted, unless it is the bot's own, too
/// old to act on already (a catch-up reads history back), or held already; durable when this
/// returns.
pub async fn hold(
    bot: &Bot,
    room_id: &OwnedRoomId,
    event: &Raw<AnySyncTimelineEvent>,
) -> Result<(), KeyError> {
    let (Ok(Some(event_id)), Ok(Some(sender))) = (
        event.get_field::<OwnedEventId>("event_id"),
        event.get_field::<OwnedUserId>("sender"),
    ) else {
        return Ok(());
    };
    if bot.client.user_id() == Some(&sender) {
        return Ok(());
    }
    let sent_millis = event
        .get_field::<UInt>("origin_server_ts")
        .ok()
        .flatten()
        .map_or(0, u64::from);
    if sent_millis < oldest_acted_on(bot) {
        debug!(%room_id, %event_id, "an event too old to act on cannot be decrypted: left alone");
        return Ok(());
    }
    let mut held = bot.undecrypted.lock().await;
    if held.events.iter().any(|held| held.event_id == event_id) {
        return Ok(());
    }
    info!(%room_id, %event_id, %sender, "an event cannot be decrypted yet: held until its room key arrives");
    held.events.push(HeldEvent {
        room_id: room_id.clone(),
        event_id,
        sent_millis,
        event: event.clone(),
    });
    if held.events.len() > MOST_HELD {
        let oldest = held.events.remove(0);
        give_up(bot, &oldest, "too many events are held");
    }
    bot.metrics.undecrypted("held");
    save(bot, &held).await
}

/// Tries every held event again: those that decrypt now, for the worker (each once until it
/// is released); those too old to act on are given up.
pub async fn retry(bot: &Bot) -> Result<Vec<Decrypted>, KeyError> {
    let mut decrypted = Vec::new();
    let mut held = bot.undecrypted.lock().await;
    if held.events.is_empty() {
        return Ok(decrypted);
    }
    let oldest = oldest_acted_on(bot);
    let mut kept = Vec::new();
    let mut changed = false;
    for event in std::mem::take(&mut held.events) {
        if held.queued.contains(&event.event_id) {
            kept.push(event);
            continue;
        }
        let raw: &Raw<OriginalSyncRoomEncryptedEvent> = event.event.cast_ref_unchecked();
        let opened = match bot.client.get_room(&event.room_id) {
            Some(room) => room
                .decrypt_event(raw, None)
                .await
                .ok()
                .filter(|opened| !opened.kind.is_utd()),
            None => None,
        };
        match opened {
            Some(opened) => {
                held.queued.insert(event.event_id.clone());
                decrypted.push(Decrypted {
                    room_id: event.room_id.clone(),
                    event_id: event.event_id.clone(),
                    raw: opened.into_raw(),
                });
                kept.push(event);
            }
            None if event.sent_millis < oldest => {
                give_up(bot, &event, "older than commands.max_age");
                changed = true;
            }
            None => kept.push(event),
        }
    }
    held.events = kept;
    if changed {
        save(bot, &held).await?;
    }
    Ok(decrypted)
}

/// The worker is done with the held event `event_id`: it leaves; durable when this returns.
pub async fn release(bot: &Bot, event_id: &OwnedEventId) -> Result<(), KeyError> {
    let mut held = bot.undecrypted.lock().await;
    held.queued.remove(event_id);
    held.events.retain(|held| &held.event_id != event_id);
    info!(%event_id, "a held event was decrypted and handled");
    bot.metrics.undecrypted("decrypted");
    save(bot, &held).await
}

/// The sending time before which an event is no longer acted on (`commands.max_age`).
fn oldest_acted_on(bot: &Bot) -> u64 {
    bot.clock
        .now_millis()
        .saturating_sub(millis(bot.config.commands.max_age))
}

fn give_up(bot: &Bot, event: &HeldEvent, why: &str) {
    warn!(room_id = %event.room_id, event_id = %event.event_id, why, "an event was never decrypted: given up");
    bot.metrics.undecrypted("never_decrypted");
}

async fn save(bot: &Bot, held: &Undecrypted) -> Result<(), KeyError> {
    bot.metrics.undecrypted_held(held.events.len());
    keys::undecrypted()
        .set(bot.store.as_ref(), &held.events)
        .await
}
