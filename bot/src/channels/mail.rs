//! Mail for the notifications outside Matrix (SPEC §14): the SMTP transport (lettre) and the mail
//! about a page nobody acknowledged.

use std::time::Duration;

use lettre::{
    message::{header::ContentType, Mailbox},
    transport::smtp::authentication::Credentials,
    Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use matrix_sdk::ruma::ServerName;

use super::{error::ChannelError, message::PageNotice};
use crate::config::EmailConfig;

/// The SMTP client.
pub type Mailer = AsyncSmtpTransport<Tokio1Executor>;

/// How long one mail may take at the server.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

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

/// Mails `notice` to `to` from `email.from`, under the Message-ID of its id (the same for
/// every try, so a mail sent twice after a crash is one to mail clients).
pub async fn send(
    mailer: &Mailer,
    email: &EmailConfig,
    (to, server): (Address, &ServerName),
    notice: &PageNotice,
) -> Result<(), ChannelError> {
    let (subject, body) = text(notice);
    let id = &notice.id;
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

/// The subject and the text of the mail `notice`.
pub fn text(notice: &PageNotice) -> (String, String) {
    let body = format!(
        "{}\n\n{}\n\n\
         Acknowledge it (once, within 24 hours; no sign-in needed):\n{}\n\n\
         Open the incident room in Element:\n{}\n\n\
         -- Brigade\n",
        notice.heading(),
        notice.why(),
        notice.ack_url,
        notice.room_url,
    );
    (notice.subject(), body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::message::tests::notice;

    #[test]
    fn the_mail_has_its_link_on_a_line_of_its_own_and_a_private_one_no_title() {
        let (subject, body) = text(&notice(false));
        assert_eq!(subject, "[Brigade] INC-4 (SEV1): Leaked keys at Acme");
        assert!(body.contains("\nhttps://b/ack/t\n"), "{body}");
        let (subject, body) = text(&notice(true));
        assert_eq!(subject, "[Brigade] INC-4 (SEV1, private) needs you");
        assert!(!body.contains("Leaked"), "{body}");
    }
}
