//! The HTTP refusals and answers, through the router without a socket (`oneshot`): each
//! refusal stores nothing. One real socket is left to the end-to-end tests.

use std::sync::{atomic::Ordering, Arc};

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
    Router,
};
use hmac::{Hmac, Mac};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sha2::Sha256;
use tower::ServiceExt;

use super::router;
use crate::{
    bridge::Bridge,
    testing::{self, FakeHomeserver},
};

const ROUTES: &str = r##"
[webhooks]
max_body_bytes = 2048
[[hooks]]
name = "prod"
source = "alertmanager"
room = "#alerts:example.org"
secret = "am-secret"
[[hooks]]
name = "signed"
source = "generic"
room = "#alerts:example.org"
secret = "generic-secret"
[[hooks]]
name = "twin"
source = "generic"
room = "#twin:example.org"
secret = "generic-secret"
"##;

fn setup() -> (Arc<Bridge>, Router) {
    let (bridge, _clock) =
        testing::bridge(testing::config(ROUTES), Arc::new(FakeHomeserver::default()));
    let app = router(bridge.clone());
    (bridge, app)
}

async fn call(app: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = app.clone().oneshot(request).await.expect("an answer");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn alertmanager(body: &Value, token: Option<&str>) -> Request<Body> {
    let mut request =
        Request::post("/hooks/alertmanager/prod").header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request
        .body(Body::from(body.to_string()))
        .expect("a request")
}

fn firing() -> Value {
    json!({
        "version": "4",
        "status": "firing",
        "alerts": [{
            "status": "firing",
            "labels": { "alertname": "DiskFull", "severity": "critical" },
            "annotations": { "summary": "Disk full on db1" },
            "fingerprint": "abc",
        }],
    })
}

#[tokio::test]
async fn an_authenticated_webhook_is_stored_before_its_202() {
    let (bridge, app) = setup();
    let (status, body) = call(&app, alertmanager(&firing(), Some("am-secret"))).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body["accepted"], 1);
    assert_eq!(bridge.store.depth(), 1);
}

