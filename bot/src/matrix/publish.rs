//! Brings each incident's room in step with its stored record, off the command path.
//!
//! A command or reaction decides a change, stores it as a new version of the record and is
//! answered at once; this task then makes the room show it: name, topic, `org.brigade.incident`
//! state, the pinned summary and the announcements headline (posted for a new incident, edited
//! in place afterwards), and the room's place in the space. Changes that come faster than they
//! are published are published together. The version last published is stored, so after a
//! crash every room that lags its record is brought up to date at the next start; messages
//! carry transaction IDs derived from the room and the version, so a retry posts nothing twice.

use std::{
    collections::{BTreeSet, HashMap},
    time::Duration,
};

use brigade_core::{
    events::{INCIDENT_STATE, TIMELINE_STATE},
    incident::{Incident, Status},
    record::IncidentRecord,
};
use matrix_sdk::{
    ruma::{
        events::{
            room::{
                message::ReplacementMetadata, pinned_events::RoomPinnedEventsEventContent,
                power_levels::RoomPowerLevelsEventContent,
            },
            space::{child::SpaceChildEventContent, parent::SpaceParentEventContent},
            Mentions,
        },
        Int, OwnedEventId, OwnedRoomId, RoomId,
    },
    Room, RoomMemberships,
};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use super::{
    bot::Bot,
    error::ActionError,
    lookup, names,
    publisher::Queue,
    reply::{notice, transaction_id},
    status_room,
};
use crate::{
    keys::{self, Published},
    names::Names,
    render,
};

const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(30);

/// Publishes every room that lags its record, then each room asked for, until shutdown. A
/// room that cannot be updated yet is asked for again later (backing off), without holding up
/// the others.
pub async fn run(bot: &Bot, Queue(mut queue): Queue, shutdown: CancellationToken) {
    match bot.store.incidents().await {
        Ok(incidents) => {
            for record in incidents {
                bot.publisher.publish(&record.room_id);
            }
        }
        Err(error) => error!(%error, "cannot list incidents to publish"),
    }
    let mut backoff: HashMap<OwnedRoomId, Duration> = HashMap::new();
    loop {
        let first = tokio::select! {
            () = shutdown.cancelled() => return,
            room = queue.recv() => match room {
                Some(room) => room,
                None => return,
            },
        };
        let mut rooms = BTreeSet::from([first]);
        while let Ok(room) = queue.try_recv() {
            rooms.insert(room);
        }
        // The records are stored: the status page follows them whether the rooms can or not.
        bot.status.changed();
        for room_id in rooms {
            match publish(bot, &room_id, Records::Free).await {
                Ok(()) => {
                    backoff.remove(&room_id);
                }
                Err(error) => {
                    // A refusal is never taken for done: the room does not show the change.
                    if error.refusal().is_some() {
                        error!(%room_id, %error, "the homeserver refused to update an incident room; trying again later");
                    }
                    let wait = backoff
                        .get(&room_id)
                        .map_or(RETRY_FIRST, |wait| (*wait * 2).min(RETRY_MAX));
                    backoff.insert(room_id.clone(), wait);
                    warn!(%room_id, %error, retry_in = ?wait, "cannot update an incident room yet");
                    let publisher = bot.publisher.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(wait).await;
                        publisher.publish(&room_id);
                    });
                }
            }
        }
    }
}

async fn published(bot: &Bot, room_id: &RoomId) -> Result<Option<Published>, ActionError> {
    Ok(keys::published(room_id).get(bot.store.as_ref()).await?)
}

/// Records that `record`'s room shows it, its timeline in pages or (a first-release room
/// rebuilt) not.
pub async fn set_published(
    bot: &Bot,
    record: &IncidentRecord,
    timeline_paged: bool,
) -> Result<(), ActionError> {
    let published = Published {
        version: record.version,
        incident: record.incident.clone(),
        timeline_paged,
    };
    keys::published(&record.room_id)
        .set(bot.store.as_ref(), &published)
        .await?;
    Ok(())
}

