//! Webhooks in: `POST /hooks/<source>/<route>`, one file per source for how it proves itself
//! and what its payload says. A webhook is authenticated first, read second, and stored (flushed
//! to disk) before it is answered 202; anything refused stores nothing. What costs nothing is
//! checked before the body is read: the route, and a bearer token. Unknown routes are counted
//! under one label, so that nobody can grow `/metrics` by asking.

mod alertmanager;
pub(crate) mod auth;
mod generic;
mod grafana;
mod grouped;
mod pagerduty;

pub use auth::{Delivery, REPLAY_WINDOW_MILLIS};

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
    store::Accepted,
};

/// The `route` label of requests to routes that are not configured.
const UNKNOWN_ROUTE: &str = "(unknown)";

/// `POST /hooks/{source}/{name}`.
pub fn routes() -> Router<Arc<Bridge>> {
    Router::new().route("/hooks/{source}/{name}", post(hook))
}

/// The headers that carry a request's proof.
#[derive(Debug, Clone, Copy, Default)]
pub struct Proof<'a> {
    /// `Authorization`.
    pub authorization: Option<&'a str>,
    /// `X-Brigade-Signature` or `X-PagerDuty-Signature`.
    pub signature: Option<&'a str>,
    /// `X-Brigade-Timestamp`.
    pub timestamp: Option<&'a str>,
}

