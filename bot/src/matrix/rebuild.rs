//! Incidents the store does not know (it was lost, or the bot replaced) are rebuilt from their
//! rooms at start-up: the incident from the room's `org.brigade.incident` state (which carries
//! the automatic timeline), flags, thanks, edits and the pinned summary from the room's history
//! and its reactions. Numbers found in rooms are never handed out again.

use std::collections::HashMap;

use brigade_core::{
    events::{INCIDENT_STATE, TIMELINE_STATE},
    incident::Incident,
    record::IncidentRecord,
    store::StoreError,
    timeline::{Message, Thanks, TimelinePage},
};
use matrix_sdk::{
    deserialized_responses::{RawAnySyncOrStrippedState, TimelineEvent},
    room::MessagesOptions,
    ruma::{
        events::{
            room::message::Relation, AnySyncMessageLikeEvent, AnySyncStateEvent,
            AnySyncTimelineEvent, StateEventType, SyncMessageLikeEvent, SyncStateEvent,
        },
        serde::Raw,
        OwnedEventId, OwnedUserId, RoomAliasId, UInt,
    },
    Room,
};
use tracing::{info, warn};

use super::{
    bot::Bot,
    error::ActionError,
    publish,
    timeline::{self, Meaning},
};
use crate::render;

const PAGE: u32 = 100;
/// How far back the announcements room is read for a rebuilt incident's headline.
const HEADLINE_PAGES: usize = 20;

/// Rebuilds every incident room the store does not know, and raises the incident counter above
/// every number in use. Only rooms the bot created, whose incident state the bot wrote, are
/// incident rooms: anyone can put that state in a room of their own and invite the bot. A room
/// that cannot be read now is left for the next start.
pub async fn missing(bot: &Bot) -> Result<(), StoreError> {
    let mut highest = 0;
    for room in bot.client.joined_rooms() {
        if let Some(record) = bot.store.incident(room.room_id()).await? {
            highest = highest.max(record.incident.number.0);
            continue;
        }
        let Some((incident, paged)) = incident_state(bot, &room).await else {
            continue;
        };
        highest = highest.max(incident.number.0);
        let started = std::time::Instant::now();
        match rebuild(bot, &room, incident, paged).await {
            Ok(record) => {
                let elapsed_ms = started.elapsed().as_millis();
                info!(
                    incident = %record.incident.number,
                    room_id = %record.room_id,
                    flags = record.flags.len(),
                    elapsed_ms,
                    "incident rebuilt from its room"
                );
            }
            Err(error) => {
                warn!(room_id = %room.room_id(), %error, "cannot rebuild an incident from its room yet; trying again at the next start");
            }
        }
    }
    bot.store.raise_incident_number(highest).await
}

/// The incident the room's state describes, if it is one of the bot's incident rooms, and
/// whether its timeline came from pages (a first-release room keeps it in the incident's own
/// state).
async fn incident_state(bot: &Bot, room: &Room) -> Option<(Incident, bool)> {
    let event = state_event(room, StateEventType::from(INCIDENT_STATE), "").await?;
    let me = bot.config.matrix.user_id.as_str();
    let creator = state_event(room, StateEventType::RoomCreate, "").await;
    let creator = creator
        .as_ref()
        .and_then(|create| create["sender"].as_str());
    let writer = event["sender"].as_str();
    if creator != Some(me) || writer != Some(me) {
        warn!(
            room_id = %room.room_id(),
            creator = creator.unwrap_or("unknown"),
            writer = writer.unwrap_or("unknown"),
            number = %event["content"]["number"],
            "incident state in a room the bot did not make, or written by someone else: not rebuilt, and its number is not counted"
        );
        return None;
    }
    let mut incident: Incident = match serde_json::from_value(event["content"].clone()) {
        Ok(incident) => incident,
        Err(error) => {
            warn!(room_id = %room.room_id(), %error, "unreadable incident state: not rebuilt");
            return None;
        }
    };
    let mut pages = Vec::new();
    loop {
        let key = pages.len().to_string();
        let Some(page) = state_event(room, StateEventType::from(TIMELINE_STATE), &key).await else {
            break;
        };
        // Only what the bot wrote: anything else ends the timeline there.
        if page["sender"].as_str() != Some(me) {
            warn!(room_id = %room.room_id(), page = %key, "a timeline page the bot did not write: the timeline ends before it");
            break;
        }
        match serde_json::from_value::<TimelinePage>(page["content"].clone()) {
            Ok(page) => pages.push(page),
            Err(error) => {
                warn!(room_id = %room.room_id(), page = %key, %error, "an unreadable timeline page: the timeline ends before it");
                break;
            }
        }
    }
    let paged = !pages.is_empty();
    if paged {
        incident.timeline = pages.into_iter().flat_map(|page| page.entries).collect();
    }
    Some((incident, paged))
}

/// The room's current state event of `event_type` and `key`, as the bot's store has it.
async fn state_event(
    room: &Room,
    event_type: StateEventType,
    key: &str,
) -> Option<serde_json::Value> {
    let state = room.get_state_event(event_type, key).await.ok()??;
    let RawAnySyncOrStrippedState::Sync(raw) = state else {
        return None;
    };
    raw.deserialize_as().ok()
}

