//! Notifications outside Matrix (SPEC §14): when an escalation step's page goes unacknowledged
//! in Matrix for its level's `notify_after`, each person it paged who has an address in
//! `[notify]` gets an email (`crate::mail`) with a link that acknowledges. Sent from a task of
//! its own, so a slow or absent mail server never holds up commands; each mail is sent only if
//! the record, read again just before, still owes it, and stored as sent once the server
//! accepted it (a crash in between sends that one mail again, under the same Message-ID). A
//! refused mail is retried with backoff and reported in the room once; the escalation goes on
//! regardless.

use std::time::Duration;

use brigade_core::{
    record::{Escalation, IncidentRecord, Notice},
    timeline::Happening,
};
use lettre::Address;
use matrix_sdk::ruma::{OwnedUserId, RoomId, UserId};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, instrument, warn};

use super::{
    bot::Bot,
    error::ActionError,
    names,
    reply::{notice, transaction_id},
};
use crate::{
    ack_link::{self, AckLink},
    commands::Paged,
    config::EmailConfig,
    keys::{self, KeyError, NotifySetting},
    mail::{self, MailError, Mailer},
};

/// How often the task looks for notifications that are due.
const ROUND: Duration = Duration::from_secs(1);
/// The first retry's wait; each failure doubles it, up to [`MAX_BACKOFF_MILLIS`].
const FIRST_BACKOFF_MILLIS: u64 = 5_000;
const MAX_BACKOFF_MILLIS: u64 = 5 * 60 * 1000;

/// The notifications owed to those of `people` who can be reached outside Matrix.
pub async fn owed(bot: &Bot, people: &[Paged]) -> Result<Vec<Notice>, KeyError> {
    let mut owed = Vec::new();
    for (user, _) in people {
        if address(bot, user).await?.is_some() {
            owed.push(Notice::new(user.clone()));
        }
    }
    Ok(owed)
}

/// Where `user` gets email: where they said in a direct message (`!inc notify`), or else
/// `[[notify.people]]`; none when they turned it off or nobody said.
pub async fn address(bot: &Bot, user: &UserId) -> Result<Option<Address>, KeyError> {
    Ok(
        match keys::notify_setting(user).get(bot.store.as_ref()).await? {
            Some(NotifySetting::Email(address)) => address.parse().ok(),
            Some(NotifySetting::Off) => None,
            None => bot
                .config
                .notify
                .person(&user.to_owned())
                .and_then(|person| person.email.clone()),
        },
    )
}

/// Sends the notifications that fall due, until `stop`. Without `[notify.email]`, nothing. The
/// first round waits for the first sync, so that what was acknowledged while the bot was down
/// is seen before anyone is mailed about it.
pub async fn run(bot: &Bot, stop: CancellationToken) {
    let Some(email) = &bot.config.notify.email else {
        return;
    };
    let mailer = match mail::mailer(email) {
        Ok(mailer) => mailer,
        Err(error) => {
            error!(%error, "notify.email.smtp cannot be used: no email notifications");
            return;
        }
    };
    let mut interval = tokio::time::interval(ROUND);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            () = stop.cancelled() => return,
        }
        if bot.health.sync_lag_seconds().is_none() {
            continue;
        }
        if let Err(error) = round(bot, &mailer, email).await {
            warn!(%error, "could not send notifications; trying again shortly");
        }
    }
}

/// One look at the open incidents: every notification due now is tried once.
async fn round(bot: &Bot, mailer: &Mailer, email: &EmailConfig) -> Result<(), ActionError> {
    let now = bot.clock.now_millis();
    let Some(key) = ack_link::key(bot.store.as_ref()).await? else {
        return Ok(());
    };
    for record in bot.store.open_incidents().await? {
        for escalation in &record.escalations {
            if escalation.notify_at.is_none_or(|at| at > now) {
                continue;
            }
            for owed in &escalation.notices {
                if owed.sent || owed.retry_at > now {
                    continue;
                }
                // Acknowledged, or on to its next level, since the round began: not owed.
                if !still_owed(bot, &record.room_id, escalation, &owed.user).await? {
                    continue;
                }
                // Turned off (or their address removed) since they were paged: not mailed,
                // and nothing failed.
                let Some(address) = address(bot, &owed.user).await? else {
                    forget(bot, &record.room_id, escalation, &owed.user).await?;
                    continue;
                };
                let to = (&owed.user, address);
                let outcome = deliver(bot, mailer, email, &key, (&record, escalation), to).await;
                settle(bot, &record.room_id, escalation, &owed.user, outcome).await?;
            }
        }
    }
    Ok(())
}

/// Whether the stored record still owes `user` the notification of `escalation`'s step.
async fn still_owed(
    bot: &Bot,
    room_id: &RoomId,
    escalation: &Escalation,
    user: &OwnedUserId,
) -> Result<bool, ActionError> {
    let Some(record) = bot.store.incident(room_id).await? else {
        return Ok(false);
    };
    Ok(record
        .escalations
        .iter()
        .filter(|known| same_step(known, escalation))
        .flat_map(|known| &known.notices)
        .any(|owed| &owed.user == user && !owed.sent))
}