#[tokio::test]
async fn a_webhook_without_its_secret_is_refused_401_and_stores_nothing() {
    let (bridge, app) = setup();
    let (status, body) = call(&app, alertmanager(&firing(), None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|text| text.contains("Bearer")),
        "{body}"
    );
    let (status, _) = call(&app, alertmanager(&firing(), Some("guess"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let payload = br#"{"title":"Queue stuck"}"#;
    let (status, body) = call(&app, generic(b"another-key", SECONDS, payload)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|text| text.contains("does not match")),
        "{body}"
    );
    assert_eq!(bridge.store.depth(), 0);
}

#[tokio::test]
async fn a_malformed_payload_is_refused_400_naming_what_is_wrong() {
    let (bridge, app) = setup();
    let mut grafana = firing();
    grafana["version"] = json!("3");
    let (status, body) = call(&app, alertmanager(&grafana, Some("am-secret"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|text| text.contains("`version` must be \"4\"")),
        "{body}"
    );
    let mut unnamed = firing();
    unnamed["alerts"][0]["status"] = json!("burning");
    let (status, body) = call(&app, alertmanager(&unnamed, Some("am-secret"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|text| text.contains("alerts[0].status")),
        "{body}"
    );
    assert_eq!(bridge.store.depth(), 0);
}

#[tokio::test]
async fn an_oversized_body_is_refused_413() {
    let (bridge, app) = setup();
    let mut big = firing();
    big["alerts"][0]["annotations"]["description"] = json!("x".repeat(4096));
    let (status, _) = call(&app, alertmanager(&big, Some("am-secret"))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(bridge.store.depth(), 0);
}

#[tokio::test]
async fn a_wrong_token_is_refused_before_the_body_is_read() {
    let (bridge, app) = setup();
    let mut big = firing();
    big["alerts"][0]["annotations"]["description"] = json!("x".repeat(4096));
    let (status, _) = call(&app, alertmanager(&big, Some("wrong"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(bridge.store.depth(), 0);
}

#[tokio::test]
async fn requests_to_unknown_routes_are_counted_under_one_label() {
    let (bridge, app) = setup();
    for n in 0..300 {
        let request = Request::post(format!("/hooks/alertmanager/nowhere-{n}"))
            .header(header::AUTHORIZATION, "Bearer am-secret")
            .body(Body::from("{}"))
            .expect("a request");
        assert_eq!(call(&app, request).await.0, StatusCode::NOT_FOUND);
    }
    let metrics = bridge.metrics.render();
    let unknown: Vec<&str> = metrics
        .lines()
        .filter(|line| line.contains("unknown_route") && !line.starts_with('#'))
        .collect();
    assert_eq!(unknown.len(), 1, "{metrics}");
    assert!(unknown[0].ends_with(" 300"), "{unknown:?}");
}

/// The test clock's time, in seconds.
const SECONDS: u64 = 1_800_000_000;

/// A generic webhook of `payload` signed with `key` at `seconds`.
fn generic(key: &[u8], seconds: u64, payload: &[u8]) -> Request<Body> {
    generic_to("signed", key, seconds, payload)
}

/// The same, to the generic route `route`.
fn generic_to(route: &str, key: &[u8], seconds: u64, payload: &[u8]) -> Request<Body> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("a key");
    mac.update(format!("{seconds}.").as_bytes());
    mac.update(payload);
    Request::post(format!("/hooks/generic/{route}"))
        .header(
            "x-brigade-signature",
            format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
        )
        .header("x-brigade-timestamp", seconds.to_string())
        .body(Body::from(payload.to_vec()))
        .expect("a request")
}

#[tokio::test]
async fn a_signed_webhook_is_accepted_once_and_only_while_fresh() {
    let (bridge, clock) =
        testing::bridge(testing::config(ROUTES), Arc::new(FakeHomeserver::default()));
    let app = router(bridge.clone());
    let resolved = br#"{"title":"Queue stuck","fingerprint":"q","status":"resolved"}"#;
    let (status, _) = call(&app, generic(b"generic-secret", SECONDS, resolved)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let before = bridge.store.alert("generic/signed/q").expect("readable");

    // The same request again: a replay, refused, and nothing changes.
    let (status, body) = call(&app, generic(b"generic-secret", SECONDS, resolved)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|text| text.contains("already accepted")),
        "{body}"
    );
    assert_eq!(
        bridge.store.alert("generic/signed/q").expect("readable"),
        before
    );

    // The sender's next request, a second later, is a new delivery.
    let (status, _) = call(&app, generic(b"generic-secret", SECONDS + 1, resolved)).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    // Past the window the old request is refused by its time, and its record is forgotten.
    clock.advance(std::time::Duration::from_secs(11 * 60));
    let (status, body) = call(&app, generic(b"generic-secret", SECONDS, resolved)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|text| text.contains("5 minutes")),
        "{body}"
    );
    let now = SECONDS + 11 * 60;
    let (status, _) = call(&app, generic(b"generic-secret", now, resolved)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        bridge.store.deliveries(),
        1,
        "the two old deliveries are forgotten"
    );
}

/// A request captured on one route and replayed to another with the same secret is a replay.
#[tokio::test]
async fn a_signed_webhook_replayed_to_a_route_sharing_its_secret_is_refused() {
    let (bridge, app) = setup();
    let firing = br#"{"title":"Queue stuck","fingerprint":"q"}"#;
    let (status, _) = call(&app, generic(b"generic-secret", SECONDS, firing)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, body) = call(&app, generic_to("twin", b"generic-secret", SECONDS, firing)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        bridge.store.alert("generic/twin/q").expect("readable"),
        None
    );
    assert_eq!(bridge.store.deliveries(), 1);
}

#[tokio::test]
async fn an_unknown_route_or_source_is_404() {
    let (_bridge, app) = setup();
    for uri in [
        "/hooks/alertmanager/staging",
        "/hooks/zabbix/prod",
        "/hooks/generic/prod",
    ] {
        let request = Request::post(uri)
            .header(header::AUTHORIZATION, "Bearer am-secret")
            .body(Body::from(firing().to_string()))
            .expect("a request");
        let (status, body) = call(&app, request).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|text| text.contains("no route")),
            "{body}"
        );
    }
}

fn transaction(token: Option<&str>, events: Value) -> Request<Body> {
    let mut request = Request::put("/_matrix/app/v1/transactions/1")
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request
        .body(Body::from(json!({ "events": events }).to_string()))
        .expect("a request")
}

fn invitation(event_id: &str, user: &str) -> Value {
    json!({
        "type": "m.room.member",
        "state_key": user,
        "content": { "membership": "invite" },
        "event_id": event_id,
        "room_id": "!room:example.org",
        "sender": "@alice:example.org",
        "origin_server_ts": 1,
    })
}

#[tokio::test]
async fn the_homeserver_is_refused_without_its_token_and_a_wrong_one_is_403() {
    let (bridge, app) = setup();
    let events = json!([invitation("$i", "@alert_alertmanager:example.org")]);
    let (status, body) = call(&app, transaction(None, events.clone())).await;
    assert_eq!(
        (status, body["errcode"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("M_UNAUTHORIZED"))
    );
    let (status, body) = call(&app, transaction(Some("as-secret"), events)).await;
    assert_eq!(
        (status, body["errcode"].as_str()),
        (StatusCode::FORBIDDEN, Some("M_FORBIDDEN"))
    );
    assert!(
        !bridge.retry_held.load(Ordering::Acquire),
        "nothing acted on"
    );
    for uri in [
        "/_matrix/app/v1/users/@alert_grafana:example.org",
        "/_matrix/app/v1/rooms/%23a:example.org",
    ] {
        let request = Request::get(uri).body(Body::empty()).expect("a request");
        assert_eq!(
            call(&app, request).await.0,
            StatusCode::UNAUTHORIZED,
            "{uri}"
        );
    }
}

#[tokio::test]
async fn a_transaction_larger_than_the_webhook_limit_is_taken() {
    let (_bridge, app) = setup();
    let mut big = invitation("$big", "@bob:example.org");
    big["content"]["reason"] = json!("x".repeat(60 * 1024));
    let (status, body) = call(&app, transaction(Some("hs-secret"), json!([big]))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn an_invitation_of_a_virtual_user_tries_held_routes_again_once() {
    let (bridge, app) = setup();
    let events = json!([
        invitation("$other", "@bob:example.org"),
        invitation("$ours", "@alert_alertmanager:example.org"),
    ]);
    let (status, _) = call(&app, transaction(Some("hs-secret"), events.clone())).await;
    assert_eq!(status, StatusCode::OK);
    assert!(bridge.retry_held.swap(false, Ordering::AcqRel));
    // The homeserver sends the same transaction again: answered the same, acted on once.
    let (status, _) = call(&app, transaction(Some("hs-secret"), events)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!bridge.retry_held.load(Ordering::Acquire));
}

#[tokio::test]
async fn only_configured_sources_have_virtual_users() {
    let (_bridge, app) = setup();
    let query = |user: &str| {
        Request::get(format!("/_matrix/app/v1/users/{user}"))
            .header(header::AUTHORIZATION, "Bearer hs-secret")
            .body(Body::empty())
            .expect("a request")
    };
    assert_eq!(
        call(&app, query("@alert_alertmanager:example.org")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, query("@alert_grafana:example.org")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn healthz_says_starting_until_the_homeserver_answered_the_ping() {
    let (bridge, app) = setup();
    let healthz = || {
        Request::get("/healthz")
            .body(Body::empty())
            .expect("a request")
    };
    assert_eq!(
        call(&app, healthz()).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    bridge.ready.store(true, Ordering::Relaxed);
    assert_eq!(call(&app, healthz()).await.0, StatusCode::OK);
}
