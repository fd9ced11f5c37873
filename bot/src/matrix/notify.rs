//! Notifications outside Matrix (SPEC §14): when an escalation step's page goes unacknowledged
//! in Matrix for its level's `notify_after`, each person it paged is told on each channel they
//! are reached on (`crate::channels`: email, ntfy, the SMS and voice gateway), with a link that
//! acknowledges. Sent from a task of its own, so a slow or absent server never holds up
//! commands; each notification is sent only if the record, read again just before, still owes
//! it, and stored as sent once its server accepted it (a crash in between sends that one again,
//! under the same Message-ID or `webhook-id`). A refused one is retried with backoff and
//! reported in the room once; the escalation goes on regardless.

use std::time::Duration;

use brigade_core::{
    record::{Channel, Escalation, IncidentRecord, Notice},
    timeline::Happening,
};
use matrix_sdk::ruma::{OwnedUserId, RoomId, UserId};
use tokio_util::sync::CancellationToken;
use tracing::{info, instrument, warn};

use super::{
    bot::Bot,
    error::ActionError,
    names,
    reply::{notice, transaction_id},
};
use crate::{
    ack_link::{self, AckLink},
    channels::{error::ChannelError, message, Channels},
    commands::Paged,
    keys::{self, Choice, KeyError},
    reach::{self, Target},
};

/// How often the task looks for notifications that are due.
const ROUND: Duration = Duration::from_secs(1);
/// The first retry's wait; each failure doubles it, up to [`MAX_BACKOFF_MILLIS`].
const FIRST_BACKOFF_MILLIS: u64 = 5_000;
const MAX_BACKOFF_MILLIS: u64 = 5 * 60 * 1000;

/// The notifications owed to those of `people` who can be reached outside Matrix: one for each
/// configured channel they are reached on.
pub async fn owed(bot: &Bot, people: &[Paged]) -> Result<Vec<Notice>, KeyError> {
    let mut owed = Vec::new();
    for (user, _) in people {
        for target in targets(bot, user).await? {
            owed.push(Notice::new(user.clone(), target.channel()));
        }
    }
    Ok(owed)
}

/// Where `user` is reached on each configured channel: where they said in a direct message
/// (`!inc notify`), or else `[[notify.people]]`; on none they turned off.
pub async fn targets(bot: &Bot, user: &UserId) -> Result<Vec<Target>, KeyError> {
    let mut targets = said(bot, user).await?;
    targets.retain(|target| bot.config.notify.configures(target.channel()));
    Ok(targets)
}

/// Where `user` would be reached on each channel, configured or not.
pub async fn said(bot: &Bot, user: &UserId) -> Result<Vec<Target>, KeyError> {
    let notify = &bot.config.notify;
    let setting = keys::notify_setting(user)
        .get(bot.store.as_ref())
        .await?
        .unwrap_or_default();
    let person = notify.person(user);
    let targets = Channel::ALL.into_iter().filter_map(|channel| {
        // What was stored is checked again: the configuration may have changed since.
        match (setting.choice(channel), channel) {
            (Choice::Off, _) => None,
            (Choice::At(address), Channel::Email) => address.parse().ok().map(Target::Email),
            (Choice::At(topic), Channel::Ntfy) => match &notify.ntfy {
                Some(ntfy) => reach::ntfy_topic(&ntfy.url, topic).ok(),
                None => Some(topic.clone()),
            }
            .map(Target::Ntfy),
            (Choice::At(number), Channel::Phone) => reach::phone(number).ok().map(Target::Phone),
            (Choice::Unset, Channel::Email) => {
                person.and_then(|person| person.email.clone().map(Target::Email))
            }
            (Choice::Unset, Channel::Ntfy) => {
                person.and_then(|person| person.ntfy.clone().map(Target::Ntfy))
            }
            (Choice::Unset, Channel::Phone) => {
                person.and_then(|person| person.phone.clone().map(Target::Phone))
            }
        }
    });
    Ok(targets.collect())
}

/// Where `user` is reached on `channel`, if they still are.
async fn target(bot: &Bot, user: &UserId, channel: Channel) -> Result<Option<Target>, KeyError> {
    Ok(targets(bot, user)
        .await?
        .into_iter()
        .find(|target| target.channel() == channel))
}

/// Sends the notifications that fall due, until `stop`. Without a channel configured,
/// nothing. The first round waits for the first sync, so that what was acknowledged while the
/// bot was down is seen before anyone is told about it.
pub async fn run(bot: &Bot, stop: CancellationToken) {
    if !bot.config.notify.any() {
        return;
    }
    let channels = Channels::new(&bot.config.notify);
    let mut interval = tokio::time::interval(ROUND);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            () = bot.notices.notified() => {}
            () = stop.cancelled() => return,
        }
        if bot.health.sync_lag_seconds().is_none() {
            continue;
        }
        if let Err(error) = round(bot, &channels).await {
            warn!(%error, "could not send notifications; trying again shortly");
        }
    }
}

/// One look at the open incidents: every notification due now is tried once.
async fn round(bot: &Bot, channels: &Channels) -> Result<(), ActionError> {
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
                let whom = (&owed.user, owed.channel);
                // Acknowledged, or on to its next level, since the round began: not owed.
                if !still_owed(bot, &record.room_id, escalation, whom).await? {
                    continue;
                }
                // Turned off (or their address removed) since they were paged: not told, and
                // nothing failed.
                let Some(target) = target(bot, &owed.user, owed.channel).await? else {
                    forget(bot, &record.room_id, escalation, whom).await?;
                    continue;
                };
                let outcome = deliver(
                    bot,
                    channels,
                    &key,
                    (&record, escalation),
                    (&owed.user, target),
                )
                .await;
                settle(bot, &record.room_id, escalation, whom, outcome).await?;
            }
        }
    }
    Ok(())
}

