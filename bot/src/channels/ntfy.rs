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

/// Pushes `notice` to `topic` on `ntfy`'s server.
pub async fn send(
    client: &reqwest::Client,
    ntfy: &NtfyConfig,
    topic: &str,
    notice: &PageNotice,
) -> Result<(), ChannelError> {
    let publish = Publish {
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
    };
    let mut request = client.post(ntfy.url.clone()).json(&publish);
    if let Some(token) = &ntfy.token {
        request = request.bearer_auth(token.expose());
    }
    http::accepted("ntfy", request.send().await?).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_is_ntfys_json() {
        let publish = Publish {
            topic: "dan-pages",
            title: "INC-4 · SEV1 · DNS".to_owned(),
            message: "You were paged".to_owned(),
            priority: URGENT,
            tags: ["rotating_light"],
            click: "https://matrix.to/#/%23inc-4:x",
            actions: [
                Action {
                    action: "view",
                    label: "Acknowledge",
                    url: "https://b/ack/t",
                    clear: true,
                },
                Action {
                    action: "view",
                    label: "Open the room",
                    url: "https://matrix.to/#/%23inc-4:x",
                    clear: false,
                },
            ],
        };
        let json = serde_json::to_value(&publish).expect("serializes");
        assert_eq!(json["topic"], "dan-pages");
        assert_eq!(json["priority"], 5);
        assert_eq!(json["actions"][0]["action"], "view");
        assert_eq!(json["actions"][0]["url"], "https://b/ack/t");
        assert_eq!(json["tags"][0], "rotating_light");
    }
}
