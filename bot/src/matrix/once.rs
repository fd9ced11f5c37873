//! Exactly once: an event (a command, a reaction) is claimed in the store before its effects
//! and recorded with its outcome after them.
//!
//! An event found `Started` was interrupted by a crash and is finished whatever its age (the
//! bot, not the sender, was late; its messages carry transaction IDs derived from the event, so
//! nothing is posted twice). A new event older than `commands.max_age` is recorded as ignored:
//! the bot was down, and acting on it now would surprise people.

use std::time::Duration;

use brigade_core::store::{Handled, Outcome, StoreError};
use matrix_sdk::ruma::{EventId, MilliSecondsSinceUnixEpoch};

use super::bot::Bot;

/// What to do with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Act on it; `resuming` when an earlier start began and did not finish.
    Run {
        /// An earlier start began it.
        resuming: bool,
    },
    /// Handled already.
    Handled,
    /// Too old when first seen: recorded as ignored.
    Stale {
        /// How old it was.
        age: Duration,
    },
}

/// Claims `event_id`, sent at `sent`, for handling.
pub async fn claim(
    bot: &Bot,
    event_id: &EventId,
    sent: MilliSecondsSinceUnixEpoch,
) -> Result<Claim, StoreError> {
    match bot.store.handled(event_id).await? {
        Some(record) if record.outcome == Outcome::Started => {
            return Ok(Claim::Run { resuming: true })
        }
        Some(_) => return Ok(Claim::Handled),
        None => {}
    }
    let now = bot.clock.now_millis();
    let age = Duration::from_millis(now.saturating_sub(u64::from(sent.get())));
    if age > bot.config.commands.max_age {
        record(bot, event_id, sent, Outcome::Ignored).await?;
        return Ok(Claim::Stale { age });
    }
    record(bot, event_id, sent, Outcome::Started).await?;
    Ok(Claim::Run { resuming: false })
}

/// Records what became of `event_id`, sent at `sent`.
pub async fn record(
    bot: &Bot,
    event_id: &EventId,
    sent: MilliSecondsSinceUnixEpoch,
    outcome: Outcome,
) -> Result<(), StoreError> {
    let record = Handled {
        at_millis: bot.clock.now_millis(),
        outcome,
        sent_millis: Some(sent.get().into()),
    };
    bot.store.mark_handled(event_id, record).await
}
