//! An ntfy server, for the pushes of notifications outside Matrix. ntfy's server (a Go program)
//! has no Debian package and this machine reaches no Go module proxy or image registry, so this
//! is a stand-in that holds to ntfy's published API (<https://docs.ntfy.sh/publish/>,
//! <https://docs.ntfy.sh/subscribe/api/>) as far as Brigade's use reaches, and refuses the rest
//! the way ntfy does, with its error JSON:
//!
//! - `POST`/`PUT /` publishes a JSON message (`topic` required; `priority` 1 to 5; `tags` an
//!   array of strings; `click` a URL; at most three `actions`, each `view`, `http`, `broadcast`
//!   or `copy` with a label, and a URL for `view` and `http`; a message of at most 4,096 bytes)
//!   and answers with the message as stored;
//! - `POST`/`PUT /<topic>` publishes its body as the message, its title in `Title`, `X-Title`
//!   or `t` (so a JSON body sent there arrives as text, as ntfy's docs warn);
//! - `GET /<topic>/json?poll=1` answers the topic's messages, one JSON object a line;
//! - with an access token set, every request needs `Authorization: Bearer <token>`: none is
//!   403, another is 401.

use std::{
    collections::BTreeMap,
    net::{Ipv4Addr, SocketAddr},
    sync::{Arc, Mutex},
};

use anyhow::Result;
use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use brigade_core::sync::lock;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// The longest message ntfy keeps as a message (a longer one becomes an attachment).
const MESSAGE_MAX: usize = 4096;

#[derive(Debug, Default)]
struct Topics {
    messages: BTreeMap<String, Vec<Value>>,
    next: u64,
}

#[derive(Debug)]
struct Shared {
    token: Option<String>,
    topics: Mutex<Topics>,
}

/// A running ntfy server.
#[derive(Debug, Clone)]
pub struct Ntfy {
    /// Its root URL.
    pub url: String,
    shared: Arc<Shared>,
}

impl Ntfy {
    /// Starts a server on a free loopback port; with `token`, only that access token may use it.
    pub async fn start(token: Option<&str>) -> Result<Self> {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared {
            token: token.map(str::to_owned),
            topics: Mutex::default(),
        });
        let router = Router::new()
            .route("/", post(publish_json).put(publish_json))
            .route("/{topic}", post(publish_text).put(publish_text))
            .route("/{topic}/json", get(poll))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(Self { url, shared })
    }

    /// The messages `topic` holds, oldest first, read as a subscriber polls them.
    pub async fn poll(&self, topic: &str) -> Result<Vec<Value>> {
        let mut request = reqwest::Client::new().get(format!("{}/{topic}/json?poll=1", self.url));
        if let Some(token) = &self.shared.token {
            request = request.bearer_auth(token);
        }
        let text = request.send().await?.error_for_status()?.text().await?;
        text.lines()
            .map(|line| Ok(serde_json::from_str(line)?))
            .collect()
    }
}

/// ntfy's error answer.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    code: u32,
    text: String,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = json!({ "code": self.code, "http": self.status.as_u16(), "error": self.text });
        (self.status, Json(body)).into_response()
    }
}

