//! The bridge's HTTP server: webhooks in (`/hooks/<source>/<route>`), the application service
//! API the homeserver calls (`/_matrix/app/v1/…`), `/healthz` and `/metrics`.
//!
//! A webhook is authenticated first, read second, and stored (flushed to disk) before it is
//! answered 202; anything refused stores nothing.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, Path, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post, put},
    Json, Router,
};
use ruma::api::IncomingRequest;
use serde_json::json;
use subtle::ConstantTimeEq;
use tracing::{error, info, warn};

use crate::{
    alert::{self, Source},
    bridge::Bridge,
};

/// The routes, serving `bridge`.
pub fn router(bridge: Arc<Bridge>) -> Router {
    let limit = bridge.config.webhooks.max_body_bytes;
    Router::new()
        .route("/hooks/{source}/{name}", post(hook))
        .route("/_matrix/app/v1/transactions/{txn_id}", put(transaction))
        .route("/_matrix/app/v1/users/{user_id}", get(user_query))
        .route("/_matrix/app/v1/rooms/{alias}", get(alias_query))
        .route("/_matrix/app/v1/ping", post(ping))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(bridge)
}

fn answer(status: StatusCode, text: impl Into<String>) -> Response {
    (status, Json(json!({ "error": text.into() }))).into_response()
}

