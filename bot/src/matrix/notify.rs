//! Notifications outside Matrix (SPEC §14): when an escalation step's page goes unacknowledged
//! in Matrix for its level's `notify_after`, each person it paged who has an address in
//! `[notify]` gets an email with a link that acknowledges. Sent from a task of its own, so a
//! slow or absent mail server never holds up commands; what was sent is stored in the
//! escalation's record after the server accepted it (a crash in between sends that one mail
//! again, under the same Message-ID). A refused mail is retried with backoff and reported in the
//! room once; the escalation goes on regardless.

use std::time::Duration;

use brigade_core::{
    record::{Escalation, IncidentRecord, Notice},
    timeline::Happening,
};
use lettre::{
    message::{header::ContentType, Mailbox},
    transport::smtp::authentication::Credentials,
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use matrix_sdk::ruma::{OwnedUserId, RoomId};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::{
    bot::Bot,
    error::ActionError,
    names,
    reply::{notice, transaction_id},
};
use crate::{
    ack_link::{self, AckLink},
    commands::Paged,
    config::{Config, EmailConfig},
    render, report,
};

type Mailer = AsyncSmtpTransport<Tokio1Executor>;

/// How often the task looks for notifications that are due.
const ROUND: Duration = Duration::from_secs(1);
/// How long one mail may take at the server.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// The first retry's wait; each failure doubles it, up to [`MAX_BACKOFF_MILLIS`].
const FIRST_BACKOFF_MILLIS: u64 = 5_000;
const MAX_BACKOFF_MILLIS: u64 = 5 * 60 * 1000;

/// The notifications owed to those of `people` who can be reached outside Matrix.
pub fn owed(config: &Config, people: &[Paged]) -> Vec<Notice> {
    people
        .iter()
        .filter(|(user, _)| {
            config
                .notify
                .person(user)
                .is_some_and(|person| person.email.is_some())
        })
        .map(|(user, _)| Notice::new(user.clone()))
        .collect()
}

/// Sends the notifications that fall due, until `stop`. Without `[notify.email]`, nothing.
pub async fn run(bot: &Bot, stop: CancellationToken) {
    let Some(email) = &bot.config.notify.email else {
        return;
    };
    let mailer = match mailer(email) {
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
        if let Err(error) = round(bot, &mailer, email).await {
            warn!(%error, "could not send notifications; trying again shortly");
        }
    }
}

fn mailer(email: &EmailConfig) -> Result<Mailer, lettre::transport::smtp::Error> {
    let mut builder = Mailer::from_url(email.smtp.as_str())?.timeout(Some(SMTP_TIMEOUT));
    if let Some((username, password)) = &email.credentials {
        builder = builder.credentials(Credentials::new(
            username.clone(),
            password.expose().to_owned(),
        ));
    }
    Ok(builder.build())
}

/// One look at the open incidents: every notification due now is tried once.
async fn round(bot: &Bot, mailer: &Mailer, email: &EmailConfig) -> Result<(), ActionError> {
    let now = bot.clock.now_millis();
    let mut key = None;
    for record in bot.store.open_incidents().await? {
        for escalation in &record.escalations {
            if escalation.notify_at.is_none_or(|at| at > now) {
                continue;
            }
            for owed in &escalation.notices {
                if owed.sent || owed.retry_at > now {
                    continue;
                }
                let key = match &key {
                    Some(key) => key,
                    None => key.insert(ack_link::key(bot.store.as_ref()).await?),
                };
                let outcome = deliver(bot, mailer, email, key, (&record, escalation), &owed.user)
                    .await
                    .map_err(|error| error.to_string());
                settle(bot, &record.room_id, escalation, &owed.user, outcome).await?;
            }
        }
    }
    Ok(())
}

/// Mails `user` about `escalation`'s unacknowledged page in `record`'s incident.
async fn deliver(
    bot: &Bot,
    mailer: &Mailer,
    email: &EmailConfig,
    key: &[u8],
    (record, escalation): (&IncidentRecord, &Escalation),
    user: &OwnedUserId,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let address = bot
        .config
        .notify
        .person(user)
        .and_then(|person| person.email.clone())
        .ok_or("no email address is configured for them any more")?;
    let now = bot.clock.now_millis();
    let link = AckLink {
        room: record.room_id.clone(),
        user: user.clone(),
        policy: escalation.policy.clone(),
        expires: now.saturating_add(ack_link::LIFETIME_MILLIS),
    };
    let url = bot
        .config
        .web
        .public_url
        .join(&format!("ack/{}", link.sign(key)))?;
    let (subject, body) = mail(&bot.config, record, escalation, url.as_str());
    let server = bot.config.matrix.user_id.server_name();
    let message = Message::builder()
        .from(email.from.clone())
        .to(Mailbox::new(None, address))
        .subject(subject)
        .message_id(Some(format!(
            "<brigade.{}@{server}>",
            mail_id(escalation, user)
        )))
        .header(ContentType::TEXT_PLAIN)
        .body(body)?;
    mailer.send(message).await?;
    Ok(())
}

/// The subject and the text of the mail about `escalation`'s page; a private incident's title
/// stays out of it.
fn mail(
    config: &Config,
    record: &IncidentRecord,
    escalation: &Escalation,
    ack_url: &str,
) -> (String, String) {
    let incident = &record.incident;
    let (number, severity) = (incident.number, incident.severity);
    let subject = if incident.private {
        format!("[Brigade] {number} ({severity}, private) needs you")
    } else {
        format!("[Brigade] {number} ({severity}): {}", incident.title)
    };
    let heading = if incident.private {
        format!("{number} · {severity} · a private incident")
    } else {
        format!("{number} · {severity} · {}", incident.title)
    };
    let policy = config.policy(&escalation.policy);
    let levels = policy.map_or(1, |policy| policy.levels.len());
    let waited = policy.map_or_else(String::new, |policy| {
        report::duration(report::millis(policy.level(escalation.level).notify_after))
    });
    let room = if incident.private {
        format!("https://matrix.to/#/{}", record.room_id)
    } else {
        render::permalink(&record.alias)
    };
    let body = format!(
        "{heading}\n\n\
         You were paged by escalation policy {} (level {} of {levels}), and nobody has \
         acknowledged it in Matrix for {waited}.\n\n\
         Acknowledge it (once, within 24 hours; no sign-in needed):\n{ack_url}\n\n\
         Open the incident room in Element:\n{room}\n\n\
         -- Brigade\n",
        escalation.policy,
        escalation.level + 1,
    );
    (subject, body)
}

/// Names the mail to `user` about `escalation`'s current step, the same every time it is sent.
fn mail_id(escalation: &Escalation, user: &OwnedUserId) -> String {
    let digest = Sha256::digest(format!(
        "{}\u{0}{}\u{0}{}\u{0}{user}",
        escalation.cause, escalation.policy, escalation.steps
    ));
    hex::encode(&digest[..16])
}

/// Stores what came of mailing `user` about `escalation`'s step, if that step is still the
/// escalation's (an acknowledgement or the next level may have come meanwhile); a first failure
/// is reported in the room.
async fn settle(
    bot: &Bot,
    room_id: &RoomId,
    escalation: &Escalation,
    user: &OwnedUserId,
    outcome: Result<(), String>,
) -> Result<(), ActionError> {
    let now = bot.clock.now_millis();
    let _records = bot.records.lock().await;
    let Some(mut record) = bot.store.incident(room_id).await? else {
        return Ok(());
    };
    let same = |known: &&mut Escalation| {
        known.cause == escalation.cause
            && known.policy == escalation.policy
            && known.steps == escalation.steps
    };
    let Some(current) = record.escalations.iter_mut().find(same) else {
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
    let told = mail_id(escalation, user);
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

#[cfg(test)]
mod tests {
    use brigade_core::{incident::Severity, testing};
    use matrix_sdk::ruma::owned_event_id;

    use super::*;

    #[test]
    fn a_private_incidents_mail_names_no_title_and_no_alias() {
        let config = Config::for_tests(
            "[[escalation]]\nname = \"db\"\n[[escalation.levels]]\npage = [\"@dan:example.org\"]\nwait = \"5m\"\nnotify_after = \"90s\"\n",
        );
        let mut record = testing::record(4, "Leaked keys at Acme", Severity::Sev1, 1_000);
        let escalation = Escalation {
            policy: "db".to_owned(),
            cause: owned_event_id!("$page:example.org"),
            level: 0,
            repeats: 0,
            steps: 1,
            due: 0,
            pages: Vec::new(),
            hurried_by: None,
            notify_at: None,
            notices: Vec::new(),
        };
        let (subject, body) = mail(&config, &record, &escalation, "https://b/ack/t");
        assert_eq!(subject, "[Brigade] INC-4 (SEV1): Leaked keys at Acme");
        assert!(
            body.contains("level 1 of 1), and nobody has acknowledged it in Matrix for 1m"),
            "{body}"
        );
        assert!(body.contains("\nhttps://b/ack/t\n"), "{body}");
        record.incident.private = true;
        let (subject, body) = mail(&config, &record, &escalation, "https://b/ack/t");
        assert_eq!(subject, "[Brigade] INC-4 (SEV1, private) needs you");
        for text in [&subject, &body] {
            assert!(
                !text.contains("Leaked") && !text.contains(record.alias.as_str()),
                "{text}"
            );
        }
        let dan = OwnedUserId::try_from("@dan:example.org").expect("a user ID");
        assert_eq!(
            mail_id(&escalation, &dan),
            mail_id(&escalation.clone(), &dan),
            "the same mail, the same ID"
        );
    }
}