/// Whether the caller holds [`Bot::records`] already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Records {
    /// The caller (the worker) holds the lock.
    Held,
    /// Take the lock for the record's update.
    Free,
}

/// Makes `room_id` show its stored record, if it does not yet.
pub async fn publish(bot: &Bot, room_id: &RoomId, records: Records) -> Result<(), ActionError> {
    let Some(record) = bot.store.incident(room_id).await? else {
        return Ok(());
    };
    let shown = published(bot, room_id).await?;
    if shown
        .as_ref()
        .is_some_and(|shown| shown.version >= record.version)
    {
        return Ok(());
    }
    // Not known yet (before the first sync after a start): the next try will find it.
    let room = lookup::known(&bot.client, room_id)?;
    let started = std::time::Instant::now();
    let incident = &record.incident;
    // Compared with what was last shown; a room never shown has what `createRoom` gave it,
    // which is version 1.
    let before = shown.as_ref().map(|shown| &shown.incident);
    let fresh = before.is_none() && record.version == 1;
    // A room whose timeline is not paged yet gets its state and every page.
    let paged = fresh || shown.as_ref().is_some_and(|shown| shown.timeline_paged);
    let differs = |render: &dyn Fn(&Incident) -> String| {
        !fresh && before.map(render) != Some(render(incident))
    };
    let names = names::of_incident(&room, &record, []).await;
    let new = record.summary_event.is_none();
    let name = async {
        if differs(&Incident::room_name) {
            room.set_name(incident.room_name()).await?;
        }
        Ok::<_, ActionError>(())
    };
    let topic = async {
        let topic = |incident: &Incident| render::topic(incident, &names);
        if differs(&topic) {
            room.set_room_topic(&topic(incident)).await?;
        }
        Ok::<_, ActionError>(())
    };
    let state = async {
        let shown = incident.in_state();
        if !paged || (!fresh && before.map(Incident::in_state) != Some(shown.clone())) {
            room.send_state_event_raw(INCIDENT_STATE, "", serde_json::to_value(shown)?)
                .await?;
        }
        // The timeline's pages that changed: the last one, as a rule.
        let pages_before = before.map(Incident::timeline_pages).unwrap_or_default();
        for (page, entries) in incident.timeline_pages().iter().enumerate() {
            if !paged || (!fresh && pages_before.get(page) != Some(entries)) {
                room.send_state_event_raw(
                    TIMELINE_STATE,
                    &page.to_string(),
                    serde_json::to_value(entries)?,
                )
                .await?;
            }
        }
        Ok::<_, ActionError>(())
    };
    let summary = async {
        // A private room shows each member only what was said after they joined: a summary
        // posted before anyone but the bot is there would be read by no one. The first join
        // brings it ([`summary_after_join`]).
        if incident.private && record.summary_event.is_none() && !someone_joined(bot, &room).await?
        {
            return Ok(None);
        }
        summary(&room, &record, &names).await
    };
    let headline = headline(bot, &record, &names);
    let space = async {
        // A private room stays out of the space, where its members' names would show.
        if new && !incident.private {
            if let Some(space) = bot.client.get_room(&bot.rooms.space) {
                let via = vec![bot.config.matrix.user_id.server_name().to_owned()];
                space
                    .send_state_event_for_key(room_id, SpaceChildEventContent::new(via))
                    .await?;
            }
        }
        Ok::<_, ActionError>(())
    };
    let archive = async {
        let closing = incident.status == Status::Closed
            && before.is_some_and(|before| before.status != Status::Closed);
        if closing {
            archive(bot, room_id, incident.private).await?;
        }
        Ok::<_, ActionError>(())
    };
    let shared = async {
        let Some(room) = incident
            .shared
            .as_ref()
            .and_then(|shared| bot.client.get_room(&shared.room_id))
        else {
            return Ok(None);
        };
        let text = render::shared_summary(&record, &names);
        let existing = record.shared_summary_event.as_ref();
        let posted = post_or_edit(&room, &record, existing, &text, "shared-summary").await?;
        if let Some(posted) = &posted {
            room.send_state_event(RoomPinnedEventsEventContent::new(vec![posted.clone()]))
                .await?;
        }
        let closing = incident.status == Status::Closed
            && before.is_some_and(|before| before.status != Status::Closed);
        if closing {
            read_only(bot, &room).await?;
        }
        Ok::<_, ActionError>(posted)
    };
    let announced = status_room::announce(bot, before, &record);
    // Every part is tried, whichever fails: a refused state event must not hold back the name.
    let (name, topic, state, summary, headline, space, archive, shared, announced) =
        tokio::join!(name, topic, state, summary, headline, space, archive, shared, announced);
    // What was posted is kept even when another part failed: the next try edits it rather
    // than posting it again.
    let posted =
        |part: &Result<Option<OwnedEventId>, ActionError>| part.as_ref().ok().cloned().flatten();
    let (summary_event, headline_event, shared_summary_event) =
        (posted(&summary), posted(&headline), posted(&shared));

    // Written under the records lock: a command may have stored a newer version meanwhile.
    let _records = match records {
        Records::Free => Some(bot.records.lock().await),
        Records::Held => None,
    };
    if let Some(mut latest) = bot.store.incident(room_id).await? {
        let missing = latest.summary_event.is_none()
            || latest.headline_event.is_none()
            || latest.shared_summary_event.is_none();
        if missing {
            latest.summary_event = latest.summary_event.or(summary_event);
            latest.headline_event = latest.headline_event.or(headline_event);
            latest.shared_summary_event = latest.shared_summary_event.or(shared_summary_event);
            bot.store.save_incident(&latest).await?;
        }
    }
    summary.and(headline).and(shared)?;
    name.and(topic)
        .and(state)
        .and(space)
        .and(archive)
        .and(announced)?;
    set_published(bot, &record, true).await?;
    let elapsed_ms = started.elapsed().as_millis();
    debug!(%room_id, version = record.version, elapsed_ms, "incident room published");
    Ok(())
}

