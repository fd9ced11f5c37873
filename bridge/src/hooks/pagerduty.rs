//! PagerDuty webhooks v3: `X-PagerDuty-Signature: v1=<hex>` (several, comma-separated, while
//! PagerDuty rotates its secret), and one `event` about one incident.

use brigade_core::incident::Severity;
use serde_json::Value;

use super::auth::{verify_any_hmac, Delivery};
use crate::alert::{
    severity_word, Alert, AlertStatus, AuthError, PayloadError, EVENT_WINDOW_MILLIS,
};

/// How many signatures a header may carry: PagerDuty sends one per secret, two while a secret
/// is rotated.
const MAX_SIGNATURES: usize = 4;

/// Checks that one of the `v1=` signatures is the body's, and that its event is fresh at
/// `now_millis`; the delivery is named by PagerDuty's event ID.
pub fn authenticate(
    secret: &str,
    signature: Option<&str>,
    body: &[u8],
    now_millis: u64,
) -> Result<Delivery, AuthError> {
    let header = signature.ok_or(AuthError("missing `X-PagerDuty-Signature`"))?;
    let given: Vec<&str> = header
        .split(',')
        .filter_map(|part| part.trim().strip_prefix("v1="))
        .take(MAX_SIGNATURES + 1)
        .collect();
    if given.len() > MAX_SIGNATURES {
        return Err(AuthError(
            "more than 4 signatures in `X-PagerDuty-Signature`",
        ));
    }
    verify_any_hmac(secret, &[body], given)
        .map_err(|_| AuthError("no `v1=` signature matches the body"))?;
    // What PagerDuty signs says which event it is and when it occurred.
    let json: Value =
        serde_json::from_slice(body).map_err(|_| AuthError("a signed body that is not JSON"))?;
    let event = &json["event"];
    let id = event["id"].as_str().ok_or(AuthError(
        "no `event.id` to tell this delivery from a replay",
    ))?;
    let occurred = event["occurred_at"]
        .as_str()
        .and_then(|at| at.parse::<jiff::Timestamp>().ok())
        .ok_or(AuthError(
            "no RFC 3339 `event.occurred_at` to check the delivery's freshness",
        ))?;
    let at_millis = u64::try_from(occurred.as_millisecond()).unwrap_or(0);
    Delivery::fresh(
        format!("pagerduty/{id}"),
        at_millis,
        now_millis,
        EVENT_WINDOW_MILLIS,
    )
}

/// PagerDuty v3: one `event` about one incident.
pub fn parse(json: &Value) -> Result<Vec<Alert>, PayloadError> {
    let event = &json["event"];
    let kind = event["event_type"]
        .as_str()
        .ok_or_else(|| PayloadError::new("not a PagerDuty v3 webhook: no `event.event_type`"))?;
    let data = &event["data"];
    let id = data["id"]
        .as_str()
        .ok_or_else(|| PayloadError::new("not a PagerDuty v3 webhook: no `event.data.id`"))?;
    let status = if kind == "incident.resolved" {
        AlertStatus::Resolved
    } else {
        AlertStatus::Firing
    };
    let severity = data["priority"]["summary"]
        .as_str()
        .and_then(severity_word)
        .or_else(|| match data["urgency"].as_str() {
            Some("high") => Some(Severity::Sev2),
            Some("low") => Some(Severity::Sev3),
            _ => None,
        });
    Ok(vec![Alert {
        fingerprint: id.to_owned(),
        status,
        title: data["title"].as_str().unwrap_or(id).to_owned(),
        severity,
        body: String::new(),
        link: data["html_url"].as_str().and_then(crate::alert::link),
        component: None,
        impact: None,
    }])
}
