//! Escalation policies' timers (SPEC §14): at each tick, a running escalation whose last page
//! went unacknowledged for its level's wait pages the next level, or ends, telling the
//! commander, when there is none. Its state is in the incident's record, stored after each step;
//! a step's messages have transaction IDs of its own, so a step a crash interrupted is sent again
//! as the same messages and a restart neither skips nor repeats one.

use brigade_core::clock::millis;
use brigade_core::{
    record::IncidentRecord,
    timeline::{Happening, Step},
};
use matrix_sdk::Room;
use tracing::{info, instrument, warn};

use super::{
    bot::Bot,
    change::Change,
    error::ActionError,
    exec::page::send,
    names, notify,
    reply::{mentioning, mentioning_the_room, notice, transaction_id},
};
use crate::{commands::decide, oncall, render, report};

/// Takes the steps that are due at the bot's current time, one per incident per tick. An
/// incident whose step cannot be taken now is tried again at the next tick; the others go on.
pub async fn check(bot: &Bot) -> Result<(), ActionError> {
    let now = bot.clock.now_millis();
    for record in bot.store.open_incidents().await? {
        let Some(at) = record
            .escalations
            .iter()
            .position(|escalation| escalation.due <= now)
        else {
            continue;
        };
        let Some(room) = bot.client.get_room(&record.room_id) else {
            continue;
        };
        let mut next = record;
        match step(bot, &room, &mut next, at, now).await {
            Ok(()) => {}
            Err(error) if error.refusal().is_some() => {
                // Refused for good (the bot may no longer post there): nobody can be paged.
                warn!(room_id = %next.room_id, %error, "an escalation cannot page; it ends");
                let ended = next.escalations.remove(at);
                let ended = Happening::EscalationEnded {
                    policy: ended.policy,
                    acknowledged: false,
                };
                next.incident.log(now, &bot.config.matrix.user_id, ended);
            }
            Err(error) => {
                warn!(room_id = %next.room_id, %error, "an escalation cannot page yet");
                continue;
            }
        }
        next.version += 1;
        bot.store.save_incident(&next).await?;
        bot.status.changed();
        bot.owes_notices(&next);
        bot.publisher.publish(&next.room_id);
    }
    Ok(())
}

/// Takes the next step of `next.escalations[at]`: its next level paged, or its end.
#[instrument(skip_all, fields(incident = %next.incident.number, policy = %next.escalations[at].policy))]
async fn step(
    bot: &Bot,
    room: &Room,
    next: &mut IncidentRecord,
    at: usize,
    now: u64,
) -> Result<(), ActionError> {
    let escalation = next.escalations[at].clone();
    let brigade = &bot.config.matrix.user_id;
    // A step someone asked for is theirs in the timeline.
    let by = escalation.hurried_by.as_ref().unwrap_or(brigade);
    let change = Change {
        bot,
        room,
        cause: &escalation.cause,
        sender: by,
        sent: now,
        about: None,
    };
    let number = next.incident.number;
    let name = &escalation.policy;
    let purpose = format!("escalation\u{0}{name}\u{0}{}", escalation.steps);
    let policy = bot.config.policy(name);
    let Some((level, repeats)) =
        policy.and_then(|policy| escalation.next(policy.levels.len(), policy.repeat))
    else {
        let pages = match escalation.pages.len() {
            0 | 1 => "its page".to_owned(),
            pages => format!("its {pages} pages"),
        };
        let why = match (policy, &escalation.hurried_by) {
            (None, _) => "its policy is no longer in the configuration".to_owned(),
            (Some(_), Some(user)) => {
                let names = names::of(room, [user.as_ref()]).await;
                format!(
                    "{} escalated it past its last level, and nobody acknowledged {pages}",
                    names.pill(user)
                )
            }
            (Some(_), None) => format!("nobody acknowledged {pages}"),
        };
        let commander = &next.incident.commander;
        let names = names::of(room, commander.as_deref()).await;
        let who = match commander {
            Some(commander) => names.pill(commander),
            None => render::NOBODY_IN_COMMAND.to_owned(),
        };
        let text = format!(
            "📟 {who}: escalation **{name}** for {number} has ended: {why}. Page someone with `!inc page`."
        );
        let content = match commander {
            Some(commander) => mentioning(&text, [commander.clone()]),
            // Nobody answers for it: everyone in the room is told.
            None => mentioning_the_room(&text),
        };
        room.send(content)
            .with_transaction_id(transaction_id(&escalation.cause, &purpose))
            .await?;
        next.escalations.remove(at);
        let ended = Happening::EscalationEnded {
            policy: name.clone(),
            acknowledged: false,
        };
        next.incident.log(now, brigade, ended);
        info!(incident = %number, policy = %name, "an escalation ran out");
        return Ok(());
    };
    let Some(policy) = policy else {
        return Ok(());
    };
    let waited = report::duration(millis(policy.level(escalation.level).wait));
    let of = policy.levels.len();
    let shown = level + 1;
    let people = decide::level_targets(policy.level(level), &bot.config)
        .and_then(|targets| decide::page_people(&targets, &bot.config, oncall::timestamp(now)));
    let wait = policy.level(level).wait;
    let current = &mut next.escalations[at];
    current.level = level;
    current.repeats = repeats;
    current.steps += 1;
    current.due = now.saturating_add(millis(wait));
    current.hurried_by = None;
    match people {
        Ok(people) => {
            let why = match &escalation.hurried_by {
                Some(user) => {
                    let names = names::of(room, [user.as_ref()]).await;
                    format!("{} escalated it", names.pill(user))
                }
                None => format!("nobody acknowledged within {waited}"),
            };
            let note = format!("(Escalation **{name}**, level {shown} of {of}: {why}.)");
            let sent = send(&change, next, &people, &purpose, &note).await?;
            let notices = notify::owed(bot, &people).await?;
            let current = &mut next.escalations[at];
            current.pages.push(sent.event_id.clone());
            current.notify_at = Some(now.saturating_add(millis(policy.level(level).notify_after)));
            current.notices = notices;
            next.pages.push(sent.event_id);
            let paged = Happening::Paged {
                people: people.into_iter().map(|(user, _)| user).collect(),
                escalations: vec![Step {
                    policy: name.clone(),
                    level: u32::try_from(shown).unwrap_or(u32::MAX),
                }],
            };
            next.incident.log(now, by, paged);
            info!(incident = %number, policy = %name, level = shown, "escalated");
        }
        Err(refusal) => {
            // Nobody to reach at this level (nobody on call): on to the next one at once.
            let current = &mut next.escalations[at];
            current.due = now;
            current.notify_at = None;
            current.notices.clear();
            let text = format!(
                "📟 Escalation **{name}** for {number}, level {shown} of {of}: nobody to page ({}); going on.",
                refusal.text
            );
            room.send(notice(&text))
                .with_transaction_id(transaction_id(&escalation.cause, &purpose))
                .await?;
            warn!(incident = %number, policy = %name, level = shown, %refusal, "an escalation level reaches nobody");
        }
    }
    Ok(())
}
