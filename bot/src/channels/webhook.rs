//! The signed webhook for SMS and voice gateways (SPEC §14), signed as Standard Webhooks says
//! (<https://www.standardwebhooks.com/>): `webhook-id` names the notification (the same on every
//! try, for the gateway to drop a repeat), `webhook-timestamp` is the try's, and
//! `webhook-signature` is `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` under the
//! secret. The body says who to reach at which number, and the text to send or speak.

use serde::Serialize;
use standardwebhooks::{
    Webhook, HEADER_WEBHOOK_ID, HEADER_WEBHOOK_SIGNATURE, HEADER_WEBHOOK_TIMESTAMP,
};

use super::{error::ChannelError, http, message::PageNotice};
use crate::config::WebhookConfig;

/// The event's type.
pub const PAGE_UNACKNOWLEDGED: &str = "brigade.page.unacknowledged";

#[derive(Debug, Serialize)]
struct Event<'a> {
    r#type: &'static str,
    timestamp: String,
    data: Data<'a>,
}

#[derive(Debug, Serialize)]
struct Data<'a> {
    user: &'a str,
    phone: &'a str,
    incident: &'a str,
    severity: &'a str,
    /// Absent for a private incident.
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    private: bool,
    policy: &'a str,
    level: usize,
    levels: usize,
    text: String,
    acknowledge_url: &'a str,
    room_url: &'a str,
}

/// The event telling the gateway of `notice`, for `phone`, at `seconds`.
fn event<'a>(phone: &'a str, notice: &'a PageNotice, seconds: i64) -> Event<'a> {
    Event {
        r#type: PAGE_UNACKNOWLEDGED,
        timestamp: jiff::Timestamp::from_second(seconds)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_string(),
        data: Data {
            user: notice.user.as_str(),
            phone,
            incident: &notice.incident,
            severity: &notice.severity,
            title: notice.title.as_deref(),
            private: notice.title.is_none(),
            policy: &notice.policy,
            level: notice.level,
            levels: notice.levels,
            text: notice.short(),
            acknowledge_url: &notice.ack_url,
            room_url: &notice.room_url,
        },
    }
}

/// Posts `notice` to the gateway, for `phone`, signed at `now_millis`.
pub async fn send(
    client: &reqwest::Client,
    hook: &WebhookConfig,
    phone: &str,
    notice: &PageNotice,
    now_millis: u64,
) -> Result<(), ChannelError> {
    let seconds = i64::try_from(now_millis / 1000).unwrap_or(i64::MAX);
    let body = serde_json::to_vec(&event(phone, notice, seconds)).expect("an event serializes");
    let signature = Webhook::new(hook.secret.expose())?.sign(&notice.id, seconds, &body)?;
    let response = client
        .post(hook.url.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(HEADER_WEBHOOK_ID, &notice.id)
        .header(HEADER_WEBHOOK_TIMESTAMP, seconds.to_string())
        .header(HEADER_WEBHOOK_SIGNATURE, signature)
        .body(body)
        .send()
        .await?;
    http::accepted("the gateway", response).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::message::tests::notice;

    #[test]
    fn the_event_names_the_number_and_a_private_one_no_title() {
        let json = serde_json::to_value(event("+442079460958", &notice(false), 1_700_000_000))
            .expect("serializes");
        assert_eq!(json["type"], PAGE_UNACKNOWLEDGED);
        assert_eq!(json["timestamp"], "2023-11-14T22:13:20Z");
        assert_eq!(json["data"]["phone"], "+442079460958");
        assert_eq!(json["data"]["title"], "Leaked keys at Acme");
        assert_eq!(json["data"]["level"], 1);
        let private = notice(true);
        let text =
            serde_json::to_string(&event("+442079460958", &private, 1_700_000_000)).expect("JSON");
        assert!(
            !text.contains("Leaked") && !text.contains("inc:example.org"),
            "{text}"
        );
        assert!(text.contains(r#""private":true"#), "{text}");
    }
}
