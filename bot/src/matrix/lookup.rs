//! Finding rooms and members as the bot's client knows them: a room by ID or alias (bounded in
//! time, since a remote alias waits on federation), whether someone is joined.

use std::time::Duration;

use matrix_sdk::{
    ruma::{events::room::member::MembershipState, OwnedRoomId, RoomId, RoomOrAliasId, UserId},
    Client, Room, RoomState,
};
use tracing::warn;

use super::error::ActionError;

/// How long looking up an alias may take: one on another server waits on federation, and the
/// worker waits with it.
const ALIAS_LOOKUP: Duration = Duration::from_secs(10);

/// The room `target` (an ID, or an alias looked up now) names, if the bot is joined to it.
/// `None` as well for an alias that is unknown or cannot be looked up in [`ALIAS_LOOKUP`]; an
/// error when the homeserver fails (worth another try).
pub async fn joined(client: &Client, target: &RoomOrAliasId) -> Result<Option<Room>, ActionError> {
    let room_id: OwnedRoomId = match <&RoomId>::try_from(target) {
        Ok(room_id) => room_id.to_owned(),
        Err(alias) => {
            match tokio::time::timeout(ALIAS_LOOKUP, client.resolve_room_alias(alias)).await {
                Ok(Ok(found)) => found.room_id,
                Ok(Err(error)) => {
                    let error = ActionError::from(error);
                    if error.refusal().is_some() {
                        return Ok(None);
                    }
                    return Err(error);
                }
                Err(_) => {
                    warn!(%alias, "the alias could not be looked up in time");
                    return Ok(None);
                }
            }
        }
    };
    Ok(client
        .get_room(&room_id)
        .filter(|room| room.state() == RoomState::Joined))
}

/// The room `room_id`, which the client must know by now.
pub fn known(client: &Client, room_id: &RoomId) -> Result<Room, ActionError> {
    client
        .get_room(room_id)
        .ok_or_else(|| ActionError::UnknownRoom(room_id.to_owned()))
}

/// Whether `user` is joined to `room`, as the bot's client knows it.
pub async fn is_joined(room: &Room, user: &UserId) -> Result<bool, ActionError> {
    let member = room.get_member(user).await?;
    Ok(member.is_some_and(|member| *member.membership() == MembershipState::Join))
}
