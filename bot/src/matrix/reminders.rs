//! Reminders (`[reminders]`): while an incident is investigating or identified, a status update
//! is due a set time after the last one (by severity); the bot reminds the commander in the
//! room, mentioning them so Element notifies them, once per due time.

use brigade_core::record::IncidentRecord;
use tracing::{info, warn};

use super::{
    bot::Bot,
    error::ActionError,
    names,
    reply::{mentioning, transaction_id},
};
use crate::{config::RemindersConfig, render};

/// Sends the reminders that are due at the bot's current time. A room that cannot be
/// reminded now is tried again at the next tick; the others go ahead.
pub async fn check(bot: &Bot) -> Result<(), ActionError> {
    let now = bot.clock.now_millis();
    for mut record in bot.store.open_incidents().await? {
        let Some(due) = reminder_due(&record, &bot.config.reminders, now) else {
            continue;
        };
        match remind(bot, &record, due).await {
            Ok(()) => {}
            Err(error) if error.refusal().is_some() => {
                // Refused for good (the bot may no longer post there): not again for this due.
                warn!(room_id = %record.room_id, %error, "cannot remind the commander");
            }
            Err(error) => {
                warn!(room_id = %record.room_id, %error, "cannot remind the commander yet");
                continue;
            }
        }
        record.reminded_for = Some(due);
        bot.store.save_incident(&record).await?;
    }
    Ok(())
}

/// Mentions the commander in the incident room: an update was due at `due`.
async fn remind(bot: &Bot, record: &IncidentRecord, due: u64) -> Result<(), ActionError> {
    let Some(room) = bot.client.get_room(&record.room_id) else {
        return Ok(());
    };
    let incident = &record.incident;
    let last = incident
        .updates()
        .last()
        .map_or(incident.timestamps.declared, |update| update.at);
    let commander = &incident.commander;
    let names = names::of(&room, commander.as_deref()).await;
    let who = match commander {
        Some(commander) => names.pill(commander),
        None => render::NOBODY_IN_COMMAND.to_owned(),
    };
    let text = format!(
        "⏰ {who}: a status update on {} is due (the last one was at {}). Post one with `!inc update <text>`: it goes here and on the headline.",
        incident.number,
        render::clock(last)
    );
    let content = mentioning(&text, commander.clone());
    room.send(content)
        .with_transaction_id(transaction_id(
            &format!("{}\u{0}{due}", record.room_id),
            "reminder",
        ))
        .await?;
    info!(incident = %incident.number, due, "reminded the commander of a due update");
    Ok(())
}

/// The due time to remind of now, if there is one not reminded of yet.
pub fn reminder_due(record: &IncidentRecord, config: &RemindersConfig, now: u64) -> Option<u64> {
    let incident = &record.incident;
    let due = incident.update_due(config.every(incident.severity))?;
    (now >= due && record.reminded_for != Some(due)).then_some(due)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use brigade_core::{
        clock::{Clock, TestClock},
        incident::{Severity, Status, Update},
        testing,
    };
    use matrix_sdk::ruma::owned_user_id;

    use super::*;

    const MINUTE: u64 = 60_000;

    fn declared(severity: Severity, declared: u64) -> IncidentRecord {
        testing::record(1, "Checkout latency", severity, declared)
    }

    #[test]
    fn each_due_time_is_reminded_once_and_an_update_moves_it() {
        let config = RemindersConfig::new([
            Some(Duration::from_secs(30 * 60)),
            Some(Duration::from_secs(60 * 60)),
            None,
            None,
        ]);
        let clock = TestClock::new(std::time::UNIX_EPOCH + Duration::from_millis(1_000_000));
        let mut record = declared(Severity::Sev1, clock.now_millis());
        clock.advance(Duration::from_secs(29 * 60));
        assert_eq!(reminder_due(&record, &config, clock.now_millis()), None);
        clock.advance(Duration::from_secs(60));
        let due = reminder_due(&record, &config, clock.now_millis()).expect("due after 30 min");
        assert_eq!(due, 1_000_000 + 30 * MINUTE);
        record.reminded_for = Some(due);
        clock.advance(Duration::from_secs(10 * 60));
        assert_eq!(
            reminder_due(&record, &config, clock.now_millis()),
            None,
            "once"
        );

        record
            .incident
            .add_update(Update {
                at: clock.now_millis(),
                author: owned_user_id!("@alice:example.org"),
                text: "rolled back".to_owned(),
            })
            .expect("update");
        clock.advance(Duration::from_secs(30 * 60));
        assert!(reminder_due(&record, &config, clock.now_millis()).is_some());

        record
            .incident
            .set_status(
                Status::Monitoring,
                clock.now_millis(),
                &owned_user_id!("@alice:example.org"),
            )
            .expect("monitoring");
        assert_eq!(
            reminder_due(&record, &config, clock.now_millis()),
            None,
            "mitigated"
        );
        assert_eq!(
            reminder_due(&declared(Severity::Sev3, 0), &config, u64::MAX),
            None,
            "none below SEV2"
        );
    }
}
