//! Overdue follow-ups (SPEC §16): once a day (UTC), the owner of each follow-up past its due
//! date and not done (its ticket not closed) is reminded in the incident room, mentioned so
//! that Element notifies them. Closed incidents too: follow-ups are work for after them.

use std::sync::atomic::Ordering;

use brigade_core::record::IncidentRecord;
use tracing::{info, warn};

use super::{
    bot::Bot,
    error::ActionError,
    names,
    reply::{mentioning, transaction_id},
};
use crate::render;

const DAY_MILLIS: u64 = 24 * 60 * 60 * 1000;

/// Reminds the owners of overdue follow-ups, unless today's reminders are done.
pub async fn check(bot: &Bot) -> Result<(), ActionError> {
    let now = bot.clock.now_millis();
    let day = now / DAY_MILLIS;
    if bot.overdue_checked.load(Ordering::Acquire) == day {
        return Ok(());
    }
    let today = crate::oncall::timestamp(now)
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let mut finished = true;
    for mut record in bot.store.incidents().await? {
        let numbers: Vec<usize> = record
            .overdue(today)
            .iter()
            .map(|followup| followup.number)
            .collect();
        if numbers.is_empty() {
            continue;
        }
        for number in numbers {
            match remind(bot, &record, number, today).await {
                Ok(()) => {}
                Err(error) if error.refusal().is_some() => {
                    // Refused for good (the bot may no longer post there): not again today.
                    warn!(room_id = %record.room_id, %error, "cannot remind a follow-up's owner");
                }
                Err(error) => {
                    warn!(room_id = %record.room_id, %error, "cannot remind a follow-up's owner yet");
                    finished = false;
                    continue;
                }
            }
            record.followups_reminded.insert(number, today);
        }
        bot.store.save_incident(&record).await?;
    }
    if finished {
        bot.overdue_checked.store(day, Ordering::Release);
        info!(%today, "overdue follow-ups checked");
    }
    Ok(())
}

/// Mentions the owner of follow-up `number` of `record` in its room: it is overdue `today`.
async fn remind(
    bot: &Bot,
    record: &IncidentRecord,
    number: usize,
    today: jiff::civil::Date,
) -> Result<(), ActionError> {
    let Some(room) = bot.client.get_room(&record.room_id) else {
        return Ok(());
    };
    let followups = record.followups();
    let Some(followup) = followups.get(number - 1) else {
        return Ok(());
    };
    let (Some(owner), Some(due)) = (followup.owner, followup.due) else {
        return Ok(());
    };
    let names = names::of_anyone(&room, [owner.as_ref()]).await;
    let ticket = match &followup.ticket {
        Some(ticket) => format!(
            " Its ticket {} closes it when done.",
            crate::markdown::link(ticket.key, ticket.url)
        ),
        None => String::new(),
    };
    let text = format!(
        "⏰ {}: follow-up {number} of {} was due on {due} and is not done: {}.{ticket}",
        names.pill(owner),
        record.incident.number,
        render::escape(followup.text),
    );
    room.send(mentioning(&text, [owner.clone()]))
        .with_transaction_id(transaction_id(
            record.room_id.as_str(),
            &format!("overdue-{number}-{today}"),
        ))
        .await?;
    info!(incident = %record.incident.number, followup = number, %owner, "reminded an overdue follow-up's owner");
    Ok(())
}
