//! Pushes through an ntfy server (SPEC §14), published as JSON to the server's root URL as
//! ntfy's publishing API describes (<https://docs.ntfy.sh/publish/#publish-as-json>): urgent,
//! with a button that opens the acknowledge page and a tap that opens the room. The access
//! token, if any, goes to that server only.

use serde::Serialize;

use super::{error::ChannelError, http, message::PageNotice};
use crate::config::NtfyConfig;

/// The highest priority: a long vibration and a pop-over, through Do Not Disturb where the
/// phone allows it.
const URGENT: u8 = 5;

#[derive(Debug, Serialize)]
struct Publish<'a> {
    topic: &'a str,
    title: String,
    message: String,
    priority: u8,
    tags: [&'static str; 1],
    click: &'a str,
    actions: [Action<'a>; 2],
}

#[derive(Debug, Serialize)]
struct Action<'a> {
    action: &'static str,
    label: &'static str,
    url: &'a str,
    clear: bool,
}

/// The push of `notice` to `topic`.
fn publish<'a>(topic: &'a str, notice: &'a PageNotice) -> Publish<'a> {
    Publish {
        topic,
        title: notice.heading(),
        message: notice.why(),
        priority: URGENT,
        tags: ["rotating_light"],
        click: &notice.room_url,
        actions: [
            Action {
                action: "view",
                label: "Acknowledge",
                url: &notice.ack_url,
                clear: true,
            },
            Action {
                action: "view",
                label: "Open the room",
                url: &notice.room_url,
                clear: false,
            },
        ],
    }
}

/// Pushes `notice` to `topic` on `ntfy`'s server. No key makes a push sent twice one (ntfy has
/// none): a crash between the push and its record sends it again.
pub async fn send(
    client: &reqwest::Client,
    ntfy: &NtfyConfig,
    topic: &str,
    notice: &PageNotice,
) -> Result<(), ChannelError> {
    let mut request = client.post(ntfy.url.clone()).json(&publish(topic, notice));
    if let Some(token) = &ntfy.token {
        request = request.bearer_auth(token.expose());
    }
    http::accepted("ntfy", request.send().await?).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::message::tests::notice;

    #[test]
    fn a_push_is_ntfys_json_and_a_private_one_names_no_title() {
        let json = serde_json::to_value(publish("dan-pages", &notice(false))).expect("serializes");
        assert_eq!(json["topic"], "dan-pages");
        assert_eq!(json["title"], "INC-4 · SEV1 · Leaked keys at Acme");
        assert_eq!(json["priority"], 5);
        assert_eq!(json["tags"][0], "rotating_light");
        assert_eq!(json["actions"][0]["action"], "view");
        assert_eq!(json["actions"][0]["url"], "https://b/ack/t");
        assert_eq!(json["click"], json["actions"][1]["url"]);
        let private = serde_json::to_string(&publish("dan-pages", &notice(true))).expect("JSON");
        assert!(
            !private.contains("Leaked") && !private.contains("inc:example.org"),
            "{private}"
        );
    }
}
