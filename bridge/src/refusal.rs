//! How the bridge's HTTP endpoints refuse a request: a status and a JSON body naming why.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

/// `status` with `{"error": text}`.
pub fn refusal(status: StatusCode, text: impl Into<String>) -> Response {
    (status, Json(json!({ "error": text.into() }))).into_response()
}
