//! Brigade's own signed JSON: `{"title", "severity", "body", "fingerprint", "status", "url",
//! "component", "impact"}`, with
//! `X-Brigade-Timestamp: <Unix seconds>` and `X-Brigade-Signature: sha256=<hex HMAC-SHA256 of
//! "<timestamp>.<body>">`: the timestamp is signed, so a captured request can be replayed only
//! within the window, and there only once.

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::auth::{verify_hmac, Delivery};
use brigade_core::incident::Impact;

use crate::alert::{
    label, severity_word, Alert, AlertStatus, AuthError, PayloadError, REPLAY_WINDOW_MILLIS,
};

/// Checks the signature of the timestamp and body, and that the timestamp is fresh at
/// `now_millis`; the delivery is named by its signature.
pub fn authenticate(
    secret: &str,
    signature: Option<&str>,
    timestamp: Option<&str>,
    body: &[u8],
    now_millis: u64,
) -> Result<Delivery, AuthError> {
    let given = signature
        .and_then(|value| value.strip_prefix("sha256="))
        .ok_or(AuthError("missing `X-Brigade-Signature: sha256=<hex>`"))?;
    let timestamp = timestamp.ok_or(AuthError("missing `X-Brigade-Timestamp: <Unix seconds>`"))?;
    let seconds: u64 = timestamp
        .parse()
        .map_err(|_| AuthError("`X-Brigade-Timestamp` is not a number of seconds"))?;
    verify_hmac(secret, &[timestamp.as_bytes(), b".", body], given)?;
    Delivery::fresh(
        format!("generic/{}", given.to_ascii_lowercase()),
        seconds.saturating_mul(1000),
        now_millis,
        REPLAY_WINDOW_MILLIS,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Generic {
    title: String,
    severity: Option<String>,
    #[serde(default)]
    body: String,
    url: Option<url::Url>,
    fingerprint: Option<String>,
    status: Option<AlertStatus>,
    component: Option<String>,
    impact: Option<String>,
}

/// `{"title", "severity", "body", "fingerprint", "status", "url", "component", "impact"}`.
pub fn parse(json: Value) -> Result<Vec<Alert>, PayloadError> {
    let generic: Generic = serde_json::from_value(json).map_err(|error| {
        PayloadError::new(format!(
            "not a generic alert ({{\"title\", \"severity\", \"body\", \"fingerprint\", \"status\", \"url\", \"component\", \"impact\"}}): {error}"
        ))
    })?;
    if generic.title.trim().is_empty() {
        return Err(PayloadError::new("`title` is empty"));
    }
    let severity = match generic.severity {
        None => None,
        Some(word) => Some(
            severity_word(&word)
                .ok_or_else(|| PayloadError::new(format!("unknown severity `{word}`")))?,
        ),
    };
    // What the page has is the bot's to say; how badly is one of three words.
    let impact = generic.impact.as_deref().and_then(label);
    if let Some(word) = &impact {
        word.parse::<Impact>().map_err(|_| {
            PayloadError::new(format!(
                "unknown impact `{word}`: degraded, partial or major"
            ))
        })?;
    }
    let fingerprint = generic
        .fingerprint
        .unwrap_or_else(|| hex::encode(&Sha256::digest(generic.title.as_bytes())[..8]));
    Ok(vec![Alert {
        fingerprint: crate::alert::bounded_fingerprint(fingerprint),
        status: generic.status.unwrap_or(AlertStatus::Firing),
        title: generic.title,
        severity,
        body: generic.body,
        link: generic.url.and_then(|url| crate::alert::link(url.as_str())),
        component: generic.component.as_deref().and_then(label),
        impact,
    }])
}