/// `POST /hooks/<source>/<name>`.
async fn hook(
    State(bridge): State<Arc<Bridge>>,
    Path((source, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = format!("{source}/{name}");
    let Some(hook) =
        Source::from_name(&source).and_then(|source| bridge.config.hook(source, &name))
    else {
        bridge.metrics.received(&route, "unknown_route");
        return answer(StatusCode::NOT_FOUND, format!("no route /hooks/{route}"));
    };
    let text = |name: header::HeaderName| headers.get(name).and_then(|value| value.to_str().ok());
    let signature = text(header::HeaderName::from_static("x-brigade-signature"))
        .or_else(|| text(header::HeaderName::from_static("x-pagerduty-signature")));
    if let Err(refusal) = alert::authenticate(
        hook.source,
        hook.secret.expose(),
        text(header::AUTHORIZATION),
        signature,
        &body,
    ) {
        bridge.metrics.received(&route, "unauthorized");
        warn!(%route, %refusal, "webhook refused");
        return answer(StatusCode::UNAUTHORIZED, refusal.to_string());
    }
    let alerts = match alert::parse(hook.source, &body) {
        Ok(alerts) => alerts,
        Err(problem) => {
            bridge.metrics.received(&route, "malformed");
            info!(%route, %problem, "webhook payload refused");
            return answer(StatusCode::BAD_REQUEST, problem.to_string());
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
        return answer(
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

/// The refusal of a request that does not carry the homeserver's `hs_token`.
fn not_from_homeserver(bridge: &Bridge, headers: &HeaderMap) -> Option<Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match token {
        None => Some(
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({ "errcode": "M_UNAUTHORIZED", "error": "no hs_token" })),
            )
                .into_response(),
        ),
        Some(token)
            if bool::from(
                token
                    .as_bytes()
                    .ct_eq(bridge.config.appservice.hs_token.expose().as_bytes()),
            ) =>
        {
            None
        }
        Some(_) => Some(
            (
                StatusCode::FORBIDDEN,
                Json(json!({ "errcode": "M_FORBIDDEN", "error": "wrong hs_token" })),
            )
                .into_response(),
        ),
    }
}

/// `PUT /_matrix/app/v1/transactions/{txnId}`: read, acted on, acknowledged. The bridge acts on
/// invitations of its virtual users: a route whose room refused it is tried again at once.
/// Events are acted on once by event ID (Synapse retries a transaction, and restarts its IDs
/// at 1), so a replayed transaction is answered the same and changes nothing.
async fn transaction(
    State(bridge): State<Arc<Bridge>>,
    Path(txn_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refusal) = not_from_homeserver(&bridge, &headers) {
        return refusal;
    }
    let mut request = http::Request::builder()
        .method(http::Method::PUT)
        .uri(format!("/_matrix/app/v1/transactions/{txn_id}"));
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    let Ok(request) = request.body(body.to_vec()) else {
        return answer(StatusCode::BAD_REQUEST, "unreadable request");
    };
    match ruma::api::appservice::event::push_events::v1::Request::try_from_http_request(
        request,
        &[txn_id.as_str()],
    ) {
        Ok(transaction) => {
            tracing::debug!(%txn_id, events = transaction.events.len(), "transaction from the homeserver");
            for event in &transaction.events {
                let Some((event_id, invited)) = invitation(&bridge, event) else {
                    continue;
                };
                match bridge.store.first_time(&event_id).await {
                    Ok(false) => {}
                    Ok(true) => {
                        tracing::info!(%invited, "a virtual user is invited: held routes are tried again");
                        bridge
                            .retry_held
                            .store(true, std::sync::atomic::Ordering::Release);
                        bridge.outbox.notify_one();
                    }
                    // Not acknowledged: the homeserver sends it again.
                    Err(error) => {
                        return answer(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
                    }
                }
            }
            (StatusCode::OK, Json(json!({}))).into_response()
        }
        Err(error) => answer(
            StatusCode::BAD_REQUEST,
            format!("not an appservice transaction: {error}"),
        ),
    }
}

/// The event ID and the invited user, when `event` invites one of the bridge's virtual users.
fn invitation(
    bridge: &Bridge,
    event: &ruma::serde::Raw<ruma::events::AnyTimelineEvent>,
) -> Option<(String, String)> {
    let event: serde_json::Value = event.deserialize_as().ok()?;
    if event["type"] != "m.room.member" || event["content"]["membership"] != "invite" {
        return None;
    }
    let invited = event["state_key"].as_str()?;
    let ours = Source::ALL.iter().any(|source| {
        crate::outbox::virtual_user(bridge, *source).is_ok_and(|user| user.as_str() == invited)
    });
    ours.then(|| Some((event["event_id"].as_str()?.to_owned(), invited.to_owned())))?
}

/// `GET /_matrix/app/v1/users/{userId}`: the virtual users of configured sources exist.
async fn user_query(
    State(bridge): State<Arc<Bridge>>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = not_from_homeserver(&bridge, &headers) {
        return refusal;
    }
    let known = bridge.config.hooks.iter().any(|hook| {
        crate::outbox::virtual_user(&bridge, hook.source).is_ok_and(|user| user.as_str() == user_id)
    });
    if known {
        (StatusCode::OK, Json(json!({}))).into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            Json(json!({ "errcode": "M_NOT_FOUND", "error": "no such alert source" })),
        )
            .into_response()
    }
}

/// `GET /_matrix/app/v1/rooms/{alias}`: the bridge makes its rooms itself, on demand of none.
async fn alias_query(State(bridge): State<Arc<Bridge>>, headers: HeaderMap) -> Response {
    if let Some(refusal) = not_from_homeserver(&bridge, &headers) {
        return refusal;
    }
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "errcode": "M_NOT_FOUND", "error": "the bridge creates no rooms on demand" })),
    )
        .into_response()
}

/// `POST /_matrix/app/v1/ping`: the homeserver checking it reaches the bridge.
async fn ping(State(bridge): State<Arc<Bridge>>, headers: HeaderMap) -> Response {
    if let Some(refusal) = not_from_homeserver(&bridge, &headers) {
        return refusal;
    }
    (StatusCode::OK, Json(json!({}))).into_response()
}

/// `GET /healthz`: 200 once the homeserver has answered the bridge's ping, 503 before.
async fn healthz(State(bridge): State<Arc<Bridge>>) -> Response {
    if bridge.ready.load(std::sync::atomic::Ordering::Relaxed) {
        (StatusCode::OK, "ok\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not registered with the homeserver yet\n",
        )
            .into_response()
    }
}

async fn metrics(State(bridge): State<Arc<Bridge>>) -> Response {
    bridge.metrics.outbox_depth(bridge.store.depth());
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        bridge.metrics.render(),
    )
        .into_response()
}
