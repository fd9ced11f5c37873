//! Brigade's own signed JSON: `{"title", "severity", "body", "fingerprint", "status"}`, with
//! `X-Brigade-Signature: sha256=<hex HMAC-SHA256 of the body>`.

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::auth::verify_hmac;
use crate::alert::{severity_word, Alert, AlertStatus, AuthError, PayloadError};

/// Checks the body's signature.
pub fn authenticate(secret: &str, signature: Option<&str>, body: &[u8]) -> Result<(), AuthError> {
    let given = signature
        .and_then(|value| value.strip_prefix("sha256="))
        .ok_or(AuthError("missing `X-Brigade-Signature: sha256=<hex>`"))?;
    verify_hmac(secret, body, given)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Generic {
    title: String,
    severity: Option<String>,
    #[serde(default)]
    body: String,
    fingerprint: Option<String>,
    status: Option<AlertStatus>,
}

/// `{"title", "severity", "body", "fingerprint", "status"}`.
pub fn parse(json: Value) -> Result<Vec<Alert>, PayloadError> {
    let generic: Generic = serde_json::from_value(json).map_err(|error| {
        PayloadError::new(format!(
            "not a generic alert ({{\"title\", \"severity\", \"body\", \"fingerprint\", \"status\"}}): {error}"
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
    let fingerprint = generic
        .fingerprint
        .unwrap_or_else(|| hex::encode(&Sha256::digest(generic.title.as_bytes())[..8]));
    Ok(vec![Alert {
        fingerprint,
        status: generic.status.unwrap_or(AlertStatus::Firing),
        title: generic.title,
        severity,
        body: generic.body,
    }])
}
