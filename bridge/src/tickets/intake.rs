//! Follow-ups in: the bot's `org.brigade.followup` events from the homeserver's transactions,
//! and, when the bot invites the bridge to an incident room, those it sent before the bridge
//! joined (the homeserver sends a room's events only while the bridge is in it).

use brigade_core::events::{FollowupContent, FOLLOWUP_KEY};
use ruma::{OwnedRoomId, OwnedUserId, UserId};
use serde_json::Value;
use tracing::{debug, info, warn};

use super::model::FollowupEvent;
use crate::{
    bridge::Bridge,
    homeserver::HomeserverError,
    store::{tickets::TicketRecord, StoreError},
};

/// Why an invitation of the bot's is not finished.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// The homeserver failed for now.
    #[error(transparent)]
    Homeserver(#[from] HomeserverError),
    /// The store cannot write.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The follow-up `event` is, if it is one.
pub fn followup(event: &Value) -> Option<FollowupEvent> {
    if event["type"] != FOLLOWUP_KEY {
        return None;
    }
    let content: FollowupContent = serde_json::from_value(event["content"].clone()).ok()?;
    Some(FollowupEvent {
        event_id: event["event_id"].as_str()?.to_owned(),
        room_id: OwnedRoomId::try_from(event["room_id"].as_str()?).ok()?,
        sender: OwnedUserId::try_from(event["sender"].as_str()?).ok()?,
        content,
    })
}

/// The bridge's own user.
pub fn sender(bridge: &Bridge) -> Result<OwnedUserId, HomeserverError> {
    UserId::parse(format!(
        "@{}:{}",
        bridge.config.appservice.sender_localpart, bridge.config.homeserver.server_name
    ))
    .map_err(|error| HomeserverError::Build(error.to_string()))
}

/// Whether `invited` is the bridge's own user, invited by the bot whose follow-ups it takes.
pub fn invited_by_the_bot(bridge: &Bridge, (invited, inviter): (&str, &str)) -> bool {
    let bot = bridge.config.tickets.bot.as_ref();
    bot.is_some_and(|bot| bot.as_str() == inviter)
        && sender(bridge).is_ok_and(|sender| sender.as_str() == invited)
}

/// Joins `room_id` as the bridge's own user and takes the follow-ups the bot sent there before.
/// A room that cannot be joined for good (gone, the invitation withdrawn) is left be.
pub async fn join(bridge: &Bridge, room_id: &str) -> Result<(), JoinError> {
    let sender = sender(bridge)?;
    let Ok(room) = OwnedRoomId::try_from(room_id) else {
        return Ok(());
    };
    let joined = bridge.homeserver.join(&sender, &room.clone().into()).await;
    match joined {
        Ok(_) => {}
        Err(error) if error.for_good() => {
            warn!(%error, %room_id, "the bot's invitation cannot be taken");
            return Ok(());
        }
        Err(error) => return Err(error.into()),
    }
    let Some(bot) = bridge.config.tickets.bot.as_ref() else {
        return Ok(());
    };
    let earlier = bridge
        .homeserver
        .recent_events(&sender, &room, (bot, FOLLOWUP_KEY))
        .await?;
    info!(%room_id, followups = earlier.len(), "joined an incident room for its follow-ups' tickets");
    // Oldest first, as they were asked.
    for event in earlier.into_iter().rev() {
        let mut event = event;
        // The room is the one read, whatever the event says of it.
        event["room_id"] = Value::from(room.as_str());
        if let Some(followup) = followup(&event) {
            take(bridge, followup).await?;
        }
    }
    Ok(())
}

/// Keeps the follow-up `event` (the bot's only) for its ticket; durable when this returns.
/// One whose tracker is unknown is kept refused, so the room is told.
pub async fn take(bridge: &Bridge, event: FollowupEvent) -> Result<(), StoreError> {
    let tickets = &bridge.config.tickets;
    if tickets.bot.as_ref() != Some(&event.sender) {
        warn!(sender = %event.sender, room_id = %event.room_id, "a follow-up not from the bot: ignored");
        return Ok(());
    }
    let asked = event.content.tracker.clone();
    let Some(tracker) = asked
        .clone()
        .or_else(|| tickets.defaults.get(&event.content.kind).cloned())
    else {
        debug!(kind = %event.content.kind, "no tracker for this type of incident: no ticket");
        return Ok(());
    };
    let refused = tickets.tracker(&tracker).is_none().then(|| {
        format!(
            "the bridge has no tracker named `{tracker}` (it has: {})",
            tickets.names()
        )
    });
    let record = TicketRecord {
        followup_event: event.event_id,
        room_id: event.room_id.to_string(),
        followup: event.content,
        tracker,
        taken: bridge.clock.now_millis(),
        tried: false,
        next_try: 0,
        failures: 0,
        ticket: None,
        refused,
        told: Default::default(),
    };
    if bridge.store.take_ticket(&record).await? {
        info!(followup = %record.followup_event, tracker = %record.tracker, "a follow-up's ticket is wanted");
        bridge.tickets.notify_one();
    }
    Ok(())
}
