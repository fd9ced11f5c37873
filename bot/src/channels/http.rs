//! What the HTTP channels share: the client, and reading an answer as accepted or refused.

use std::time::Duration;

use super::error::ChannelError;

/// How long one notification may take at its server.
const TIMEOUT: Duration = Duration::from_secs(30);
/// How much of a refusal's text is read.
const READ_MAX: usize = 4096;
/// How much of it is kept, for the log.
const REASON_MAX: usize = 200;

/// The client for ntfy and the webhook: no redirects followed (a notification goes where the
/// operator said, not where a server sends it).
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Brigade/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// `Ok` for a 2xx answer from `server`; else what it said, cut short.
pub async fn accepted(
    server: &'static str,
    mut response: reqwest::Response,
) -> Result<(), ChannelError> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let mut read = Vec::new();
    while read.len() < READ_MAX {
        match response.chunk().await {
            Ok(Some(chunk)) => read.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    read.truncate(READ_MAX);
    let text = String::from_utf8_lossy(&read).into_owned();
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
