//! Flags and thanks (SPEC §3, §8): 📌 (or a configured alias) on a message puts it in the
//! incident's timeline with its original time and author; 🙏 or 🎉 thanks its author. Taking
//! the reaction back, redacting the message or editing it keeps the timeline in step.
//!
//! Each change is keyed by the events that cause it (a reaction's ID, a redaction's target), so
//! handling one twice (after a crash, or in a catch-up) changes nothing the second time; the
//! bot's own 📌, which tells people the message is in the timeline, carries a transaction ID
//! derived from the message.

use brigade_core::{
    record::IncidentRecord,
    timeline::{Message, Removed, Thanks},
};
use matrix_sdk::{
    ruma::{
        events::{
            reaction::{OriginalSyncReactionEvent, ReactionEventContent},
            relation::Annotation,
            room::{
                message::{MessageType, OriginalSyncRoomMessageEvent, Relation},
                redaction::OriginalSyncRoomRedactionEvent,
                MediaSource,
            },
            AnySyncMessageLikeEvent, AnySyncTimelineEvent, SyncMessageLikeEvent,
        },
        serde::Raw,
        EventId,
    },
    Room,
};
use tracing::{debug, info, warn};

use super::{
    bot::Bot,
    error::{self, ActionError},
    lookup::is_joined,
    partners,
    reply::transaction_id,
};

/// What a reaction key means here, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    /// Into the timeline.
    Flag,
    /// Thanks to the author.
    Thanks,
}

/// Whether `key` (without a variation selector) flags or thanks.
pub fn meaning(bot: &Bot, key: &str) -> Option<Meaning> {
    let key = key.trim_end_matches('\u{fe0f}');
    let config = &bot.config.incidents;
    if config.flag_reactions.iter().any(|flag| flag == key) {
        Some(Meaning::Flag)
    } else if config.thanks_reactions.iter().any(|thanks| thanks == key) {
        Some(Meaning::Thanks)
    } else {
        None
    }
}

/// Acts on a flag or a thanks in an incident room.
pub async fn reacted(
    bot: &Bot,
    room: &Room,
    reaction: &OriginalSyncReactionEvent,
    meaning: Meaning,
) -> Result<(), ActionError> {
    let Some((mut record, shared)) = record_of(bot, room).await? else {
        return Ok(());
    };
    if record.holds_reaction(&reaction.event_id) {
        return Ok(());
    }
    let target = &reaction.content.relates_to.event_id;
    if !is_joined(room, &reaction.sender).await? {
        info!(sender = %reaction.sender, "a reaction by someone no longer in the room: skipped");
        return Ok(());
    }
    let Some(mut message) = message(room, target).await? else {
        return Ok(());
    };
    if shared {
        message.room = Some(room.room_id().to_owned());
    }
    match meaning {
        Meaning::Flag => {
            if !record.flag(message, reaction.event_id.clone()) {
                bot.store.save_incident(&record).await?;
                return Ok(());
            }
            let mark = mark(bot, room, target).await?;
            if let Some(flag) = record
                .flags
                .iter_mut()
                .find(|flag| flag.event_id == *target)
            {
                flag.mark = Some(mark);
            }
            info!(%target, "flagged for the timeline");
        }
        Meaning::Thanks => {
            if message.author == reaction.sender || bot.config.matrix.user_id == message.author {
                debug!("thanks to oneself or to Brigade: not counted");
                return Ok(());
            }
            record.thank(Thanks {
                reaction: reaction.event_id.clone(),
                to: message.author,
                by: reaction.sender.clone(),
            });
        }
    }
    bot.store.save_incident(&record).await?;
    Ok(())
}

/// The incident `room` belongs to: its own room, or its shared partner room (then `true`).
async fn record_of(bot: &Bot, room: &Room) -> Result<Option<(IncidentRecord, bool)>, ActionError> {
    if let Some(record) = bot.store.incident(room.room_id()).await? {
        return Ok(Some((record, false)));
    }
    Ok(partners::incident_of(bot, room.room_id())
        .await?
        .map(|record| (record, true)))
}

/// The bot's own 📌 on a flagged message: "it is in the timeline".
async fn mark(
    bot: &Bot,
    room: &Room,
    target: &EventId,
) -> Result<matrix_sdk::ruma::OwnedEventId, ActionError> {
    let key = bot
        .config
        .incidents
        .flag_reactions
        .first()
        .cloned()
        .unwrap_or_default();
    let content = ReactionEventContent::new(Annotation::new(target.to_owned(), key));
    let sent = room
        .send(content)
        .with_transaction_id(transaction_id(target, "flag-mark"))
        .await?;
    Ok(sent.response.event_id)
}