fn error(status: StatusCode, code: u32, text: &str) -> Refusal {
    Refusal {
        status,
        code,
        text: text.to_owned(),
    }
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> Result<(), Refusal> {
    let Some(token) = &shared.token else {
        return Ok(());
    };
    match headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
    {
        None => Err(error(StatusCode::FORBIDDEN, 40301, "forbidden")),
        Some(value) if value.strip_prefix("Bearer ") == Some(token.as_str()) => Ok(()),
        Some(_) => Err(error(StatusCode::UNAUTHORIZED, 40101, "unauthorized")),
    }
}

fn valid_topic(topic: &str) -> bool {
    !topic.is_empty()
        && topic.len() <= 64
        && topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn invalid(what: &str) -> Refusal {
    error(
        StatusCode::BAD_REQUEST,
        40000,
        &format!("invalid request: {what}"),
    )
}

/// Checks a JSON message's fields as ntfy reads them.
fn check(message: &Map<String, Value>) -> Result<(), Refusal> {
    let topic = message
        .get("topic")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !valid_topic(topic) {
        return Err(invalid("topic invalid"));
    }
    for field in ["message", "title", "click"] {
        if message.get(field).is_some_and(|value| !value.is_string()) {
            return Err(invalid(&format!("{field} is not a string")));
        }
    }
    if message
        .get("message")
        .and_then(Value::as_str)
        .is_some_and(|text| text.len() > MESSAGE_MAX)
    {
        return Err(invalid("message too large"));
    }
    if let Some(priority) = message.get("priority") {
        if !priority.as_u64().is_some_and(|p| (1..=5).contains(&p)) {
            return Err(error(StatusCode::BAD_REQUEST, 40007, "invalid priority"));
        }
    }
    if let Some(tags) = message.get("tags") {
        if !tags
            .as_array()
            .is_some_and(|tags| tags.iter().all(Value::is_string))
        {
            return Err(invalid("tags must be an array of strings"));
        }
    }
    if let Some(click) = message.get("click").and_then(Value::as_str) {
        if url::Url::parse(click).is_err() {
            return Err(invalid("click is not a URL"));
        }
    }
    if let Some(actions) = message.get("actions") {
        let Some(actions) = actions.as_array() else {
            return Err(invalid("actions must be an array"));
        };
        if actions.len() > 3 {
            return Err(error(StatusCode::BAD_REQUEST, 40018, "too many actions"));
        }
        for action in actions {
            let kind = action["action"].as_str().unwrap_or_default();
            if !["view", "http", "broadcast", "copy"].contains(&kind) {
                return Err(error(StatusCode::BAD_REQUEST, 40018, "action invalid"));
            }
            if action["label"].as_str().is_none_or(str::is_empty) {
                return Err(error(StatusCode::BAD_REQUEST, 40018, "action has no label"));
            }
            let url = action["url"].as_str().map(url::Url::parse);
            if matches!(kind, "view" | "http") && !matches!(url, Some(Ok(_))) {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    40018,
                    "action has no valid url",
                ));
            }
        }
    }
    Ok(())
}

/// Stores `message` in its topic, as ntfy answers it.
fn store(shared: &Shared, mut message: Map<String, Value>) -> Response {
    let mut topics = lock(&shared.topics);
    topics.next += 1;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    message.insert("id".to_owned(), json!(format!("m{:011}", topics.next)));
    message.insert("time".to_owned(), json!(now));
    message.insert("event".to_owned(), json!("message"));
    message
        .entry("message")
        .or_insert_with(|| json!("triggered"));
    let topic = message["topic"].as_str().unwrap_or_default().to_owned();
    let stored = Value::Object(message);
    topics
        .messages
        .entry(topic)
        .or_default()
        .push(stored.clone());
    Json(stored).into_response()
}

async fn publish_json(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = authorized(&shared, &headers) {
        return refused.into_response();
    }
    let Ok(Value::Object(message)) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            40017,
            "invalid request: JSON body invalid",
        )
        .into_response();
    };
    if let Err(refused) = check(&message) {
        return refused.into_response();
    }
    store(&shared, message)
}

async fn publish_text(
    State(shared): State<Arc<Shared>>,
    Path(topic): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = authorized(&shared, &headers) {
        return refused.into_response();
    }
    if !valid_topic(&topic) {
        return invalid("topic invalid").into_response();
    }
    let mut message = Map::new();
    message.insert("topic".to_owned(), json!(topic));
    message.insert("message".to_owned(), json!(String::from_utf8_lossy(&body)));
    let title = ["title", "x-title", "t"]
        .iter()
        .find_map(|name| headers.get(*name).and_then(|value| value.to_str().ok()));
    if let Some(title) = title {
        message.insert("title".to_owned(), json!(title));
    }
    store(&shared, message)
}

#[derive(Debug, Deserialize)]
struct PollQuery {
    poll: Option<String>,
}

async fn poll(
    State(shared): State<Arc<Shared>>,
    Path(topic): Path<String>,
    Query(query): Query<PollQuery>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = authorized(&shared, &headers) {
        return refused.into_response();
    }
    if !matches!(query.poll.as_deref(), Some("1" | "true" | "yes")) {
        // Streaming subscriptions are not needed here.
        return invalid("only ?poll=1 is served by this stand-in").into_response();
    }
    let topics = lock(&shared.topics);
    let lines: String = topics
        .messages
        .get(&topic)
        .into_iter()
        .flatten()
        .map(|message| format!("{message}\n"))
        .collect();
    ([(header::CONTENT_TYPE, "application/x-ndjson")], lines).into_response()
}
