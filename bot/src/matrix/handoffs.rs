//! Handoff notices: when a team's on-call changes (a shift ends, an override starts or ends),
//! the bot says who is on call now in the team's configured room, mentioning them.
//!
//! The shift last announced is stored per team; the first time the bot sees a team it only
//! records the shift, so a start or restart announces nothing. The notice's transaction ID names
//! the team and the shift, so a retry posts it once.

use tracing::{info, warn};

use super::{
    bot::Bot,
    error::ActionError,
    lookup, names,
    reply::{mentioning, transaction_id},
};
use crate::{keys, names::Names, oncall};

/// Announces the handoffs that happened since the last check.
pub async fn check(bot: &Bot) -> Result<(), ActionError> {
    let now = oncall::timestamp(bot.clock.now_millis());
    for handoff in &bot.config.handoffs {
        let Some(rotation) = bot.config.rotation(&handoff.team) else {
            continue;
        };
        let on_call = rotation.on_call(now);
        // Who and until when; empty while nobody is on call (announced when someone is again).
        let shift = on_call
            .as_ref()
            .map(|on_call| format!("{}\u{0}{}", on_call.who, on_call.until))
            .unwrap_or_default();
        let key = keys::handoff_shift(&handoff.team);
        let seen = key.get(bot.store.as_ref()).await?;
        if seen.as_deref() == Some(shift.as_str()) {
            continue;
        }
        if let (Some(seen), Some(on_call)) = (&seen, &on_call) {
            let before = match seen.split('\u{0}').next() {
                Some(before) if !before.is_empty() => before,
                _ => "nobody",
            };
            let until = oncall::local(rotation, on_call.until);
            let room = lookup::joined(&bot.client, &handoff.room).await?;
            let before = matrix_sdk::ruma::UserId::parse(before).ok();
            let names = match &room {
                Some(room) => {
                    names::of_anyone(
                        room,
                        std::iter::once(on_call.who.as_ref()).chain(before.as_deref()),
                    )
                    .await
                }
                None => Names::new(),
            };
            let who = names.pill(&on_call.who);
            let text = match &before {
                Some(before) if *before == on_call.who => {
                    format!(
                        "📟 {}: {who} stays on call, now until {until}",
                        rotation.team()
                    )
                }
                Some(before) => format!(
                    "📟 {}: {who} is on call now, until {until} (after {})",
                    rotation.team(),
                    names.pill(before)
                ),
                None => format!(
                    "📟 {}: {who} is on call now, until {until} (after nobody)",
                    rotation.team()
                ),
            };
            let content = mentioning(&text, [on_call.who.clone()]);
            match room {
                Some(room) => {
                    room.send(content)
                        .with_transaction_id(transaction_id(
                            &format!("{}\u{0}{shift}", key.name()),
                            "handoff",
                        ))
                        .await?;
                    info!(team = %handoff.team, who = %on_call.who, "handoff announced");
                }
                None => {
                    warn!(team = %handoff.team, room = %handoff.room, "the bot is not in the handoff room: handoff not announced")
                }
            }
        }
        key.set(bot.store.as_ref(), &shift).await?;
    }
    Ok(())
}
