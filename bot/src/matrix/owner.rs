//! Whose a room is: whether the bot made it, or holds the top power there, before it relies
//! on a room an alias points to.

use matrix_sdk::{
    ruma::{api::client::state::get_state_events, RoomVersionId},
    Client, HttpError, Room,
};

/// `None` when `room` is the bot's: it made it, with no other creator, or, before room version
/// 12 made creators untouchable, it is above everyone else there (the default level included).
/// Otherwise who made it. Read from the homeserver, which has the room's state even when the
/// bot has only just joined.
pub async fn other_creator(client: &Client, room: &Room) -> Result<Option<String>, HttpError> {
    let me = client
        .user_id()
        .map(ToString::to_string)
        .unwrap_or_default();
    let state = client
        .send(get_state_events::v3::Request::new(
            room.room_id().to_owned(),
        ))
        .await?;
    let events: Vec<serde_json::Value> = state
        .room_state
        .iter()
        .filter_map(|event| event.deserialize_as().ok())
        .collect();
    let of_type = |kind: &str| events.iter().find(|event| event["type"] == kind);
    let create = of_type("m.room.create");
    let creator = create
        .and_then(|create| create["sender"].as_str())
        .unwrap_or("someone")
        .to_owned();
    // Every creator holds the room's highest power: the bot must be the only one.
    let others_create = create
        .and_then(|create| create["content"]["additional_creators"].as_array())
        .is_some_and(|creators| creators.iter().any(|user| user != me.as_str()));
    if creator == me && !others_create {
        return Ok(None);
    }
    let creators_privileged = create
        .and_then(|create| create["content"]["room_version"].as_str())
        .and_then(|version| RoomVersionId::try_from(version).ok())
        .and_then(|version| version.rules())
        .is_some_and(|rules| rules.authorization.explicitly_privilege_room_creators);
    let levels = of_type("m.room.power_levels").map(|levels| &levels["content"]);
    // Before room version 12 the creator is only as strong as its level: the bot must be
    // above everyone else, the default included, so that nobody can undo what it sets.
    let users_default = levels
        .and_then(|levels| levels["users_default"].as_i64())
        .unwrap_or(0);
    let mine = levels
        .and_then(|levels| levels["users"][me.as_str()].as_i64())
        .unwrap_or(users_default);
    let others_top = levels
        .and_then(|levels| levels["users"].as_object())
        .into_iter()
        .flatten()
        .filter(|(user, _)| user.as_str() != me)
        .filter_map(|(_, level)| level.as_i64())
        .fold(users_default, i64::max);
    if !creators_privileged && !others_create && levels.is_some() && mine > others_top {
        return Ok(None);
    }
    Ok(Some(creator))
}
