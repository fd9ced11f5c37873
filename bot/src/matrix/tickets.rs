//! Follow-ups' tickets (SPEC §16), as the bridge says they stand: its messages in an incident
//! room carrying `org.brigade.ticket` put a follow-up's ticket in the timeline when it is
//! opened, and its closing or reopening in the tracker. Believed only from the bridge's own
//! user, as its registration names it.

use brigade_core::events::{TicketContent, TICKET_KEY};
use matrix_sdk::{
    ruma::{events::AnySyncTimelineEvent, serde::Raw, EventId, UserId},
    Room,
};
use serde_json::Value;
use tracing::{info, warn};

use super::{bot::Bot, change::Change, error::ActionError};

/// What `raw`'s content says of a ticket, if it says anything.
pub fn read(raw: &Raw<AnySyncTimelineEvent>) -> Option<TicketContent> {
    let content: Value = raw.get_field("content").ok().flatten()?;
    serde_json::from_value(content.get(TICKET_KEY)?.clone()).ok()
}

/// Acts on `ticket`, said by `sender` at `sent` in `room` (event `cause`).
pub async fn handle(
    bot: &Bot,
    room: &Room,
    ticket: TicketContent,
    (cause, sender, sent): (&EventId, &UserId, u64),
) -> Result<(), ActionError> {
    let from_bridge = bot
        .config
        .alerts
        .bridge
        .as_ref()
        .is_some_and(|bridge| bridge.sender() == sender);
    if !from_bridge {
        warn!(%sender, room_id = %room.room_id(), %cause, "a ticket not from the bridge's own user: ignored");
        return Ok(());
    }
    let Some(record) = bot.store.incident(room.room_id()).await? else {
        return Ok(());
    };
    // Seen again (after a restart): taken once.
    if record.applied(cause).is_some() {
        return Ok(());
    }
    let mut next = record.clone();
    let number = ticket.followup;
    let opened = next.incident.ticket_opened(
        number,
        (ticket.tracker, ticket.key.clone(), ticket.url),
        sent,
        sender,
    );
    let changed =
        next.incident
            .ticket_changed(number, ticket.closed, ticket.by_name, (sent, sender));
    if !opened && !changed {
        return Ok(());
    }
    let change = Change {
        bot,
        room,
        cause,
        sender,
        sent,
        about: None,
    };
    change.commit(next, None).await?;
    bot.publisher.publish(room.room_id());
    info!(incident = %record.incident.number, followup = number, key = %ticket.key, closed = ticket.closed, "a follow-up's ticket");
    Ok(())
}