/// Who is told, on which channel.
type Whom<'a> = (&'a OwnedUserId, Channel);

/// Whether the stored record still owes `whom` the notification of `escalation`'s step.
async fn still_owed(
    bot: &Bot,
    room_id: &RoomId,
    escalation: &Escalation,
    whom: Whom<'_>,
) -> Result<bool, ActionError> {
    let Some(record) = bot.store.incident(room_id).await? else {
        return Ok(false);
    };
    Ok(record
        .escalations
        .iter()
        .filter(|known| same_step(known, escalation))
        .flat_map(|known| &known.notices)
        .any(|owed| owed.is_for(whom.0, whom.1) && !owed.sent))
}

fn same_step(known: &Escalation, escalation: &Escalation) -> bool {
    known.cause == escalation.cause
        && known.policy == escalation.policy
        && known.steps == escalation.steps
}

/// Tells `user` at `target` about `escalation`'s unacknowledged page in `record`'s incident.
#[instrument(skip_all, fields(incident = %record.incident.number, policy = %escalation.policy, %user, channel = target.channel().name()))]
async fn deliver(
    bot: &Bot,
    channels: &Channels,
    key: &[u8],
    (record, escalation): (&IncidentRecord, &Escalation),
    (user, target): (&OwnedUserId, Target),
) -> Result<(), ChannelError> {
    let page = escalation.pages.last().ok_or(ChannelError::NoPage)?;
    let now = bot.clock.now_millis();
    let link = AckLink {
        room: record.room_id.clone(),
        user: user.clone(),
        policy: escalation.policy.clone(),
        page: page.clone(),
        expires: now.saturating_add(ack_link::LIFETIME_MILLIS),
    };
    let url = bot
        .config
        .web
        .public_url
        .join(&format!("ack/{}", link.sign(key)))?;
    let notice = message::page_notice(&bot.config, record, escalation, (user, now), url.as_str());
    let server = bot.config.matrix.user_id.server_name();
    channels
        .send(&bot.config.notify, server, target, &notice, now)
        .await
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

/// Drops the notification `whom` was owed of `escalation`'s step: they are not reached on that
/// channel any more.
async fn forget(
    bot: &Bot,
    room_id: &RoomId,
    escalation: &Escalation,
    whom: Whom<'_>,
) -> Result<(), ActionError> {
    let _records = bot.records.lock().await;
    let Some(mut record) = bot.store.incident(room_id).await? else {
        return Ok(());
    };
    let Some(current) = step_of(&mut record.escalations, escalation) else {
        return Ok(());
    };
    current.notices.retain(|owed| !owed.is_for(whom.0, whom.1));
    record.version += 1;
    bot.store.save_incident(&record).await?;
    let (user, channel) = whom;
    info!(incident = %record.incident.number, %user, channel = channel.name(), "not reached there any more: not notified");
    Ok(())
}

/// Stores what came of telling `whom` about `escalation`'s step, if that step is still the
/// escalation's (an acknowledgement or the next level may have come meanwhile); a first failure
/// is reported in the room.
async fn settle(
    bot: &Bot,
    room_id: &RoomId,
    escalation: &Escalation,
    whom: Whom<'_>,
    outcome: Result<(), ChannelError>,
) -> Result<(), ActionError> {
    let (user, channel) = whom;
    let now = bot.clock.now_millis();
    let _records = bot.records.lock().await;
    let Some(mut record) = bot.store.incident(room_id).await? else {
        return Ok(());
    };
    let Some(current) = step_of(&mut record.escalations, escalation) else {
        return Ok(());
    };
    let Some(owed) = current
        .notices
        .iter_mut()
        .find(|owed| owed.is_for(whom.0, whom.1))
    else {
        return Ok(());
    };
    let failed = match outcome {
        Ok(()) => {
            owed.sent = true;
            let notified = Happening::Notified {
                person: user.clone(),
                channel: channel.name().to_owned(),
            };
            record
                .incident
                .log(now, &bot.config.matrix.user_id, notified);
            record.version += 1;
            info!(incident = %record.incident.number, %user, channel = channel.name(), "notified");
            None
        }
        Err(error) => {
            owed.failures += 1;
            let backoff = FIRST_BACKOFF_MILLIS
                .saturating_mul(1 << (owed.failures - 1).min(16))
                .min(MAX_BACKOFF_MILLIS);
            owed.retry_at = now.saturating_add(backoff);
            warn!(incident = %record.incident.number, %user, channel = channel.name(), %error, failures = owed.failures, "a notification failed");
            (owed.failures == 1).then_some(error)
        }
    };
    let told = format!("{}-{}", message::id(escalation, user), channel.name());
    bot.store.save_incident(&record).await?;
    bot.publisher.publish(room_id);
    if let (Some(error), Some(room)) = (failed, bot.client.get_room(room_id)) {
        let names = names::of(&room, [user.as_ref()]).await;
        let what = match channel {
            Channel::Email => "📧 The email",
            Channel::Ntfy => "📱 The ntfy push",
            Channel::Phone => "☎️ The SMS or voice gateway's notification",
        };
        let text = format!(
            "{what} to {} about {} failed: {}. Brigade keeps trying; the escalation goes on.",
            names.pill(user),
            record.incident.number,
            error.for_room(),
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
