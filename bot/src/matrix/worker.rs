//! The single queue every event goes through, in order, so that each is acted on once.
//!
//! The sync loop and the start-up catch-up only enqueue. The worker checks the store, acts, and
//! records the event as handled after its effect; a checkpoint marker enqueued after each sync
//! is stored only once everything before it is done, so a restart knows how far back to look.

use std::{sync::Arc, time::Duration};

use matrix_sdk::{
    ruma::{
        events::{
            room::{
                member::MembershipState,
                message::{OriginalSyncRoomMessageEvent, Relation},
                redaction::SyncRoomRedactionEvent,
            },
            AnySyncMessageLikeEvent, AnySyncStateEvent, AnySyncTimelineEvent, SyncMessageLikeEvent,
            SyncStateEvent,
        },
        serde::Raw,
        OwnedRoomId,
    },
    Room,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, warn};

use super::{
    alerts, ask, bot::Bot, calls, change::Change, checkpoint, command, error::ActionError,
    escalation, forward, handoffs, invites, overdue, prune, publish, reaction, reminders,
    responder, tickets, timeline, undecrypted,
};

/// How long in-flight work may go on after shutdown is asked for. Work cut off here is safe to
/// redo: it is not marked handled, and its messages carry transaction IDs derived from the event.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// The first retry of an event that failed, doubling up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(30);

/// One unit of work.
#[derive(Debug)]
pub enum Work {
    /// A timeline event of a joined room.
    Event {
        /// The room.
        room_id: OwnedRoomId,
        /// The event as the homeserver sent it (decrypted when it was encrypted).
        raw: Raw<AnySyncTimelineEvent>,
    },
    /// A held event of a joined room, decrypted now (see [`super::undecrypted`]).
    Decrypted(undecrypted::Decrypted),
    /// The bot was invited to a room.
    Invite {
        /// The room.
        room_id: OwnedRoomId,
    },
    /// Time to look for status updates that are due.
    Tick,
    /// Every event the homeserver sent up to this time is ahead in the queue.
    Checkpoint {
        /// The bot's time when the sync response arrived.
        at_millis: u64,
    },
}

/// Works through the queue until it closes or shutdown is asked for.
pub async fn run(bot: &Arc<Bot>, mut queue: mpsc::Receiver<Work>, shutdown: CancellationToken) {
    loop {
        let work = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            work = queue.recv() => match work {
                Some(work) => work,
                None => break,
            },
        };
        let grace = async {
            shutdown.cancelled().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        };
        tokio::select! {
            () = handle(bot, work, &shutdown) => {}
            () = grace => {
                warn!("shutdown cut off work in progress; it will be redone at the next start");
                break;
            }
        }
    }
    debug!("worker stopped");
}

async fn handle(bot: &Arc<Bot>, work: Work, shutdown: &CancellationToken) {
    match work {
        Work::Event { room_id, raw } => handle_event(bot, room_id, &raw, shutdown).await,
        Work::Decrypted(event) => {
            handle_event(bot, event.room_id, &event.raw, shutdown).await;
            // Cut off by shutdown, it stays held and is tried again after the restart.
            if !shutdown.is_cancelled() {
                if let Err(error) = undecrypted::release(bot, &event.event_id).await {
                    error!(%error, "could not record that a held event was handled");
                }
            }
        }
        // Joining may wait on another server: never in the worker's way.
        Work::Invite { room_id } => invites::spawn(bot, room_id),
        Work::Tick => {
            // Reminders, like commands and reactions, read, change and write incident records.
            let _records = bot.records.lock().await;
            if let Err(error) = reminders::check(bot).await {
                error!(%error, "could not send reminders; trying again at the next tick");
            }
            if let Err(error) = escalation::check(bot).await {
                error!(%error, "could not take escalation steps; trying again at the next tick");
            }
            if let Err(error) = overdue::check(bot).await {
                error!(%error, "could not remind overdue follow-ups; trying again at the next tick");
            }
            if let Err(error) = handoffs::check(bot).await {
                error!(%error, "could not announce a handoff; trying again at the next tick");
            }
            if let Err(error) = prune::check(bot).await {
                error!(%error, "could not forget old events; trying again later");
            }
        }
        Work::Checkpoint { at_millis } => {
            if let Err(error) = checkpoint::store(bot.store.as_ref(), at_millis).await {
                error!(%error, "could not store the sync checkpoint");
            }
        }
    }
}

