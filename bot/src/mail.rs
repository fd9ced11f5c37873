//! Mail for the notifications outside Matrix (SPEC §14): the SMTP transport (lettre) and the mail
//! about a page nobody acknowledged. A private incident's title and alias stay out of it.

use brigade_core::clock::millis;
use std::time::Duration;

use brigade_core::record::{Escalation, IncidentRecord};
use lettre::{
    message::{header::ContentType, Mailbox},
    transport::smtp::authentication::Credentials,
    Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use matrix_sdk::ruma::{ServerName, UserId};
use sha2::{Digest, Sha256};

use crate::{
    config::{Config, EmailConfig},
    render, report,
};

/// The SMTP client.
pub type Mailer = AsyncSmtpTransport<Tokio1Executor>;

/// How long one mail may take at the server.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The person has no address (any more: the configuration changed).
    #[error("no email address is configured for them")]
    NoAddress,
    /// The page it is about is unknown (the record holds none).
    #[error("the page it is about is not known")]
    NoPage,
    /// `web.public_url` makes no link.
    #[error("the acknowledge link cannot be made: {0}")]
    Link(#[from] url::ParseError),
    /// The message could not be written.
    #[error("the mail cannot be written: {0}")]
    Build(#[from] lettre::error::Error),
    /// The server refused it, or could not be reached.
    #[error("{0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
}

/// The client for `email`'s server.
pub fn mailer(email: &EmailConfig) -> Result<Mailer, lettre::transport::smtp::Error> {
    let mut builder = Mailer::from_url(email.smtp.as_str())?.timeout(Some(SMTP_TIMEOUT));
    if let Some((username, password)) = &email.credentials {
        builder = builder.credentials(Credentials::new(
            username.clone(),
            password.expose().to_owned(),
        ));
    }
    Ok(builder.build())
}

/// Sends the mail `(subject, body)` to `to` from `email.from`, named `id` (the same for every
/// try of the same notification, so a mail sent twice after a crash is one to mail clients).
pub async fn send(
    mailer: &Mailer,
    email: &EmailConfig,
    (to, server): (Address, &ServerName),
    (subject, body): (String, String),
    id: &str,
) -> Result<(), MailError> {
    let message = Message::builder()
        .from(email.from.clone())
        .to(Mailbox::new(None, to))
        .subject(subject)
        .message_id(Some(format!("<brigade.{id}@{server}>")))
        .header(ContentType::TEXT_PLAIN)
        .body(body)?;
    mailer.send(message).await?;
    Ok(())
}

/// The subject and the text of the mail about `escalation`'s page in `record`'s incident, with
/// the link `ack_url` that acknowledges it.
pub fn page_mail(
    config: &Config,
    record: &IncidentRecord,
    escalation: &Escalation,
    ack_url: &str,
) -> (String, String) {
    let incident = &record.incident;
    let (number, severity) = (incident.number, incident.severity);
    let (subject, heading) = if incident.private {
        (
            format!("[Brigade] {number} ({severity}, private) needs you"),
            format!("{number} · {severity} · a private incident"),
        )
    } else {
        (
            format!("[Brigade] {number} ({severity}): {}", incident.title),
            format!("{number} · {severity} · {}", incident.title),
        )
    };
    let policy = config.policy(&escalation.policy);
    let levels = policy.map_or(1, |policy| policy.levels.len());
    let after = policy.map_or(Duration::ZERO, |policy| {
        policy.level(escalation.level).notify_after
    });
    let unacknowledged = if after.is_zero() {
        "nobody has acknowledged it in Matrix yet".to_owned()
    } else {
        format!("nobody has acknowledged it in Matrix for {}", exact(after))
    };
    let room = if incident.private {
        format!("https://matrix.to/#/{}", record.room_id)
    } else {
        render::permalink(&record.alias)
    };
    let body = format!(
        "{heading}\n\n\
         You were paged by escalation policy {} (level {} of {levels}), and {unacknowledged}.\n\n\
         Acknowledge it (once, within 24 hours; no sign-in needed):\n{ack_url}\n\n\
         Open the incident room in Element:\n{room}\n\n\
         -- Brigade\n",
        escalation.policy,
        escalation.level + 1,
    );
    (subject, body)
}

/// `duration` to the second: `1m 30s`, where [`report::duration`] would round to `1m`.
fn exact(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds >= 60 && !seconds.is_multiple_of(60) && seconds < 3600 {
        format!("{}m {:02}s", seconds / 60, seconds % 60)
    } else {
        report::duration(millis(duration))
    }
}

/// Names the mail to `user` about `escalation`'s current step: the same every time it is sent.
pub fn id(escalation: &Escalation, user: &UserId) -> String {
    let digest = Sha256::digest(format!(
        "{}\u{0}{}\u{0}{}\u{0}{user}",
        escalation.cause, escalation.policy, escalation.steps
    ));
    hex::encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use brigade_core::{incident::Severity, testing};
    use matrix_sdk::ruma::{owned_event_id, user_id};

    use super::*;

    fn escalation() -> Escalation {
        Escalation {
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
        }
    }

    #[test]
    fn a_private_incidents_mail_names_no_title_and_no_alias() {
        let config = Config::for_tests(
            "[[escalation]]\nname = \"db\"\n[[escalation.levels]]\npage = [\"@dan:example.org\"]\nwait = \"5m\"\nnotify_after = \"90s\"\n",
        );
        let mut record = testing::record(4, "Leaked keys at Acme", Severity::Sev1, 1_000);
        let (subject, body) = page_mail(&config, &record, &escalation(), "https://b/ack/t");
        assert_eq!(subject, "[Brigade] INC-4 (SEV1): Leaked keys at Acme");
        assert!(
            body.contains("(level 1 of 1), and nobody has acknowledged it in Matrix for 1m 30s."),
            "{body}"
        );
        assert!(body.contains("\nhttps://b/ack/t\n"), "{body}");
        record.incident.private = true;
        let (subject, body) = page_mail(&config, &record, &escalation(), "https://b/ack/t");
        assert_eq!(subject, "[Brigade] INC-4 (SEV1, private) needs you");
        for text in [&subject, &body] {
            assert!(
                !text.contains("Leaked") && !text.contains(record.alias.as_str()),
                "{text}"
            );
        }
    }

    #[test]
    fn each_step_and_person_has_its_own_mail_id() {
        let dan = user_id!("@dan:example.org");
        let first = escalation();
        let mut next = escalation();
        next.steps = 2;
        assert_ne!(
            id(&first, dan),
            id(&next, dan),
            "another step, another mail"
        );
        assert_ne!(id(&first, dan), id(&first, user_id!("@dora:example.org")));
        assert_eq!(
            id(&first, dan),
            id(&escalation(), dan),
            "the same mail again"
        );
    }
}
