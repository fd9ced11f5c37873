//! Reactions on an incident's messages (SPEC §8): 👀 on the summary or a page acknowledges the
//! incident (the first one only); 🚑 on the summary makes the reactor commander, if allowed.

use brigade_core::{
    record::IncidentRecord,
    store::{Outcome, StoreError},
};
use matrix_sdk::{ruma::events::reaction::OriginalSyncReactionEvent, Room};
use tracing::{debug, info, instrument, warn};

use super::{
    bot::Bot,
    change::Change,
    error::ActionError,
    once::{self, Claim},
    reply::{notice, transaction_id},
};
use crate::{config::TakeCommand, render};

/// "I'm looking into it."
pub const ACKNOWLEDGE: &str = "👀";
/// "I take command."
pub const TAKE_COMMAND: &str = "🚑";

/// Why a reaction could not be finished; it is taken up again at the next start.
#[derive(Debug, thiserror::Error)]
pub enum ReactionError {
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The change could not be made.
    #[error(transparent)]
    Action(#[from] ActionError),
}

/// Acts on `reaction` in `room` if it means something there and was not acted on yet.
#[instrument(skip_all, fields(room = %room.room_id(), event_id = %reaction.event_id, sender = %reaction.sender))]
pub async fn handle(
    bot: &Bot,
    room: &Room,
    reaction: &OriginalSyncReactionEvent,
) -> Result<(), ReactionError> {
    let annotation = &reaction.content.relates_to;
    // Clients may add a variation selector to the emoji.
    let key = annotation.key.trim_end_matches('\u{fe0f}');
    if key != ACKNOWLEDGE && key != TAKE_COMMAND {
        return Ok(());
    }
    if !bot.config.access.allows(&reaction.sender) {
        debug!("reaction by a user of a server that is not allowed: ignored");
        return Ok(());
    }
    let Some(record) = bot.store.incident(room.room_id()).await? else {
        return Ok(());
    };
    let on_summary = record.summary_event.as_ref() == Some(&annotation.event_id);
    let meaningful = if key == ACKNOWLEDGE {
        record.acknowledges(&annotation.event_id)
    } else {
        on_summary
    };
    if !meaningful {
        return Ok(());
    }
    match once::claim(bot, &reaction.event_id, reaction.origin_server_ts).await? {
        Claim::Run { .. } => {}
        Claim::Handled => return Ok(()),
        Claim::Stale { age } => {
            info!(
                age_seconds = age.as_secs(),
                "reaction older than commands.max_age: not acted on"
            );
            return Ok(());
        }
    }

    let outcome = match act(bot, room, record, key, reaction).await {
        Ok(()) => Outcome::Done,
        Err(error) => match error.refusal() {
            Some(refusal) => {
                warn!(%error, %refusal, "the reaction is not acted on");
                Outcome::Refused
            }
            None => return Err(error.into()),
        },
    };
    once::record(bot, &reaction.event_id, outcome).await?;
    Ok(())
}

async fn act(
    bot: &Bot,
    room: &Room,
    record: IncidentRecord,
    key: &str,
    reaction: &OriginalSyncReactionEvent,
) -> Result<(), ActionError> {
    let change = Change::for_reaction(bot, room, reaction);
    let sent = change.sent;
    // Finishing a reaction a crash interrupted: its change is stored; say it again (the same
    // transaction, so it is posted once).
    if let Some(applied) = record.applied(&reaction.event_id) {
        return say(bot, room, reaction, applied.answer.clone()).await;
    }
    let mut next = record.clone();
    let number = next.incident.number;
    let (changed, said) = if key == ACKNOWLEDGE {
        if next.incident.acknowledge(sent, &reaction.sender) {
            let said = format!(
                "👀 {} is looking into it: {number} acknowledged at {}",
                reaction.sender,
                render::clock(sent)
            );
            (true, Some(said))
        } else {
            debug!("already acknowledged");
            (false, None)
        }
    } else if let Some(group) = refused_command(bot, &reaction.sender) {
        let said = format!(
            "{}: only members of the group `{group}` may take command with 🚑; the commander can hand over with `!inc lead`",
            reaction.sender
        );
        (false, Some(said))
    } else {
        match next
            .incident
            .set_commander(reaction.sender.clone(), sent, &reaction.sender)
        {
            Ok(previous) => {
                change
                    .set_levels(&next.incident, &[reaction.sender.clone(), previous.clone()])
                    .await?;
                let said = format!(
                    "🚑 {} takes command of {number} (was {previous})",
                    reaction.sender
                );
                (true, Some(said))
            }
            Err(error) => {
                debug!(%error, "take command changes nothing");
                (false, None)
            }
        }
    };
    if changed {
        change.commit(next, said.clone()).await?;
    }
    say(bot, room, reaction, said).await
}

/// Posts what the bot says about `reaction`, if anything, and has the room published.
async fn say(
    bot: &Bot,
    room: &Room,
    reaction: &OriginalSyncReactionEvent,
    said: Option<String>,
) -> Result<(), ActionError> {
    if let Some(text) = said {
        room.send(notice(&text))
            .with_transaction_id(transaction_id(&reaction.event_id, "reaction"))
            .await?;
    }
    bot.publisher.publish(room.room_id());
    Ok(())
}

/// The group `user` would have to be in to take command, when they are not in it.
fn refused_command<'a>(bot: &'a Bot, user: &matrix_sdk::ruma::UserId) -> Option<&'a str> {
    let TakeCommand::Group(name) = &bot.config.incidents.take_command else {
        return None;
    };
    let member = bot
        .config
        .group(name)
        .is_some_and(|group| group.members.iter().any(|member| member == user));
    (!member).then_some(name.as_str())
}
