//! Forgetting what can no longer be replayed: the records of events finished with, and the
//! values kept for their work alone ([`keys::of_event`]), once the events are too old to run
//! whatever happens.
//!
//! An event sent more than `commands.max_age` before the bot's time is never run (see
//! [`super::once`]), so once its record and its sending time are both older than that, a copy
//! seen again (a catch-up after a restart reads back past the checkpoint) is recorded as
//! ignored and nothing more. Records are kept twice that long, and an interrupted one until it
//! is finished. What a rebuild needs lives in the incident rooms, not here.

use std::{sync::atomic::Ordering, time::Duration};

use brigade_core::{clock::millis, store::StoreError};
use tracing::info;

use super::bot::Bot;
use crate::keys;

/// How often to look, at most.
const EVERY: Duration = Duration::from_secs(60 * 60);

/// Forgets what is old enough, if the last look was long enough ago.
pub async fn check(bot: &Bot) -> Result<(), StoreError> {
    let now = bot.clock.now_millis();
    let kept = millis(bot.config.commands.max_age).saturating_mul(2);
    let last = bot.pruned.load(Ordering::Acquire);
    if last != 0 && now.saturating_sub(last) < kept.min(millis(EVERY)) {
        return Ok(());
    }
    bot.pruned.store(now, Ordering::Release);
    let events = bot.store.finished_before(now.saturating_sub(kept)).await?;
    if events.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = events.iter().flat_map(|id| keys::of_event(id)).collect();
    bot.store.forget(&values, &events).await?;
    info!(
        events = events.len(),
        "forgot events finished with long ago"
    );
    Ok(())
}
