//! Invites: accepted from users of allowed servers, declined from everyone else. Answered in
//! the background, one task per room, each join bounded: a room on a server that does not
//! answer holds up nothing else.

use std::{sync::Arc, time::Duration};

use brigade_core::sync::lock;
use matrix_sdk::{
    ruma::{OwnedRoomId, RoomId},
    RoomState,
};
use tracing::{info, warn};

use super::bot::Bot;

/// Synapse can answer a join that follows an invite too quickly with an error; a few retries
/// ride that out.
const JOIN_ATTEMPTS: u32 = 5;

/// How long one join may take: joining over federation waits on the room's server.
const JOIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Answers the bot's invite to `room_id` in a task of its own, unless one already is.
pub fn spawn(bot: &Arc<Bot>, room_id: OwnedRoomId) {
    if !lock(&bot.joining).insert(room_id.clone()) {
        return;
    }
    let bot = bot.clone();
    tokio::spawn(async move {
        handle(&bot, &room_id).await;
        lock(&bot.joining).remove(&room_id);
    });
}

/// Accepts or declines the bot's invite to `room_id`.
async fn handle(bot: &Bot, room_id: &RoomId) {
    let Some(room) = bot.client.get_room(room_id) else {
        return;
    };
    if room.state() != RoomState::Invited {
        return;
    }
    let inviter = match room.invite_details().await {
        Ok(invite) => invite.inviter_id,
        Err(error) => {
            warn!(%room_id, %error, "cannot tell who sent an invite; declining it");
            decline(&room).await;
            return;
        }
    };
    if !bot.config.access.allows(&inviter) {
        warn!(%room_id, %inviter, "invite declined: the inviter's server is not in access.allowed_servers");
        decline(&room).await;
        return;
    }
    for attempt in 1..=JOIN_ATTEMPTS {
        let joined = tokio::time::timeout(JOIN_TIMEOUT, room.join())
            .await
            .unwrap_or_else(|_| {
                Err(matrix_sdk::Error::UnknownError(
                    format!("no answer within {} s", JOIN_TIMEOUT.as_secs()).into(),
                ))
            });
        match joined {
            Ok(()) => {
                info!(%room_id, %inviter, "invite accepted");
                return;
            }
            Err(error) if attempt < JOIN_ATTEMPTS => {
                warn!(%room_id, %error, attempt, "join failed; retrying");
                tokio::time::sleep(Duration::from_secs(u64::from(attempt))).await;
            }
            Err(error) => warn!(%room_id, %error, "giving up joining"),
        }
    }
}

async fn decline(room: &matrix_sdk::Room) {
    if let Err(error) = room.leave().await {
        warn!(room_id = %room.room_id(), %error, "could not decline an invite");
    }
}