/// Checks a request to a route of `source` with `secret`, at `now_millis`. A signed request
/// names its delivery, to be accepted once.
pub fn authenticate(
    source: Source,
    secret: &str,
    proof: Proof<'_>,
    body: &[u8],
    now_millis: u64,
) -> Result<Option<Delivery>, AuthError> {
    match source {
        Source::Alertmanager => {
            alertmanager::authenticate(secret, proof.authorization).map(|()| None)
        }
        Source::Grafana => grafana::authenticate(secret, proof.authorization).map(|()| None),
        Source::Generic => {
            generic::authenticate(secret, proof.signature, proof.timestamp, body, now_millis)
                .map(Some)
        }
        Source::Pagerduty => {
            pagerduty::authenticate(secret, proof.signature, body, now_millis).map(Some)
        }
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
    let proof = Proof {
        authorization: text(header::AUTHORIZATION),
        signature: text(header::HeaderName::from_static("x-brigade-signature"))
            .or_else(|| text(header::HeaderName::from_static("x-pagerduty-signature"))),
        timestamp: text(header::HeaderName::from_static("x-brigade-timestamp")),
    };
    let now = bridge.clock.now_millis();
    let check = |body: &[u8]| {
        authenticate(hook.source, hook.secret.expose(), proof, body, now).inspect_err(|error| {
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
    let mut delivery = None;
    if signed {
        match check(&body) {
            Ok(signed) => delivery = signed,
            Err(error) => return refusal(StatusCode::UNAUTHORIZED, error.to_string()),
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
    // Named under the secret that signed it: a request replayed to another route with the
    // same secret is the same delivery, one to a route with its own secret another.
    let delivery = delivery.map(|delivery| Delivery {
        id: auth::under_secret(hook.secret.expose(), &delivery.id),
        ..delivery
    });
    match bridge
        .store
        .accept_once(hook.source, &hook.name, &alerts, now, delivery.as_ref())
        .await
    {
        Ok(Accepted::New) => {}
        Ok(Accepted::Again) => {
            bridge.metrics.received(&route, "replayed");
            warn!(%route, "a signed webhook already accepted came again: refused as a replay");
            return refusal(
                StatusCode::CONFLICT,
                "this signed request was already accepted; a new one needs a new timestamp or event",
            );
        }
        Err(error) => {
            error!(%route, %error, "cannot store alerts");
            bridge.metrics.received(&route, "store_failed");
            return refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "cannot store the alerts; send again",
            );
        }
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

    /// 2026-11-28T09:00:00Z.
    const NOW: u64 = 1_795_856_400_000;

    fn signature(header: &str) -> Proof<'_> {
        Proof {
            signature: Some(header),
            ..Proof::default()
        }
    }

    fn generic<'a>(signature: &'a str, timestamp: &'a str) -> Proof<'a> {
        Proof {
            signature: Some(signature),
            timestamp: Some(timestamp),
            ..Proof::default()
        }
    }

    const PAGERDUTY: &[u8] = br#"{"event":{"id":"01DEN","occurred_at":"2026-11-28T08:58:30.000Z","event_type":"incident.triggered","data":{"id":"P1"}}}"#;

    /// The generic `url` is the alert's link when it is an http(s) URL; another scheme is
    /// dropped and text that is no URL refused.
    #[test]
    fn a_generic_alert_links_its_http_url_only() {
        let link = |url: &str| {
            let body = serde_json::json!({"title": "Disk full", "url": url}).to_string();
            parse(Source::Generic, body.as_bytes()).map(|alerts| alerts[0].link.clone())
        };
        assert_eq!(
            link("https://grafana.example.org/d/abc?from=now-1h"),
            Ok(Some(
                "https://grafana.example.org/d/abc?from=now-1h".to_owned()
            ))
        );
        assert_eq!(link("javascript:alert(1)"), Ok(None));
        assert!(link("not a url").is_err());
    }

    #[test]
    fn each_source_proves_itself_its_own_way() {
        let body = br#"{"title":"x"}"#;
        let bearer = |value| {
            let proof = Proof {
                authorization: value,
                ..Proof::default()
            };
            authenticate(Source::Alertmanager, "s3cret", proof, body, NOW)
        };
        assert_eq!(bearer(Some("Bearer s3cret")), Ok(None));
        assert!(bearer(Some("Bearer wrong")).is_err());
        assert!(bearer(None).is_err());
        let seconds = (NOW / 1000).to_string();
        let signed = format!(
            "sha256={}",
            sign("key", &[seconds.as_bytes(), b".", body].concat())
        );
        let delivery = authenticate(
            Source::Generic,
            "key",
            generic(&signed, &seconds),
            body,
            NOW,
        )
        .expect("signed")
        .expect("a delivery");
        assert_eq!(delivery.at_millis, NOW);
        assert!(authenticate(
            Source::Generic,
            "key",
            generic(&signed, &seconds),
            b"{}",
            NOW
        )
        .is_err());
        // The timestamp is signed: another one does not match.
        let later = (NOW / 1000 + 1).to_string();
        assert!(authenticate(Source::Generic, "key", generic(&signed, &later), body, NOW).is_err());
        let rotated = format!("v1=00ff, v1={}", sign("pd", PAGERDUTY));
        let delivery = authenticate(Source::Pagerduty, "pd", signature(&rotated), PAGERDUTY, NOW)
            .expect("signed")
            .expect("a delivery");
        assert_eq!(delivery.id, "pagerduty/01DEN");
        assert!(authenticate(Source::Pagerduty, "pd", signature("v1=00"), PAGERDUTY, NOW).is_err());
    }

    /// PagerDuty retries a delivery with the event's own time: a retry after hours of the
    /// bridge being down is taken, one after more than a day is not.
    #[test]
    fn a_pagerduty_retry_hours_after_its_event_is_fresh_and_one_a_day_after_is_not() {
        let signed = format!("v1={}", sign("pd", PAGERDUTY));
        let hour = 60 * 60 * 1000;
        for (now, fresh) in [(NOW + 6 * hour, true), (NOW + 25 * hour, false)] {
            let result = authenticate(Source::Pagerduty, "pd", signature(&signed), PAGERDUTY, now);
            assert_eq!(result.is_ok(), fresh, "{now}: {result:?}");
        }
    }

    #[test]
    fn a_signed_request_outside_the_window_or_without_its_time_is_refused() {
        let body = br#"{"title":"x"}"#;
        for (seconds, fresh) in [
            (NOW / 1000 - 299, true),
            (NOW / 1000 - 301, false),
            (NOW / 1000 + 301, false),
        ] {
            let seconds = seconds.to_string();
            let signed = format!(
                "sha256={}",
                sign("key", &[seconds.as_bytes(), b".", body].concat())
            );
            let result = authenticate(
                Source::Generic,
                "key",
                generic(&signed, &seconds),
                body,
                NOW,
            );
            assert_eq!(result.is_ok(), fresh, "{seconds}: {result:?}");
        }
        let signed = format!("sha256={}", sign("key", body));
        let missing = Proof {
            signature: Some(&signed),
            ..Proof::default()
        };
        assert_eq!(
            authenticate(Source::Generic, "key", missing, body, NOW),
            Err(AuthError("missing `X-Brigade-Timestamp: <Unix seconds>`"))
        );
        // PagerDuty's own time and ID, both signed.
        let late = NOW + 25 * 60 * 60 * 1000;
        let header = format!("v1={}", sign("pd", PAGERDUTY));
        assert!(
            authenticate(Source::Pagerduty, "pd", signature(&header), PAGERDUTY, late).is_err()
        );
        let anonymous = br#"{"event":{"event_type":"incident.triggered","data":{"id":"P1"}}}"#;
        let header = format!("v1={}", sign("pd", anonymous));
        assert_eq!(
            authenticate(Source::Pagerduty, "pd", signature(&header), anonymous, NOW),
            Err(AuthError(
                "no `event.id` to tell this delivery from a replay"
            ))
        );
    }

    #[test]
    fn a_pagerduty_header_with_more_signatures_than_secrets_rotate_through_is_refused() {
        let four = format!("v1=00, v1=01, v1=02, v1={}", sign("pd", PAGERDUTY));
        assert!(authenticate(Source::Pagerduty, "pd", signature(&four), PAGERDUTY, NOW).is_ok());
        // Thousands of entries would each have cost an HMAC of the whole body.
        let many = format!("{}v1={}", "v1=00, ".repeat(5_000), sign("pd", PAGERDUTY));
        assert_eq!(
            authenticate(Source::Pagerduty, "pd", signature(&many), PAGERDUTY, NOW),
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
        assert_eq!((&alerts[0].component, &alerts[0].impact), (&None, &None));
    }

    #[test]
    fn the_component_and_impact_labels_travel_as_written() {
        let long = "c".repeat(500);
        let body = format!(
            r#"{{"version":"4","status":"firing","alerts":[
            {{"status":"firing","labels":{{"alertname":"Slow","component":" Checkout ","impact":"worse"}},"annotations":{{}}}},
            {{"status":"firing","labels":{{"alertname":"Long","component":"{long}","impact":""}},"annotations":{{}}}}]}}"#
        );
        let alerts = parse(Source::Alertmanager, body.as_bytes()).expect("valid");
        assert_eq!(alerts[0].component.as_deref(), Some("Checkout"));
        assert_eq!(
            alerts[0].impact.as_deref(),
            Some("worse"),
            "the bot says what it makes of it"
        );
        assert_eq!(alerts[1].component.as_ref().map(String::len), Some(128));
        assert_eq!(alerts[1].impact, None);
        let alerts = parse(
            Source::Generic,
            br#"{"title":"Queue stuck","component":"Search API","impact":"Major"}"#,
        )
        .expect("valid");
        assert_eq!(
            (alerts[0].component.as_deref(), alerts[0].impact.as_deref()),
            (Some("Search API"), Some("Major"))
        );
        // Brigade's own JSON is refused what no sender could mean.
        let error = parse(Source::Generic, br#"{"title":"Q","impact":"worse"}"#)
            .expect_err("no such impact");
        assert_eq!(
            error.to_string(),
            "unknown impact `worse`: degraded, partial or major"
        );
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
