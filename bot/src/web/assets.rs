//! The pages' stylesheet and scripts: part of the binary, served by the bot itself (no page
//! makes an external request). Each URL carries a hash of its content, so browsers may keep
//! it for a year and still never run a stale copy after an upgrade.

use std::sync::OnceLock;

use axum::{
    extract::Path,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

/// Every asset: its name under `/assets/`, its content type and its content.
const ASSETS: [(&str, &str, &str); 4] = [
    (
        "brigade.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/brigade.css"),
    ),
    (
        "signin.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/signin.js"),
    ),
    (
        "local-time.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/local-time.js"),
    ),
    // Built from assets/widget/ (matrix-widget-api) by assets/widget/build.sh.
    (
        "widget.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/widget.js"),
    ),
];

/// The URL of asset `name`, with its content's hash.
pub fn url(name: &str) -> String {
    static HASHES: OnceLock<Vec<(&'static str, String)>> = OnceLock::new();
    let hashes = HASHES.get_or_init(|| {
        ASSETS
            .iter()
            .map(|(name, _, content)| (*name, hex::encode(&Sha256::digest(content)[..6])))
            .collect()
    });
    let hash = hashes
        .iter()
        .find(|(known, _)| *known == name)
        .map_or("", |(_, hash)| hash.as_str());
    format!("/assets/{name}?v={hash}")
}

/// `GET /assets/{name}`
pub async fn serve(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(known, _, _)| *known == name) {
        Some((_, kind, content)) => (
            [
                (header::CONTENT_TYPE, *kind),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            *content,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset\n").into_response(),
    }
}
