//! Opening an incident: its number, its room in one `createRoom` (SPEC §5), its record, and
//! the room made complete (summary, headline, place in the space). Used by `!inc declare`,
//! `!inc private` and incidents declared for alerts.
//!
//! A declaration a crash interrupted is finished, not made twice: its number is kept under the
//! causing event, and the room an earlier try made is found again by its alias and its
//! `org.brigade.incident` state.

use brigade_core::{
    events::{CALL_MEMBER, INCIDENT_STATE, TIMELINE_STATE},
    incident::{Declaration, Incident, IncidentNumber},
    levels::{BOT_LEVEL, COMMANDER_LEVEL, MODERATOR_LEVEL, RESPONDER_LEVEL},
    record::IncidentRecord,
};
use matrix_sdk::{
    ruma::{
        api::{
            client::{
                room::{
                    create_room::v3::{CreationContent, Request as CreateRoomRequest, RoomPreset},
                    Visibility,
                },
                state::get_state_event_for_key,
            },
            error::ErrorKind,
        },
        events::StateEventType,
        serde::Raw,
        EventId, OwnedRoomAliasId, RoomAliasId, RoomId, RoomVersionId, UserId,
    },
    Room, RoomState,
};
use rand::distributions::Alphanumeric;
use serde_json::json;
use tracing::{info, warn};

use super::{
    bot::Bot,
    change::Change,
    error::ActionError,
    names, publish,
    room_state::{level_users, raw_events, server_acl, state},
    rooms, widgets,
};
use crate::{commands::Refusal, config::AccessConfig, keys, names::Names, render};

/// Opens a new incident for the command `cause`: its number, its room in one `createRoom`, its
/// record, and the room made complete (summary, headline, place in the space). A declaration a
/// crash interrupted is finished, not made twice.
pub async fn open(
    change: &Change<'_>,
    declaration: Declaration,
) -> Result<(IncidentRecord, Room), ActionError> {
    let (bot, sent) = (change.bot, change.sent);
    let (number, resuming) = incident_number(bot, change.cause).await?;
    let incident = Incident::declare(number, declaration, sent).map_err(Refusal::from)?;
    // The commander by the name they go by where they declared, for the room's topic.
    let names = names::of(change.room, incident.commander.as_deref()).await;
    let creating = std::time::Instant::now();
    let (room, alias) =
        create_room_with_an_alias(bot, &incident, &names, change.cause, sent, resuming).await?;
    let create_room_ms = creating.elapsed().as_millis();
    let record = match bot.store.incident(room.room_id()).await? {
        // Finishing a declaration a crash interrupted: the record may already be published.
        Some(record) => record,
        None => {
            let record = IncidentRecord::new(incident, room.room_id().to_owned(), alias);
            bot.store.save_incident(&record).await?;
            // An incident may be on the status page from the start (an alert's component).
            bot.status.changed();
            record
        }
    };
    fail::fail_point!("declare-after-room", |_| super::bot::crash());
    // The summary (pinned), the headline and the room's place in the space, before the answer:
    // its ✅ says the room is complete. If the homeserver is not up to it now, the publisher
    // keeps trying while the answer goes out.
    if let Err(error) = publish::publish(bot, &record.room_id, publish::Records::Held).await {
        warn!(%error, "the new incident room is not complete yet; the publisher carries on");
        bot.publisher.publish(&record.room_id);
    }
    info!(incident = %record.incident.number, room_id = %record.room_id, create_room_ms, "incident declared");
    Ok((record, room))
}

/// The number for the declaration `cause`: a new one the first time, the same one when a
/// declaration a crash interrupted is finished (then `true`), so its room is found again.
async fn incident_number(
    bot: &Bot,
    cause: &EventId,
) -> Result<(IncidentNumber, bool), ActionError> {
    let key = keys::declared(cause);
    if let Some(number) = key.get(bot.store.as_ref()).await? {
        return Ok((IncidentNumber(number), true));
    }
    let number = bot.store.next_incident_number().await?;
    key.set(bot.store.as_ref(), &number).await?;
    Ok((IncidentNumber(number), false))
}

/// How many predictable aliases a declaration tries: the incident's own
/// (`#inc-YYYYMMDD-N[-slug]`), then the same with `-2`, `-3`… when someone else holds it.
const ALIAS_TRIES: u32 = 10;

