//! The bot's HTTP server: `/healthz` and `/metrics` for operators; the pages people sign in
//! to (SPEC §10): `/report`, `/dashboard`, `/incident/{room}` and `/status/internal`, with `/session` for signing in
//! and `/assets/…` for the stylesheet and scripts; `/ack/{token}` for the acknowledge links of
//! notifications (SPEC §14); the public status page at `/status/`
//! (SPEC §15).

mod ack;
mod assets;
mod auth;
mod chart;
mod dashboard;
mod internal;
pub mod openid;
mod page;
mod panel;
mod report;
pub mod session;
mod state;
mod status;
#[cfg(test)]
mod tests;

pub use state::WebState;

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect},
    routing::{get, post},
    Router,
};

use tracing::error;

/// The HTTP routes.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/", get(|| async { Redirect::to("/report") }))
        .route("/session", get(auth::whoami).post(auth::open))
        .route("/session/end", post(auth::end))
        .route("/report", get(report::show).post(report::file))
        .route("/dashboard", get(dashboard::show))
        .route("/incident/{room}", get(panel::show).post(panel::act))
        .route("/assets/{name}", get(assets::serve))
        .route("/ack/{token}", get(ack::show).post(ack::acknowledge))
        .route("/status", get(status::root))
        .route("/status/", get(status::index))
        .route("/status/internal", get(internal::show))
        .route("/status/{name}", get(status::file))
        .with_state(state)
}

async fn healthz(State(state): State<WebState>) -> impl IntoResponse {
    match state.health.sync_lag_seconds() {
        Some(lag) if lag <= state.unhealthy_after.as_secs_f64() => {
            (StatusCode::OK, format!("ok: last sync {lag:.1} s ago\n"))
        }
        Some(lag) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("unhealthy: no successful sync for {lag:.0} s\n"),
        ),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "starting: not synced yet\n".to_owned(),
        ),
    }
}

async fn metrics(State(state): State<WebState>) -> impl IntoResponse {
    let incidents = state.store.incidents().await.unwrap_or_else(|error| {
        error!(%error, "cannot read the incidents for /metrics");
        Vec::new()
    });
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(&state.health, &incidents),
    )
}

#[cfg(test)]
mod health_tests {
    use std::{sync::Arc, time::Duration};

    use axum::body::Body;
    use brigade_core::clock::TestClock;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;
    use crate::{
        config::Config,
        metrics::{Health, Metrics},
    };

    async fn get_path(state: WebState, path: &str) -> (StatusCode, String) {
        let request = axum::http::Request::get(path)
            .body(Body::empty())
            .expect("request");
        let response = router(state).oneshot(request).await.expect("response");
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    fn state(clock: Arc<TestClock>) -> WebState {
        WebState::new(
            Arc::new(Config::for_tests("")),
            Arc::new(Health::new(clock.clone())),
            Arc::new(Metrics::new()),
            Arc::new(brigade_core::store::EngineStore::in_memory()),
            clock,
        )
    }

    #[tokio::test]
    async fn healthz_is_unavailable_until_the_first_sync() {
        let (status, body) = get_path(state(Arc::new(TestClock::at_millis(1))), "/healthz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("not synced"), "{body}");
    }

    #[tokio::test]
    async fn healthz_follows_the_last_sync() {
        let clock = Arc::new(TestClock::at_millis(1));
        let state = state(clock.clone());
        state.health.synced();
        assert_eq!(get_path(state.clone(), "/healthz").await.0, StatusCode::OK);
        clock.advance(Duration::from_secs(91));
        assert_eq!(
            get_path(state, "/healthz").await.0,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[tokio::test]
    async fn metrics_are_in_prometheus_text_format() {
        let state = state(Arc::new(TestClock::at_millis(1)));
        state
            .metrics
            .command("help", crate::metrics::CommandOutcome::Ok);
        let (status, body) = get_path(state, "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("# TYPE brigade_commands counter"), "{body}");
        assert!(body.ends_with("# EOF\n"), "{body}");
    }
}
