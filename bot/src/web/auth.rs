//! `/session`: a page hands over an OpenID token, the bot asks the token's homeserver whose
//! it is, and the page gets a session (a cookie, and the same token in the answer for widgets,
//! which send it as a bearer header). Refusals are JSON `{"error": …}` with the reason.

use axum::{
    extract::{rejection::JsonRejection, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Form, Json,
};
use matrix_sdk::ruma::OwnedServerName;
use serde::Deserialize;
use serde_json::json;
use tracing::{info, warn};

use super::{
    openid::VerifyError,
    session::{from_our_page, Sessions},
    state::WebState,
};

/// What a page posts to sign in.
#[derive(Debug, Deserialize)]
pub struct TokenPost {
    /// The server that issued the token (`matrix_server_name` of the OpenID answer).
    matrix_server_name: String,
    /// The OpenID access token.
    access_token: String,
}

fn refuse(status: StatusCode, error: impl std::fmt::Display) -> Response {
    (status, Json(json!({ "error": error.to_string() }))).into_response()
}

/// `GET /session`: who this request is signed in as.
pub async fn whoami(State(state): State<WebState>, headers: HeaderMap) -> Response {
    match state.sessions.of_request(&headers) {
        Some((_, session, _)) => Json(json!({
            "user_id": session.user_id,
            "name": session.name,
            "expires_at": session.expires_at,
        }))
        .into_response(),
        None => refuse(StatusCode::UNAUTHORIZED, "not signed in"),
    }
}

/// `POST /session`: an OpenID token in, a session out.
pub async fn open(
    State(state): State<WebState>,
    body: Result<Json<TokenPost>, JsonRejection>,
) -> Response {
    // JSON only: a form on another site cannot post JSON without the browser asking first,
    // so no other site can sign a visitor in as someone else.
    let Json(post) = match body {
        Ok(body) => body,
        Err(rejection) => return refuse(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let server: OwnedServerName = match post.matrix_server_name.as_str().try_into() {
        Ok(server) => server,
        Err(_) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("`{}` is not a server name", post.matrix_server_name),
            )
        }
    };
    if post.access_token.is_empty() || post.access_token.len() > 1024 {
        return refuse(StatusCode::BAD_REQUEST, "access_token: missing or too long");
    }
    let user_id = match state.verifier.verify(&server, &post.access_token).await {
        Ok(user_id) => user_id,
        Err(error) => {
            warn!(%server, ?error, "a sign-in was refused");
            let status = match error {
                VerifyError::Refused(_) => StatusCode::UNAUTHORIZED,
                VerifyError::Unreachable { .. } => StatusCode::BAD_GATEWAY,
                VerifyError::NotAllowed(_)
                | VerifyError::Internal(_)
                | VerifyError::Mismatch { .. } => StatusCode::FORBIDDEN,
            };
            return refuse(status, error);
        }
    };
    let (name, avatar) = match state.desk.get() {
        Some(desk) => (
            desk.display_name(&user_id).await,
            desk.avatar(&user_id).await,
        ),
        None => (None, None),
    };
    let name = name.unwrap_or_else(|| user_id.to_string());
    info!(%user_id, "signed in on the web pages");
    let (token, session) = state.sessions.open(user_id, name, avatar);
    let cookie = state.sessions.cookie(&token, state.config.web.secure());
    (
        [(header::SET_COOKIE, cookie)],
        Json(json!({
            "user_id": session.user_id,
            "name": session.name,
            "session": token,
            "csrf": session.csrf,
            "expires_in": state.sessions.lifetime().as_secs(),
        })),
    )
        .into_response()
}

/// The form that signs out.
#[derive(Debug, Deserialize)]
pub struct EndPost {
    #[serde(default)]
    csrf: String,
}

/// `POST /session/end`: signs out, then back to the report form.
pub async fn end(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(post): Form<EndPost>,
) -> Response {
    if let Some((token, session, carrier)) = state.sessions.of_request(&headers) {
        if from_our_page(&headers, &session, carrier, &post.csrf) {
            state.sessions.close(&token);
        } else {
            return refuse(
                StatusCode::FORBIDDEN,
                "this sign-out did not come from Brigade's page",
            );
        }
    }
    (
        [(
            header::SET_COOKIE,
            Sessions::removal(state.config.web.secure()),
        )],
        Redirect::to("/report"),
    )
        .into_response()
}