/// The incident's room and its alias. A declaration a crash interrupted (`resuming`) first
/// looks behind every one of the incident's aliases for the room an earlier try made (the
/// earlier try may have taken `-2` while the first was held, and the first may be free again
/// now); only then, or on a first try, it creates the room behind the first alias that is
/// free. The predictable aliases can all be taken first by someone who wants to block
/// incidents: the last one tried ends in a random suffix kept for the declaration `cause`, so
/// nobody can have taken it.
async fn create_room_with_an_alias(
    bot: &Bot,
    incident: &Incident,
    names: &Names,
    cause: &EventId,
    sent: u64,
    resuming: bool,
) -> Result<(Room, OwnedRoomAliasId), ActionError> {
    let server = bot.config.matrix.user_id.server_name();
    let base = incident.alias_localpart(&render::alias_date(sent));
    let suffix = keys::declared_alias(cause);
    let suffix = match suffix.get(bot.store.as_ref()).await? {
        Some(suffix) => suffix,
        None => {
            let random: String = rand::Rng::sample_iter(rand::thread_rng(), &Alphanumeric)
                .take(8)
                .map(|c| char::from(c).to_ascii_lowercase())
                .collect();
            suffix.set(bot.store.as_ref(), &random).await?;
            random
        }
    };
    let aliases = (1..=ALIAS_TRIES)
        .map(|attempt| match attempt {
            1 => base.clone(),
            n => format!("{base}-{n}"),
        })
        .chain(std::iter::once(format!("{base}-{suffix}")))
        .map(|localpart| {
            RoomAliasId::parse(format!("#{localpart}:{server}"))
                .map_err(|error| ActionError::InvalidAlias(error.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if resuming {
        for alias in &aliases {
            if let Some(room) = made_earlier(bot, incident, alias).await? {
                return Ok((room, alias.clone()));
            }
        }
    }
    let last = aliases.len();
    for (tried, alias) in aliases.into_iter().enumerate() {
        match create_room(bot, incident, names, &alias).await {
            Err(ActionError::AliasTaken(taken)) if tried + 1 < last => {
                warn!(alias = %taken, "the incident's alias is held by another room; trying the next");
            }
            created => return created.map(|room| (room, alias)),
        }
    }
    Err(ActionError::InvalidAlias("no alias to try".to_owned()))
}

/// The room behind `alias` if an earlier try of this declaration made it: its
/// `org.brigade.incident` state carries this incident's number. `None` when there is no room
/// there or it is someone else's (a room the bot cannot read is not one it made); an error
/// when the homeserver fails, worth another try.
async fn made_earlier(
    bot: &Bot,
    incident: &Incident,
    alias: &RoomAliasId,
) -> Result<Option<Room>, ActionError> {
    let not_ours = |error: &matrix_sdk::HttpError| {
        matches!(
            error.client_api_error_kind(),
            Some(ErrorKind::NotFound | ErrorKind::Forbidden)
        )
    };
    let found = match bot.client.resolve_room_alias(alias).await {
        Ok(found) => found,
        Err(error) if not_ours(&error) => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let request = get_state_event_for_key::v3::Request::new(
        found.room_id.clone(),
        StateEventType::from(INCIDENT_STATE),
        String::new(),
    );
    let state = match bot.client.send(request).await {
        Ok(state) => state,
        Err(error) if not_ours(&error) => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let number = serde_json::from_str::<serde_json::Value>(state.event_or_content.get())
        .ok()
        .and_then(|content| content["number"].as_u64());
    if number != Some(incident.number.0) {
        return Ok(None);
    }
    Ok(Some(match bot.client.get_room(&found.room_id) {
        Some(room) if room.state() == RoomState::Joined => room,
        _ => bot.client.join_room_by_id(&found.room_id).await?,
    }))
}

/// The incident's room, in one `createRoom` with `alias`; [`ActionError::AliasTaken`] when
/// another room holds it (never adopted).
async fn create_room(
    bot: &Bot,
    incident: &Incident,
    names: &Names,
    alias: &RoomAliasId,
) -> Result<Room, ActionError> {
    let mut request = room_request(
        incident,
        names,
        alias,
        &bot.rooms.space,
        &bot.config.matrix.user_id,
        &bot.config.access,
        &bot.room_version,
    )?;
    if bot.config.web.widgets {
        let panel = widgets::panel_state(&bot.config.web.public_url, &bot.config.matrix.user_id);
        request.initial_state.extend(raw_events(&panel)?);
    }
    match bot.client.create_room(request).await {
        Ok(room) => Ok(room),
        Err(error) if rooms::alias_taken(&error) => Err(ActionError::AliasTaken(alias.to_owned())),
        Err(error) => Err(error.into()),
    }
}

/// The one `createRoom` of a declaration (SPEC §5): name, topic, alias, power levels (§6),
/// join rule (members of `space` join; others are invited), history visibility, the space
/// parent, the `org.brigade.incident` state, a server ACL admitting only `allowed` servers, and
/// the commander's invitation. `creator` is the bot; from room version 12 on it is above
/// everyone without being listed.
///
/// A private incident's room (§6) is end-to-end encrypted from its first event, never
/// federated, joined by invitation only (and only the commander invites), shows each member
/// only what was said after they joined, and stays out of the space; its state carries no
/// title or summary. The topic names the commander by `names`.
pub fn room_request(
    incident: &Incident,
    names: &Names,
    alias: &RoomAliasId,
    space: &RoomId,
    creator: &UserId,
    access: &AccessConfig,
    version: &RoomVersionId,
) -> Result<CreateRoomRequest, serde_json::Error> {
    let levels = json!({
        "users": level_users(incident.commander.as_deref(), creator, version),
        "users_default": RESPONDER_LEVEL,
        "events_default": 0,
        "state_default": COMMANDER_LEVEL,
        "invite": if incident.private { COMMANDER_LEVEL } else { MODERATOR_LEVEL },
        "kick": COMMANDER_LEVEL,
        "ban": COMMANDER_LEVEL,
        "redact": MODERATOR_LEVEL,
        "events": {
            "m.room.name": COMMANDER_LEVEL,
            "m.room.power_levels": COMMANDER_LEVEL,
            "m.room.topic": MODERATOR_LEVEL,
            "m.room.pinned_events": MODERATOR_LEVEL,
            "m.room.history_visibility": COMMANDER_LEVEL,
            "m.room.tombstone": 150,
            // Responders may say they are in the room's call (Element Call).
            CALL_MEMBER: RESPONDER_LEVEL,
            // The room's durable record of the incident: Brigade's alone.
            INCIDENT_STATE: BOT_LEVEL,
            TIMELINE_STATE: BOT_LEVEL,
        },
    });
    let server = creator.server_name();
    let mut initial_state = vec![
        state(INCIDENT_STATE, serde_json::to_value(incident.in_state())?),
        server_acl(server, &access.allowed_servers, access.allow_ip_literals),
    ];
    for (page, entries) in incident.timeline_pages().iter().enumerate() {
        initial_state.push(json!({
            "type": TIMELINE_STATE,
            "state_key": page.to_string(),
            "content": entries,
        }));
    }
    if incident.private {
        initial_state.extend([
            state("m.room.join_rules", json!({ "join_rule": "invite" })),
            state(
                "m.room.history_visibility",
                json!({ "history_visibility": "joined" }),
            ),
            state(
                "m.room.encryption",
                json!({ "algorithm": "m.megolm.v1.aes-sha2" }),
            ),
        ]);
    } else {
        initial_state.extend([
            // Members of the Incidents space join from the space; anyone else is invited.
            state(
                "m.room.join_rules",
                json!({
                    "join_rule": "restricted",
                    "allow": [{ "type": "m.room_membership", "room_id": space }],
                }),
            ),
            state(
                "m.room.history_visibility",
                json!({ "history_visibility": "shared" }),
            ),
            json!({
                "type": "m.space.parent",
                "state_key": space,
                "content": { "via": [server], "canonical": true },
            }),
        ]);
    }

    let mut request = CreateRoomRequest::new();
    request.name = Some(incident.room_name());
    request.topic = Some(render::topic(incident, names));
    request.room_alias_name = Some(alias.alias().to_owned());
    request.preset = Some(RoomPreset::PrivateChat);
    request.visibility = Visibility::Private;
    request.room_version = Some(version.clone());
    request.invite = incident.commander.iter().cloned().collect();
    request.power_level_content_override = Some(Raw::new(&levels)?.cast_unchecked());
    if incident.private {
        // Fixed at creation: no other homeserver ever takes part in the room.
        let mut creation = CreationContent::new();
        creation.federate = false;
        request.creation_content = Some(Raw::new(&creation)?);
    }
    request.initial_state = raw_events(&initial_state)?;
    Ok(request)
}