/// Takes back what a redacted event had added to an incident's timeline or thanks.
pub async fn redacted(
    bot: &Bot,
    room: &Room,
    redaction: &OriginalSyncRoomRedactionEvent,
) -> Result<(), ActionError> {
    let Some(redacted) = redaction
        .redacts
        .as_deref()
        .or(redaction.content.redacts.as_deref())
    else {
        return Ok(());
    };
    let Some((mut record, _)) = record_of(bot, room).await? else {
        return Ok(());
    };
    match record.redact(redacted) {
        Removed::Nothing => return Ok(()),
        Removed::Flag(flag) => {
            info!(flagged = %flag.event_id, "taken out of the timeline");
            if let Some(mark) = &flag.mark {
                room.redact(
                    mark,
                    Some("no longer in the timeline"),
                    Some(transaction_id(mark, "unmark")),
                )
                .await?;
            }
        }
        Removed::Reaction | Removed::Thanks => {}
    }
    bot.store.save_incident(&record).await?;
    Ok(())
}

/// Brings a flagged message's timeline entry in step with an edit of it.
pub async fn edited(
    bot: &Bot,
    room: &Room,
    edit: &OriginalSyncRoomMessageEvent,
) -> Result<(), ActionError> {
    let Some(Relation::Replacement(replacement)) = &edit.content.relates_to else {
        return Ok(());
    };
    let Some((mut record, _)) = record_of(bot, room).await? else {
        return Ok(());
    };
    let body = replacement.new_content.msgtype.body();
    if record.edit(&replacement.event_id, &edit.sender, body) {
        info!(flagged = %replacement.event_id, "a flagged message was edited");
        bot.store.save_incident(&record).await?;
    }
    Ok(())
}

/// The message `event_id` of `room`, as the timeline keeps it: `None` (logged) when the bot
/// cannot see it or it is not a message.
async fn message(room: &Room, event_id: &EventId) -> Result<Option<Message>, ActionError> {
    let event = match room.event(event_id, None).await {
        Ok(event) => event,
        Err(error) if error::for_good(&error) => {
            warn!(%event_id, %error, "a reaction on an event the bot cannot see: skipped");
            return Ok(None);
        }
        Err(error) => return Err(error.into()),
    };
    let message = to_message(event.raw());
    if message.is_none() {
        debug!(%event_id, "a reaction on something that is not a message: skipped");
    }
    Ok(message)
}

/// A message event as a timeline [`Message`], with its latest edit when the homeserver bundles
/// one. `None` for anything else (state, reactions, redacted messages).
pub fn to_message(raw: &Raw<AnySyncTimelineEvent>) -> Option<Message> {
    let Ok(AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(
        SyncMessageLikeEvent::Original(message),
    ))) = raw.deserialize()
    else {
        return None;
    };
    if matches!(message.content.relates_to, Some(Relation::Replacement(_))) {
        return None;
    }
    let (body, media) = match &message.content.msgtype {
        MessageType::Image(content) => (content.filename().to_owned(), plain(&content.source)),
        MessageType::File(content) => (content.filename().to_owned(), plain(&content.source)),
        MessageType::Video(content) => (content.filename().to_owned(), plain(&content.source)),
        MessageType::Audio(content) => (content.filename().to_owned(), plain(&content.source)),
        other => (
            latest_edit(raw).unwrap_or_else(|| other.body().to_owned()),
            None,
        ),
    };
    Some(Message {
        event_id: message.event_id,
        at: u64::from(message.origin_server_ts.get()),
        author: message.sender,
        body,
        media,
        room: None,
    })
}

/// A media message's `mxc://` URL; encrypted media have none to show.
fn plain(source: &MediaSource) -> Option<String> {
    match source {
        MediaSource::Plain(uri) => Some(uri.to_string()),
        MediaSource::Encrypted(_) => Some(String::new()),
    }
}

/// The body of the latest edit the homeserver bundled with the event, if any.
fn latest_edit(raw: &Raw<AnySyncTimelineEvent>) -> Option<String> {
    let value: serde_json::Value = raw.deserialize_as().ok()?;
    value["unsigned"]["m.relations"]["m.replace"]["content"]["m.new_content"]["body"]
        .as_str()
        .map(ToOwned::to_owned)
}
