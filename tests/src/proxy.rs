//! A proxy between a client and its homeserver that can hold back the client's to-device
//! messages: while holding, each `/sync` answer is passed on without them (the homeserver
//! counts them delivered), and once released they come with the next `/sync`. This is how a
//! room key that arrives late looks to the client (a slow federation, a sender's client that
//! shares keys late), made to happen on cue. Everything else passes through unchanged.
//!
//! Held messages are added only to an answer that moves the sync token on: matrix-sdk skips
//! an answer whose token it has seen (nothing new), and what it carries with it. After
//! [`ToDeviceProxy::release`], something must happen for the client (any new event will do).

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::{Arc, Mutex},
};

use anyhow::Result;
use axum::{
    body::{to_bytes, Body},
    extract::{Request, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Router,
};
use brigade_core::sync::lock;
use serde_json::Value;

#[derive(Debug, Default)]
struct Held {
    holding: bool,
    events: Vec<Value>,
}

#[derive(Debug)]
struct Shared {
    upstream: String,
    http: reqwest::Client,
    held: Mutex<Held>,
}

/// A running proxy.
#[derive(Debug, Clone)]
pub struct ToDeviceProxy {
    /// Its URL, to give the client as its homeserver's.
    pub url: String,
    shared: Arc<Shared>,
}

impl ToDeviceProxy {
    /// A proxy to the homeserver at `upstream`, passing everything through.
    pub async fn start(upstream: &str) -> Result<Self> {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            held: Mutex::default(),
        });
        let router = Router::new().fallback(forward).with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(Self { url, shared })
    }

    /// Holds the client's to-device messages back from now on.
    pub fn hold(&self) {
        lock(&self.shared.held).holding = true;
    }

    /// Lets them through again: those held come with the next `/sync`.
    pub fn release(&self) {
        lock(&self.shared.held).holding = false;
    }

    /// How many to-device messages are held back now.
    pub fn held_count(&self) -> usize {
        lock(&self.shared.held).events.len()
    }
}

async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    match pass(&shared, request).await {
        Ok(response) => response,
        Err(error) => (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
    }
}

async fn pass(shared: &Shared, request: Request) -> Result<Response> {
    let (parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |path| path.as_str())
        .to_owned();
    let body = to_bytes(body, usize::MAX).await?;
    let mut headers = HeaderMap::new();
    for (name, value) in &parts.headers {
        if !matches!(name.as_str(), "host" | "content-length" | "connection") {
            headers.insert(name.clone(), value.clone());
        }
    }
    let upstream = shared
        .http
        .request(parts.method, format!("{}{path}", shared.upstream))
        .headers(headers)
        .body(body)
        .send()
        .await?;
    let status = upstream.status();
    let content_type = upstream.headers().get("content-type").cloned();
    let mut bytes = upstream.bytes().await?.to_vec();
    let is_sync = parts.uri.path().ends_with("/sync");
    if is_sync && status.is_success() {
        let since = parts.uri.query().and_then(|query| {
            url::form_urlencoded::parse(query.as_bytes())
                .find(|(name, _)| name == "since")
                .map(|(_, value)| value.into_owned())
        });
        bytes = withhold_or_add(shared, &bytes, since.as_deref())?;
    }
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    if let Some(content_type) = content_type {
        response.headers_mut().insert("content-type", content_type);
    }
    Ok(response)
}

/// A `/sync` answer without its to-device messages (kept) while holding; otherwise, if it
/// moves on from the token `since`, with the kept ones before its own.
fn withhold_or_add(shared: &Shared, bytes: &[u8], since: Option<&str>) -> Result<Vec<u8>> {
    let mut sync: Value = serde_json::from_slice(bytes)?;
    let mut held = lock(&shared.held);
    let events = sync["to_device"]["events"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if held.holding {
        held.events.extend(events);
        sync["to_device"]["events"] = Value::Array(Vec::new());
    } else if !held.events.is_empty() && sync["next_batch"].as_str() != since {
        let mut all = std::mem::take(&mut held.events);
        all.extend(events);
        sync["to_device"]["events"] = Value::Array(all);
    } else {
        return Ok(bytes.to_vec());
    }
    Ok(serde_json::to_vec(&sync)?)
}
