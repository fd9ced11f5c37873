//! The first message a responder (anyone but the commander) writes in an incident room
//! acknowledges the incident, as 👀 does (SPEC §3): someone is on it.

use brigade_core::store::Outcome;
use matrix_sdk::{
    ruma::events::room::message::{MessageType, OriginalSyncRoomMessageEvent},
    Room,
};
use tracing::{debug, info};

use super::{
    bot::Bot,
    change::Change,
    error::ActionError,
    once::{self, Claim},
};

/// Acknowledges the incident of `room` if `message`, which is not a command, is the first one
/// by a responder.
pub async fn handle(
    bot: &Bot,
    room: &Room,
    message: &OriginalSyncRoomMessageEvent,
) -> Result<(), ActionError> {
    // Bots speak in notices.
    if matches!(message.content.msgtype, MessageType::Notice(_)) {
        return Ok(());
    }
    if !bot.config.access.allows(&message.sender) {
        return Ok(());
    }
    let Some(record) = bot.store.incident(room.room_id()).await? else {
        return Ok(());
    };
    let incident = &record.incident;
    let first =
        incident.timestamps.acknowledged.is_none() && !incident.commanded_by(&message.sender);
    if !first && record.applied(&message.event_id).is_none() {
        return Ok(());
    }
    match once::claim(bot, &message.event_id, message.origin_server_ts).await? {
        Claim::Run { .. } => {}
        Claim::Handled | Claim::Stale { .. } => return Ok(()),
    }
    let change = Change::for_message(bot, room, message);
    let sent = change.sent;
    if record.applied(&message.event_id).is_none() {
        let mut next = record.clone();
        if next.incident.acknowledge(sent, &message.sender) {
            info!(incident = %next.incident.number, "acknowledged by a responder's first message");
            change.commit(next, None).await?;
        } else {
            debug!("already acknowledged");
        }
    }
    bot.publisher.publish(room.room_id());
    once::record(
        bot,
        &message.event_id,
        message.origin_server_ts,
        Outcome::Done,
    )
    .await?;
    Ok(())
}
