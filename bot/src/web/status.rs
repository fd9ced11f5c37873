//! `/status/`: the public status page, served from the directory its writer keeps, so the bot
//! serves exactly the files an operator copies elsewhere. Public: no session, and nothing on
//! it but what was said for the public.

use axum::{
    extract::{Path, State},
    http::{header, StatusCode},
    response::{IntoResponse, Redirect, Response},
};

use super::state::WebState;
use crate::status::FILES;

/// `GET /status`: the page's own links are relative, so it lives at `/status/`.
pub async fn root() -> Redirect {
    Redirect::permanent("/status/")
}

/// `GET /status/`
pub async fn index(state: State<WebState>) -> Response {
    file(state, Path("index.html".to_owned())).await
}

/// `GET /status/{name}`: one of the site's files.
pub async fn file(State(state): State<WebState>, Path(name): Path<String>) -> Response {
    let Some((name, kind)) = FILES.iter().find(|(known, _)| *known == name) else {
        return (StatusCode::NOT_FOUND, "no such file on the status page\n").into_response();
    };
    let path = state.config.status.directory.join(name);
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, *kind),
                // Asked again at every look: during an incident, a minute old is wrong.
                (header::CACHE_CONTROL, "public, no-cache"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::REFERRER_POLICY, "no-referrer"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'",
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            "the status page is being written; try again in a moment\n",
        )
            .into_response(),
    }
}
