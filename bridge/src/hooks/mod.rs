//! Webhooks in: `POST /hooks/<source>/<route>`, one file per source for how it proves itself
//! and what its payload says. A webhook is authenticated first, read second, and stored (flushed
//! to disk) before it is answered 202; anything refused stores nothing. What costs nothing is
//! checked before the body is read: the route, and a bearer token. Unknown routes are counted
//! under one label, so that nobody can grow `/metrics` by asking.

mod alertmanager;
mod auth;
mod generic;
mod grafana;
mod grouped;
mod pagerduty;

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Path, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Json, Router,
};
use serde_json::{json, Value};
use tracing::{error, info, warn};

use crate::{
    alert::{Alert, AuthError, PayloadError, Source},
    bridge::Bridge,
    refusal::refusal,
};

/// The `route` label of requests to routes that are not configured.
const UNKNOWN_ROUTE: &str = "(unknown)";

/// `POST /hooks/{source}/{name}`.
pub fn routes() -> Router<Arc<Bridge>> {
    Router::new().route("/hooks/{source}/{name}", post(hook))
}

/// Checks a request to a route of `source` with `secret`: `authorization` and `signature` are
/// the headers that carry the proof (Authorization; X-Brigade-Signature or
/// X-PagerDuty-Signature).
pub fn authenticate(
    source: Source,
    secret: &str,
    authorization: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> Result<(), AuthError> {
    match source {
        Source::Alertmanager => alertmanager::authenticate(secret, authorization),
        Source::Grafana => grafana::authenticate(secret, authorization),
        Source::Generic => generic::authenticate(secret, signature, body),
        Source::Pagerduty => pagerduty::authenticate(secret, signature, body),
    }
}

/// Whether `source` proves itself by a signature of the body; the others send a bearer token,
/// checked before the body is read.
fn signs_the_body(source: Source) -> bool {
    match source {
        Source::Generic | Source::Pagerduty => true,
        Source::Alertmanager | Source::Grafana => false,
    }
}

/// The alerts in `body`, a payload of `source`.
pub fn parse(source: Source, body: &[u8]) -> Result<Vec<Alert>, PayloadError> {
    let json: Value = serde_json::from_slice(body)
        .map_err(|error| PayloadError::new(format!("the body is not JSON: {error}")))?;
    match source {
        Source::Alertmanager => alertmanager::parse(&json),
        Source::Grafana => grafana::parse(&json),
        Source::Pagerduty => pagerduty::parse(&json),
        Source::Generic => generic::parse(json),
    }
}

/// `POST /hooks/<source>/<name>`.
async fn hook(
    State(bridge): State<Arc<Bridge>>,
    Path((source, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let route = format!("{source}/{name}");
    let Some(hook) =
        Source::from_name(&source).and_then(|source| bridge.config.hook(source, &name))
    else {
        bridge.metrics.received(UNKNOWN_ROUTE, "unknown_route");
        return refusal(StatusCode::NOT_FOUND, format!("no route /hooks/{route}"));
    };
    let text = |name: header::HeaderName| headers.get(name).and_then(|value| value.to_str().ok());
    let signature = text(header::HeaderName::from_static("x-brigade-signature"))
        .or_else(|| text(header::HeaderName::from_static("x-pagerduty-signature")));
    let check = |body: &[u8]| {
        authenticate(
            hook.source,
            hook.secret.expose(),
            text(header::AUTHORIZATION),
            signature,
            body,
        )
        .inspect_err(|error| {
            bridge.metrics.received(&route, "unauthorized");
            warn!(%route, %error, "webhook refused");
        })
    };
    // A bearer token proves itself without the body.
    let signed = signs_the_body(hook.source);
    if !signed {
        if let Err(error) = check(&[]) {
            return refusal(StatusCode::UNAUTHORIZED, error.to_string());
        }
    }
    let limit = bridge.config.webhooks.max_body_bytes;
    let Ok(body) = axum::body::to_bytes(body, limit).await else {
        bridge.metrics.received(&route, "too_large");
        return refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is over webhooks.max_body_bytes ({limit} bytes), or was cut off"),
        );
    };
    if signed {
        if let Err(error) = check(&body) {
            return refusal(StatusCode::UNAUTHORIZED, error.to_string());
        }
    }
    let alerts = match parse(hook.source, &body) {
        Ok(alerts) => alerts,
        Err(problem) => {
            bridge.metrics.received(&route, "malformed");
            info!(%route, %problem, "webhook payload refused");
            return refusal(StatusCode::BAD_REQUEST, problem.to_string());
        }
    };
    let now = bridge.clock.now_millis();
    if let Err(error) = bridge
        .store
        .accept(hook.source, &hook.name, &alerts, now)
        .await
    {
        error!(%route, %error, "cannot store alerts");
        bridge.metrics.received(&route, "store_failed");
        return refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "cannot store the alerts; send again",
        );
    }
    bridge.metrics.received(&route, "accepted");
    bridge.outbox.notify_one();
    (
        StatusCode::ACCEPTED,
        Json(json!({ "accepted": alerts.len() })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use brigade_core::incident::Severity;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    use super::*;
    use crate::alert::AlertStatus;

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("a key");
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn each_source_proves_itself_its_own_way() {
        let body = br#"{"title":"x"}"#;
        let bearer = |value| authenticate(Source::Alertmanager, "s3cret", value, None, body);
        assert_eq!(bearer(Some("Bearer s3cret")), Ok(()));
        assert!(bearer(Some("Bearer wrong")).is_err());
        assert!(bearer(None).is_err());
        let signed = format!("sha256={}", sign("key", body));
        assert_eq!(
            authenticate(Source::Generic, "key", None, Some(&signed), body),
            Ok(())
        );
        assert!(authenticate(Source::Generic, "key", None, Some(&signed), b"{}").is_err());
        let rotated = format!("v1=00ff, v1={}", sign("pd", body));
        assert_eq!(
            authenticate(Source::Pagerduty, "pd", None, Some(&rotated), body),
            Ok(())
        );
        assert!(authenticate(Source::Pagerduty, "pd", None, Some("v1=00"), body).is_err());
    }

    #[test]
    fn a_pagerduty_header_with_more_signatures_than_secrets_rotate_through_is_refused() {
        let body = br#"{"event":{}}"#;
        let four = format!("v1=00, v1=01, v1=02, v1={}", sign("pd", body));
        assert_eq!(
            authenticate(Source::Pagerduty, "pd", None, Some(&four), body),
            Ok(())
        );
        // Thousands of entries would each have cost an HMAC of the whole body.
        let many = format!("{}v1={}", "v1=00, ".repeat(5_000), sign("pd", body));
        assert_eq!(
            authenticate(Source::Pagerduty, "pd", None, Some(&many), body),
            Err(AuthError(
                "more than 4 signatures in `X-PagerDuty-Signature`"
            ))
        );
    }

    #[test]
    fn alertmanager_alerts_are_read_with_their_fingerprints() {
        let body = br#"{"version":"4","status":"firing","alerts":[
            {"status":"firing","labels":{"alertname":"DiskFull","severity":"critical"},
             "annotations":{"summary":"Disk full on db1","description":"98%"},"fingerprint":"abc"},
            {"status":"resolved","labels":{"alertname":"Slow"},"annotations":{}}]}"#;
        let alerts = parse(Source::Alertmanager, body).expect("valid");
        assert_eq!(alerts[0].fingerprint, "abc");
        assert_eq!(alerts[0].title, "Disk full on db1");
        assert_eq!(alerts[0].severity, Some(Severity::Sev1));
        assert_eq!(alerts[1].status, AlertStatus::Resolved);
        assert_eq!(alerts[1].title, "Slow");
        assert_eq!(alerts[1].fingerprint.len(), 16, "made from the labels");
    }

    #[test]
    fn payloads_of_another_source_are_named_as_such() {
        let grafana = br#"{"orgId":1,"alerts":[]}"#;
        let error = parse(Source::Alertmanager, grafana).expect_err("not alertmanager");
        assert!(
            error.to_string().contains("`version` must be \"4\""),
            "{error}"
        );
        let error = parse(Source::Generic, br#"{"severity":"SEV1"}"#).expect_err("no title");
        assert!(
            error.to_string().contains("missing field `title`"),
            "{error}"
        );
        let error = parse(Source::Generic, b"{not json").expect_err("not JSON");
        assert!(
            error.to_string().starts_with("the body is not JSON"),
            "{error}"
        );
        let error = parse(Source::Pagerduty, br#"{"messages":[]}"#).expect_err("v2");
        assert!(error.to_string().contains("event.event_type"), "{error}");
    }

    #[test]
    fn generic_and_pagerduty_alerts() {
        let alerts = parse(
            Source::Generic,
            br#"{"title":"Queue stuck","severity":"sev2","fingerprint":"q","status":"resolved"}"#,
        )
        .expect("valid");
        assert_eq!(alerts[0].severity, Some(Severity::Sev2));
        assert_eq!(alerts[0].status, AlertStatus::Resolved);
        let alerts = parse(
            Source::Pagerduty,
            br#"{"event":{"event_type":"incident.triggered","data":{"id":"P1","title":"API down","urgency":"high"}}}"#,
        )
        .expect("valid");
        assert_eq!(
            (alerts[0].fingerprint.as_str(), alerts[0].severity),
            ("P1", Some(Severity::Sev2))
        );
    }
}
