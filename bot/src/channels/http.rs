//! What the HTTP channels share: the client, and reading an answer as accepted or refused.

use std::time::Duration;

use super::error::ChannelError;

/// How long one notification may take at its server.
const TIMEOUT: Duration = Duration::from_secs(30);
/// How much of a refusal's text is kept, for the room and the log.
const REASON_MAX: usize = 200;

/// The client for ntfy and the webhook: no redirects followed (a notification goes where the
/// operator said, not where a server sends it).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Brigade/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

/// `Ok` for a 2xx answer from `server`; else what it said, cut short.
pub async fn accepted(
    server: &'static str,
    response: reqwest::Response,
) -> Result<(), ChannelError> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let text = response.text().await.unwrap_or_default();
    // ntfy answers `{"code":40101,"http":401,"error":"unauthorized",…}`.
    let said = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|json| json["error"].as_str().map(str::to_owned))
        .unwrap_or(text);
    let said = said.trim();
    let reason = (!said.is_empty()).then(|| match said.char_indices().nth(REASON_MAX) {
        Some((end, _)) => format!("{}…", &said[..end]),
        None => said.to_owned(),
    });
    Err(ChannelError::Refused {
        server,
        status,
        reason,
    })
}
