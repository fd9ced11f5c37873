//! Getting a route's virtual user into the route's room: registered and named once, and joined,
//! creating the room when its alias does not exist yet.

use brigade_core::events::VIRTUAL_USER_PREFIX;
use ruma::{OwnedRoomId, OwnedRoomOrAliasId, OwnedUserId, RoomAliasId, UserId};
use tracing::info;

use super::error::DeliveryError;
use crate::{
    alert::Source,
    bridge::Bridge,
    config::Hook,
    homeserver::{HomeserverError, NewRoom},
};

/// The virtual user of `source`: `@alert_<source>:server`.
pub fn virtual_user(bridge: &Bridge, source: Source) -> Result<OwnedUserId, HomeserverError> {
    UserId::parse(format!(
        "@{VIRTUAL_USER_PREFIX}{}:{}",
        source.name(),
        bridge.config.homeserver.server_name
    ))
    .map_err(|error| HomeserverError::Build(error.to_string()))
}

/// Registers the route's virtual user (once; a second time is fine), names it, and joins it
/// to the route's room, creating the room when its alias does not exist yet.
pub async fn prepare(bridge: &Bridge, hook: &Hook) -> Result<OwnedRoomId, DeliveryError> {
    let hs = bridge.homeserver.as_ref();
    let user = virtual_user(bridge, hook.source)?;
    hs.register(&user).await?;
    hs.set_display_name(&user, hook.source.display_name())
        .await?;
    let Ok(alias) = <&RoomAliasId>::try_from(&*hook.room) else {
        return join(bridge, &user, &hook.room).await;
    };
    if let Some(room_id) = hs.resolve_alias(&user, alias).await? {
        return join(bridge, &user, &room_id.into()).await;
    }
    // The other routes' virtual users posting here are invited too: the room is invite-only.
    let mut invite = hook.invite.clone();
    for other in &bridge.config.hooks {
        let other_user = virtual_user(bridge, other.source)?;
        if other.room == hook.room && other_user != user && !invite.contains(&other_user) {
            invite.push(other_user);
        }
    }
    let room = NewRoom {
        alias: alias.alias().to_owned(),
        name: format!("Alerts · {}", hook.name),
        topic: format!(
            "Alerts from {} (route {}), posted by Brigade's bridge",
            hook.source.display_name(),
            hook.name
        ),
        invite,
    };
    match hs.create_room(&user, room).await {
        Ok(room_id) => {
            info!(%alias, %room_id, "alert room created");
            Ok(room_id)
        }
        // Made by another route (or a start that crashed) in between.
        Err(error) if error.errcode() == Some("M_ROOM_IN_USE") => {
            join(bridge, &user, &hook.room).await
        }
        Err(error) => Err(error.into()),
    }
}

async fn join(
    bridge: &Bridge,
    user: &UserId,
    room: &OwnedRoomOrAliasId,
) -> Result<OwnedRoomId, DeliveryError> {
    Ok(bridge.homeserver.join(user, room).await?)
}
