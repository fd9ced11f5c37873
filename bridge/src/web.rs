//! The bridge's HTTP server: webhooks in ([`crate::hooks`]), the application service API the
//! homeserver calls ([`crate::appservice`]), `/healthz` and `/metrics`.

use std::sync::Arc;

use axum::{
    extract::{DefaultBodyLimit, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};

use crate::{appservice, bridge::Bridge, hooks, tickets};

#[cfg(test)]
mod tests;

/// The routes, serving `bridge`; webhook bodies over `webhooks.max_body_bytes` and
/// transactions over [`appservice::MAX_TRANSACTION_BYTES`] are refused with 413.
pub fn router(bridge: Arc<Bridge>) -> Router {
    Router::new()
        .merge(hooks::routes())
        .merge(tickets::webhook::routes())
        .merge(appservice::routes().layer(DefaultBodyLimit::max(appservice::MAX_TRANSACTION_BYTES)))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(bridge)
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
