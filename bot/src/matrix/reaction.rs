//! Reactions on an incident's messages (SPEC §8): 👀 on the summary or a page acknowledges the
//! incident (the first one only); 🚑 on the summary makes the reactor commander, if allowed.

use brigade_core::{
    incident::IncidentRecord,
    store::{Outcome, StoreError},
};
use matrix_sdk::{ruma::events::reaction::OriginalSyncReactionEvent, Room};
use tracing::{debug, info, instrument, warn};

use super::{
    incident::{ActionError, Change},
    once::{self, Claim},
    reply::{notice, transaction_id},
    Bot,
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
                warn!(%error, "{refusal}: the reaction is not acted on");
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
    let sent = u64::from(reaction.origin_server_ts.get());
    let change = Change {
        bot,
        room,
        cause: &reaction.event_id,
        sender: &reaction.sender,
        sent,
    };
    let mut next = record.clone();
    let said = if key == ACKNOWLEDGE {
        if next.incident.acknowledge(sent) {
            change.commit(next.clone()).await?;
            Some(format!(
                "👀 {} is looking into it: {} acknowledged at {}",
                reaction.sender,
                next.incident.number,
                render::clock(sent)
            ))
        } else {
            debug!("already acknowledged");
            None
        }
    } else if !may_take_command(bot, &reaction.sender) {
        let TakeCommand::Group(group) = &bot.config.incidents.take_command else {
            unreachable!("anyone may take command")
        };
        Some(format!(
            "{}: only members of the group `{group}` may take command with 🚑; the commander can hand over with `!inc lead`",
            reaction.sender
        ))
    } else {
        match next.incident.set_commander(reaction.sender.clone()) {
            Ok(previous) => {
                change
                    .set_levels(&next.incident, &[reaction.sender.clone(), previous.clone()])
                    .await?;
                change.commit(next.clone()).await?;
                Some(format!(
                    "🚑 {} takes command of {} (was {previous})",
                    reaction.sender, next.incident.number
                ))
            }
            Err(error) => {
                debug!(%error, "take command changes nothing");
                None
            }
        }
    };
    if let Some(text) = said {
        room.send(notice(&text))
            .with_transaction_id(transaction_id(&reaction.event_id, "reaction"))
            .await?;
    }
    bot.publisher.publish(room.room_id());
    Ok(())
}

fn may_take_command(bot: &Bot, user: &matrix_sdk::ruma::UserId) -> bool {
    match &bot.config.incidents.take_command {
        TakeCommand::Anyone => true,
        TakeCommand::Group(name) => bot
            .config
            .groups
            .iter()
            .filter(|group| group.name == *name)
            .any(|group| group.members.iter().any(|member| member == user)),
    }
}