/// A failure worth another try, as text. A refusal for good (a 4xx: the bot may no longer post
/// there, or the homeserver already has what was sent) is logged and settled, so one event can
/// never hold the queue up.
fn worth_retrying(result: Result<(), ActionError>) -> Option<String> {
    let error = result.err()?;
    match error.refusal() {
        Some(refusal) => {
            warn!(%error, %refusal, "the homeserver refused part of handling an event; not trying again");
            None
        }
        None => Some(error.to_string()),
    }
}

/// A message that is not a command: a question in a direct message, or talk in an incident
/// room (the first responder's message acknowledges; keywords call for specialists).
async fn chat(
    bot: &Bot,
    room: &Room,
    message: &OriginalSyncRoomMessageEvent,
) -> Result<(), ActionError> {
    if ask::question(bot, room, message).await? {
        return Ok(());
    }
    responder::handle(bot, room, message).await?;
    ask::route(
        &Change::for_message(bot, room, message),
        message.content.body(),
    )
    .await
}

async fn handle_event(
    bot: &Bot,
    room_id: OwnedRoomId,
    raw: &Raw<AnySyncTimelineEvent>,
    shutdown: &CancellationToken,
) {
    let event = match raw.deserialize() {
        Ok(event) => event,
        Err(error) => {
            debug!(%room_id, %error, "skipping an event that does not parse");
            return;
        }
    };
    if bot.client.user_id() == Some(event.sender()) {
        return;
    }
    let Some(room) = bot.client.get_room(&room_id) else {
        debug!(%room_id, "skipping an event of a room the bot does not know");
        return;
    };
    // A failure here is one worth another try (the homeserver is down or failing, the store
    // cannot write): the event is tried again until it goes through, and the queue waits, so
    // the checkpoint never passes an event that was not handled.
    let mut wait = RETRY_FIRST;
    loop {
        let records = bot.records.lock().await;
        let failed = match &event {
            AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(
                SyncMessageLikeEvent::Original(message),
            )) if alerts::from_bridge(bot, &message.sender) => match tickets::read(raw) {
                Some(ticket) => {
                    let sent = u64::from(message.origin_server_ts.get());
                    let cause = (message.event_id.as_ref(), message.sender.as_ref(), sent);
                    worth_retrying(tickets::handle(bot, &room, ticket, cause).await)
                }
                None => worth_retrying(
                    alerts::handle(
                        bot,
                        &room,
                        raw,
                        &message.event_id,
                        &message.sender,
                        message.origin_server_ts,
                    )
                    .await,
                ),
            },
            AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(
                SyncMessageLikeEvent::Original(message),
            )) if matches!(message.content.relates_to, Some(Relation::Replacement(_))) => {
                worth_retrying(timeline::edited(bot, &room, message).await)
            }
            AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(
                SyncMessageLikeEvent::Original(message),
            )) => match command::handle(bot, &room, message).await {
                Ok(command::Seen::Command) => None,
                Ok(command::Seen::Chat) => worth_retrying(chat(bot, &room, message).await),
                Err(error) => Some(error.to_string()),
            },
            AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::Reaction(
                SyncMessageLikeEvent::Original(reaction),
            )) => match timeline::meaning(bot, &reaction.content.relates_to.key) {
                Some(meaning) => {
                    worth_retrying(timeline::reacted(bot, &room, reaction, meaning).await)
                }
                None => match forward::reacted(bot, &room, reaction).await {
                    Ok(true) => None,
                    Ok(false) => reaction::handle(bot, &room, reaction)
                        .await
                        .err()
                        .map(|error| error.to_string()),
                    Err(error) => worth_retrying(Err(error)),
                },
            },
            AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomRedaction(
                SyncRoomRedactionEvent::Original(redaction),
            )) => worth_retrying(timeline::redacted(bot, &room, redaction).await),
            AnySyncTimelineEvent::State(AnySyncStateEvent::RoomMember(
                SyncStateEvent::Original(member),
            )) if member.content.membership == MembershipState::Join => {
                worth_retrying(publish::summary_after_join(bot, &room).await)
            }
            AnySyncTimelineEvent::State(state)
                if state.event_type().to_string() == calls::CALL_MEMBER =>
            {
                let sent = u64::from(state.origin_server_ts().get());
                let cause = (state.event_id(), state.sender(), sent);
                worth_retrying(calls::membership(bot, &room, raw, cause).await)
            }
            _ => None,
        };
        drop(records);
        let Some(error) = failed else {
            return;
        };
        error!(%room_id, event_id = %event.event_id(), %error, retry_in = ?wait, "could not act on an event; trying again");
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(RETRY_MAX);
    }
}