/// Nobody but the bot may send anything in the room any more: every member drops to 0 and
/// every event needs [`CLOSED_LEVEL`]. The bot keeps its level (before room version 12) or its
/// creator's power (from 12 on).
async fn read_only(bot: &Bot, room: &Room) -> Result<(), ActionError> {
    let mut levels = room.power_levels().await.map_err(matrix_sdk::Error::from)?;
    let closed = Int::from(CLOSED_LEVEL);
    levels
        .users
        .retain(|user, _| *user == bot.config.matrix.user_id);
    levels.users_default = Int::from(0);
    levels.events_default = closed;
    levels.state_default = closed;
    levels.invite = closed;
    levels.redact = closed;
    for level in levels.events.values_mut() {
        *level = (*level).max(closed);
    }
    room.send_state_event(
        RoomPowerLevelsEventContent::try_from(levels).map_err(matrix_sdk::Error::from)?,
    )
    .await?;
    Ok(())
}

/// The level needed to send anything in a closed room: above everyone but the bot.
const CLOSED_LEVEL: i32 = 100;

/// Makes a closed incident's room read-only and moves it from the Incidents space to its
/// archive.
async fn archive(bot: &Bot, room_id: &RoomId, private: bool) -> Result<(), ActionError> {
    let via = vec![bot.config.matrix.user_id.server_name().to_owned()];
    let rooms = &bot.rooms;
    let known = |id: &RoomId| lookup::known(&bot.client, id);
    let room = known(room_id)?;
    read_only(bot, &room).await?;
    if private {
        // Never in the space, so not in its archive either.
        return Ok(());
    }
    let (space, archive) = (known(&rooms.space)?, known(&rooms.archive)?);
    archive
        .send_state_event_for_key(room_id, SpaceChildEventContent::new(via.clone()))
        .await?;
    let mut parent = SpaceParentEventContent::new(via);
    parent.canonical = true;
    room.send_state_event_for_key(&rooms.archive, parent)
        .await?;
    // Empty content takes a room out of a space, and a space out of a room's parents.
    space
        .send_state_event_raw("m.space.child", room_id.as_str(), serde_json::json!({}))
        .await?;
    room.send_state_event_raw(
        "m.space.parent",
        rooms.space.as_str(),
        serde_json::json!({}),
    )
    .await?;
    info!(%room_id, "closed incident moved to the archive");
    Ok(())
}