fn same_step(known: &Escalation, escalation: &Escalation) -> bool {
    known.cause == escalation.cause
        && known.policy == escalation.policy
        && known.steps == escalation.steps
}

/// Mails `user` about `escalation`'s unacknowledged page in `record`'s incident.
#[instrument(skip_all, fields(incident = %record.incident.number, policy = %escalation.policy, %user))]
async fn deliver(
    bot: &Bot,
    mailer: &Mailer,
    email: &EmailConfig,
    key: &[u8],
    (record, escalation): (&IncidentRecord, &Escalation),
    (user, address): (&OwnedUserId, Address),
) -> Result<(), MailError> {
    let page = escalation.pages.last().ok_or(MailError::NoPage)?;
    let link = AckLink {
        room: record.room_id.clone(),
        user: user.clone(),
        policy: escalation.policy.clone(),
        page: page.clone(),
        expires: bot
            .clock
            .now_millis()
            .saturating_add(ack_link::LIFETIME_MILLIS),
    };
    let url = bot
        .config
        .web
        .public_url
        .join(&format!("ack/{}", link.sign(key)))?;
    let text = mail::page_mail(&bot.config, record, escalation, url.as_str());
    let server = bot.config.matrix.user_id.server_name();
    let id = mail::id(escalation, user);
    mail::send(mailer, email, (address, server), text, &id).await
}

/// `escalation`'s step among the stored `escalations`, if it is still the escalation's.
fn step_of<'a>(
    escalations: &'a mut [Escalation],
    escalation: &Escalation,
) -> Option<&'a mut Escalation> {
    escalations
        .iter_mut()
        .find(|known| same_step(known, escalation))
}

/// Drops the notification `user` was owed of `escalation`'s step: they are reached in Matrix
/// only now.
async fn forget(
    bot: &Bot,
    room_id: &RoomId,
    escalation: &Escalation,
    user: &OwnedUserId,
) -> Result<(), ActionError> {
    let _records = bot.records.lock().await;
    let Some(mut record) = bot.store.incident(room_id).await? else {
        return Ok(());
    };
    let Some(current) = step_of(&mut record.escalations, escalation) else {
        return Ok(());
    };
    current.notices.retain(|owed| &owed.user != user);
    record.version += 1;
    bot.store.save_incident(&record).await?;
    info!(incident = %record.incident.number, %user, "no address to mail any more: not notified");
    Ok(())
}

/// Stores what came of mailing `user` about `escalation`'s step, if that step is still the
/// escalation's (an acknowledgement or the next level may have come meanwhile); a first failure
/// is reported in the room.
async fn settle(
    bot: &Bot,
    room_id: &RoomId,
    escalation: &Escalation,
    user: &OwnedUserId,
    outcome: Result<(), MailError>,
) -> Result<(), ActionError> {
    let now = bot.clock.now_millis();
    let _records = bot.records.lock().await;
    let Some(mut record) = bot.store.incident(room_id).await? else {
        return Ok(());
    };
    let Some(current) = step_of(&mut record.escalations, escalation) else {
        return Ok(());
    };
    let Some(owed) = current.notices.iter_mut().find(|owed| &owed.user == user) else {
        return Ok(());
    };
    let failed = match outcome {
        Ok(()) => {
            owed.sent = true;
            let notified = Happening::Notified {
                person: user.clone(),
                channel: "email".to_owned(),
            };
            record
                .incident
                .log(now, &bot.config.matrix.user_id, notified);
            record.version += 1;
            info!(incident = %record.incident.number, %user, "notified by email");
            None
        }
        Err(error) => {
            owed.failures += 1;
            let backoff = FIRST_BACKOFF_MILLIS
                .saturating_mul(1 << (owed.failures - 1).min(16))
                .min(MAX_BACKOFF_MILLIS);
            owed.retry_at = now.saturating_add(backoff);
            warn!(incident = %record.incident.number, %user, %error, failures = owed.failures, "an email notification failed");
            (owed.failures == 1).then_some(error)
        }
    };
    let told = mail::id(escalation, user);
    bot.store.save_incident(&record).await?;
    bot.publisher.publish(room_id);
    if let (Some(error), Some(room)) = (failed, bot.client.get_room(room_id)) {
        let names = names::of(&room, [user.as_ref()]).await;
        let text = format!(
            "📧 The email to {} about {} failed: {error}. Brigade keeps trying; the escalation goes on.",
            names.pill(user),
            record.incident.number
        );
        if let Err(error) = room
            .send(notice(&text))
            .with_transaction_id(transaction_id(&told, "notify-failed"))
            .await
        {
            warn!(%error, "could not report a failed notification in the room");
        }
    }
    Ok(())
}