async fn rebuild(
    bot: &Bot,
    room: &Room,
    incident: Incident,
    paged: bool,
) -> Result<IncidentRecord, ActionError> {
    let alias = room
        .canonical_alias()
        .ok_or_else(|| ActionError::InvalidAlias("the incident room has no alias".to_owned()))?;
    let mut record = IncidentRecord::new(incident, room.room_id().to_owned(), alias.clone());
    let history = history(room).await?;
    read_back(bot, &mut record, &history);
    record.headline_event = headline(bot, &alias).await;
    bot.store.save_incident(&record).await?;
    // What the room shows is what was read from it: nothing to publish.
    publish::set_published(bot, &record, paged).await?;
    Ok(record)
}

/// Every event of the room, oldest first.
pub(super) async fn history(room: &Room) -> Result<Vec<Raw<AnySyncTimelineEvent>>, ActionError> {
    let mut events = Vec::new();
    let mut pages = Pages::new(room);
    while let Some(page) = pages.next().await? {
        events.extend(page.into_iter().map(TimelineEvent::into_raw));
    }
    events.reverse();
    Ok(events)
}

/// A room's history read backwards, a page at a time.
struct Pages<'a> {
    room: &'a Room,
    from: Option<String>,
    done: bool,
}

impl<'a> Pages<'a> {
    fn new(room: &'a Room) -> Self {
        Self {
            room,
            from: None,
            done: false,
        }
    }

    /// The next page, newest event first; `None` once the room's start is reached.
    async fn next(&mut self) -> Result<Option<Vec<TimelineEvent>>, matrix_sdk::Error> {
        if self.done {
            return Ok(None);
        }
        let mut options = MessagesOptions::backward().from(self.from.as_deref());
        options.limit = UInt::from(PAGE);
        let page = self.room.messages(options).await?;
        self.done = page.chunk.is_empty() || page.end.is_none();
        self.from = page.end;
        Ok((!page.chunk.is_empty()).then_some(page.chunk))
    }
}

/// Flags, thanks, edits, pages and the pinned summary, from the room's history (oldest first).
/// Redacted reactions and messages come back without content and count for nothing.
fn read_back(bot: &Bot, record: &mut IncidentRecord, history: &[Raw<AnySyncTimelineEvent>]) {
    let me = &bot.config.matrix.user_id;
    let mut messages: HashMap<OwnedEventId, Message> = HashMap::new();
    let mut reactions: Vec<(OwnedEventId, OwnedUserId, String, OwnedEventId)> = Vec::new();
    let mut edits: Vec<(OwnedEventId, OwnedUserId, String)> = Vec::new();
    for raw in history {
        if let Some(message) = timeline::to_message(raw) {
            if message.author == *me && message.body.starts_with("📟") {
                record.pages.push(message.event_id.clone());
            }
            messages.insert(message.event_id.clone(), message);
            continue;
        }
        match raw.deserialize() {
            Ok(AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(
                SyncMessageLikeEvent::Original(message),
            ))) => {
                if let Some(Relation::Replacement(replacement)) = &message.content.relates_to {
                    let body = replacement.new_content.msgtype.body().to_owned();
                    edits.push((replacement.event_id.clone(), message.sender, body));
                }
            }
            Ok(AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::Reaction(
                SyncMessageLikeEvent::Original(reaction),
            ))) => {
                let annotation = reaction.content.relates_to;
                reactions.push((
                    reaction.event_id,
                    reaction.sender,
                    annotation.key,
                    annotation.event_id,
                ));
            }
            Ok(AnySyncTimelineEvent::State(AnySyncStateEvent::RoomPinnedEvents(
                SyncStateEvent::Original(pinned),
            ))) => {
                record.summary_event = pinned.content.pinned.first().cloned();
            }
            _ => {}
        }
    }
    let mut marks: HashMap<OwnedEventId, OwnedEventId> = HashMap::new();
    for (reaction, sender, key, target) in reactions {
        let meaning = timeline::meaning(bot, &key);
        if sender == *me {
            if meaning == Some(Meaning::Flag) {
                marks.insert(target, reaction);
            }
            continue;
        }
        let Some(message) = messages.get(&target) else {
            continue;
        };
        match meaning {
            Some(Meaning::Flag) => {
                record.flag(message.clone(), reaction);
            }
            Some(Meaning::Thanks) if message.author != sender && message.author != *me => {
                record.thank(Thanks {
                    reaction,
                    to: message.author.clone(),
                    by: sender,
                });
            }
            _ => {}
        }
    }
    for flag in &mut record.flags {
        flag.mark = marks.remove(&flag.event_id);
    }
    for (target, sender, body) in edits {
        record.edit(&target, &sender, &body);
    }
}

/// The bot's headline for the incident at `alias` in announcements, if it can be found.
async fn headline(bot: &Bot, alias: &RoomAliasId) -> Option<OwnedEventId> {
    let announcements = bot.client.get_room(&bot.rooms.announcements)?;
    let link = format!("({})", render::permalink(alias));
    let mut pages = Pages::new(&announcements);
    for _ in 0..HEADLINE_PAGES {
        let Some(page) = pages.next().await.ok()? else {
            break;
        };
        for event in &page {
            if let Some(message) = timeline::to_message(event.raw()) {
                if message.author == bot.config.matrix.user_id && message.body.contains(&link) {
                    return Some(message.event_id);
                }
            }
        }
    }
    warn!(%alias, "no headline found for a rebuilt incident; the next change posts a new one");
    None
}