/// Posts and pins the summary of a new incident, or edits it; returns a newly posted one.
async fn summary(
    room: &Room,
    record: &IncidentRecord,
    names: &Names,
) -> Result<Option<OwnedEventId>, ActionError> {
    let text = render::summary(record, names);
    let posted = post_or_edit(
        room,
        record,
        record.summary_event.as_ref(),
        &text,
        "summary",
    )
    .await?;
    if let Some(posted) = &posted {
        room.send_state_event(RoomPinnedEventsEventContent::new(vec![posted.clone()]))
            .await?;
    }
    Ok(posted)
}

/// Someone joined `room`: a private incident's summary, held back until someone could read it,
/// is posted and pinned now. The caller holds the records lock.
pub async fn summary_after_join(bot: &Bot, room: &Room) -> Result<(), ActionError> {
    let Some(mut record) = bot.store.incident(room.room_id()).await? else {
        return Ok(());
    };
    if !record.incident.private || record.summary_event.is_some() {
        return Ok(());
    }
    let names = names::of_incident(room, &record, []).await;
    record.summary_event = summary(room, &record, &names).await?;
    bot.store.save_incident(&record).await?;
    Ok(())
}

/// Whether anyone but the bot has joined `room`.
async fn someone_joined(bot: &Bot, room: &Room) -> Result<bool, ActionError> {
    let members = room.members(RoomMemberships::JOIN).await?;
    Ok(members
        .iter()
        .any(|member| member.user_id() != bot.config.matrix.user_id))
}

/// Posts the headline of a new incident in announcements, or edits it; returns a newly posted
/// one. Without the announcements room (the bot was removed) there is no headline.
async fn headline(
    bot: &Bot,
    record: &IncidentRecord,
    names: &Names,
) -> Result<Option<OwnedEventId>, ActionError> {
    let Some(announcements) = bot.client.get_room(&bot.rooms.announcements) else {
        warn!("the bot is not in the announcements room: no headline");
        return Ok(None);
    };
    let text = render::headline(record, names);
    post_or_edit(
        &announcements,
        record,
        record.headline_event.as_ref(),
        &text,
        "headline",
    )
    .await
}

/// Edits `existing` to say `text`, or posts `text` when there is nothing yet and returns the
/// new message. The transaction ID names the incident's room, `purpose` and, for an edit, the
/// record's version: a retry of the same step is posted once.
async fn post_or_edit(
    room: &Room,
    record: &IncidentRecord,
    existing: Option<&OwnedEventId>,
    text: &str,
    purpose: &str,
) -> Result<Option<OwnedEventId>, ActionError> {
    if let Some(existing) = existing {
        let edit = notice(text).make_replacement(ReplacementMetadata::new(
            existing.clone(),
            Some(Mentions::new()),
        ));
        let source = format!("{}\u{0}{}", record.room_id, record.version);
        room.send(edit)
            .with_transaction_id(transaction_id(&source, &format!("{purpose}-edit")))
            .await?;
        return Ok(None);
    }
    let posted = room
        .send(notice(text))
        .with_transaction_id(transaction_id(&record.room_id, purpose))
        .await?
        .response
        .event_id;
    Ok(Some(posted))
}
