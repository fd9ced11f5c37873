//! A GitHub of one repository, for the bridge's tickets: its REST API as GitHub's own OpenAPI
//! description (`tests/openapi/github.json`, vendored from github/rest-api-description) says,
//! every request and answer checked against it ([`crate::openapi`]); tokens checked as GitHub
//! does (`Authorization: Bearer` or `token`, 401 "Bad credentials"); issues made from the
//! description's own example issue. Its webhooks (`issues` closed and reopened) are signed with
//! `X-Hub-Signature-256` as GitHub signs them, their payloads made of the description's
//! examples with the issue's fields, checked against the description's webhook schemas.

use std::{
    collections::VecDeque,
    net::{Ipv4Addr, SocketAddr},
    sync::{Arc, Mutex},
};

use anyhow::{anyhow, Result};
use axum::{
    body::Bytes,
    extract::{OriginalUri, State},
    http::{HeaderMap, Method, StatusCode},
    response::{IntoResponse, Response},
    Json, Router,
};
use brigade_core::sync::lock;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::openapi::{Description, Matched};

/// GitHub's description, as vendored.
const DESCRIPTION: &str = include_str!("../openapi/github.json");

/// The API version the fake speaks, which requests must ask for.
pub const API_VERSION: &str = "2022-11-28";

/// A request the fake took, as it answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `POST`, `GET`…
    pub method: String,
    /// The path and query.
    pub uri: String,
    /// The status answered.
    pub status: u16,
}

#[derive(Debug)]
struct Shared {
    description: Description,
    base: String,
    owner: String,
    repo: String,
    token: String,
    issues: Mutex<Vec<Value>>,
    requests: Mutex<Vec<Request>>,
    /// What the description says is wrong with requests or answers: a test fails on any.
    violations: Mutex<Vec<String>>,
    /// Statuses to answer the next requests with instead (an outage), in order.
    failing: Mutex<VecDeque<u16>>,
    /// Whether the next issue made is answered 503 anyway (its answer lost).
    lose_next: Mutex<bool>,
}

/// A running fake GitHub.
#[derive(Debug, Clone)]
pub struct Github {
    /// The API's base URL, as `[[trackers]] url` takes it.
    pub url: String,
    shared: Arc<Shared>,
}

impl Github {
    /// Starts one on a free loopback port holding the empty repository `owner/repo`, taking
    /// `token`.
    pub async fn start(owner: &str, repo: &str, token: &str) -> Result<Self> {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        let base = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared {
            description: Description::parse(DESCRIPTION)?,
            base: base.clone(),
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            token: token.to_owned(),
            issues: Mutex::default(),
            requests: Mutex::default(),
            violations: Mutex::default(),
            failing: Mutex::default(),
            lose_next: Mutex::new(false),
        });
        let router = Router::new().fallback(serve).with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(Self {
            url: format!("{base}/"),
            shared,
        })
    }

    /// A bridge's `[[trackers]]` table named `name` for this GitHub's repository, with `token`
    /// and `extra` keys (TOML lines).
    pub fn tracker(&self, name: &str, token: &str, extra: &str) -> String {
        format!(
            "[[trackers]]\nname = \"{name}\"\nkind = \"github\"\nurl = \"{}\"\n\
             repository = \"{}/{}\"\ntoken = \"{token}\"\n{extra}",
            self.url, self.shared.owner, self.shared.repo
        )
    }

    /// The issues, oldest first.
    pub fn issues(&self) -> Vec<Value> {
        lock(&self.shared.issues).clone()
    }

    /// The requests so far.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.shared.requests).clone()
    }

    /// What the description says was wrong; empty when every request and answer was as
    /// described.
    pub fn violations(&self) -> Vec<String> {
        lock(&self.shared.violations).clone()
    }

    /// Answers the next requests with `statuses` (described ones, such as 503), in order.
    pub fn fail_next(&self, statuses: &[u16]) {
        lock(&self.shared.failing).extend(statuses);
    }

    /// Makes the next issue asked for, then answers 503 as if the answer were lost.
    pub fn lose_next_answer(&self) {
        *lock(&self.shared.lose_next) = true;
    }

    /// Closes (or reopens) issue `number` as `login` would on github.com, and returns the
    /// `issues` webhook GitHub would deliver for it: its event name and its body.
    pub fn set_state(&self, number: u64, closed: bool, login: &str) -> Result<(String, Vec<u8>)> {
        let shared = &self.shared;
        let now = now();
        let issue = {
            let mut issues = lock(&shared.issues);
            let issue = issues
                .iter_mut()
                .find(|issue| issue["number"] == number)
                .ok_or_else(|| anyhow!("no issue {number}"))?;
            issue["state"] = json!(if closed { "closed" } else { "open" });
            issue["state_reason"] = json!(if closed { "completed" } else { "reopened" });
            issue["closed_at"] = if closed { json!(now) } else { Value::Null };
            issue["updated_at"] = json!(now);
            issue.clone()
        };
        let action = if closed { "closed" } else { "reopened" };
        let webhook = format!("/webhooks/issues-{action}");
        let schema = format!("{webhook}/post/requestBody/content/application~1json/schema");
        // The description gives no example delivery: one is made of its schema's examples,
        // with this issue's fields.
        let mut payload = shared.description.sample(&schema)?;
        payload["action"] = json!(action);
        for field in [
            "number",
            "title",
            "body",
            "state",
            "html_url",
            "url",
            "updated_at",
            "closed_at",
            "created_at",
            "id",
            "node_id",
        ] {
            payload["issue"][field] = issue[field].clone();
        }
        payload["repository"]["name"] = json!(shared.repo);
        payload["repository"]["full_name"] = json!(format!("{}/{}", shared.owner, shared.repo));
        payload["sender"]["login"] = json!(login);
        if let Err(error) = shared.description.check_value(&schema, &payload) {
            lock(&shared.violations).push(format!("the webhook {action}: {error}"));
        }
        Ok(("issues".to_owned(), serde_json::to_vec(&payload)?))
    }
}

/// The `X-Hub-Signature-256` of `body` under `secret`, as GitHub computes it.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// GitHub's error body.
fn github_error(status: StatusCode, message: &str) -> (StatusCode, Value) {
    (
        status,
        json!({
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": status.as_u16().to_string(),
        }),
    )
}

async fn serve(
    State(shared): State<Arc<Shared>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (status, answer) = answer(&shared, &method, &uri, &headers, &body);
    lock(&shared.requests).push(Request {
        method: method.to_string(),
        uri: uri.to_string(),
        status: status.as_u16(),
    });
    (status, Json(answer)).into_response()
}

fn answer(
    shared: &Shared,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> (StatusCode, Value) {
    let violation = |text: String| lock(&shared.violations).push(text);
    let Some(matched) = shared.description.operation(method.as_str(), uri.path()) else {
        violation(format!("{method} {uri} is not in the description"));
        return github_error(StatusCode::NOT_FOUND, "Not Found");
    };
    // Authentication first, as GitHub does: its 401 is the same for every operation.
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let token = header("authorization").and_then(|value| {
        value
            .strip_prefix("Bearer ")
            .or(value.strip_prefix("token "))
    });
    match token {
        None => return github_error(StatusCode::UNAUTHORIZED, "Requires authentication"),
        Some(token) if token != shared.token => {
            return github_error(StatusCode::UNAUTHORIZED, "Bad credentials")
        }
        Some(_) => {}
    }
    if header("user-agent").is_none_or(str::is_empty) {
        violation(format!(
            "{method} {uri} has no User-Agent, which GitHub requires"
        ));
    }
    if header("x-github-api-version").is_some_and(|version| version != API_VERSION) {
        violation(format!("{method} {uri} asks for another API version"));
    }
    let query: Vec<(String, String)> = uri
        .query()
        .map(|query| {
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let json_body = if body.is_empty() {
        None
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(value) => Some(value),
            Err(_) => return github_error(StatusCode::BAD_REQUEST, "Problems parsing JSON"),
        }
    };
    if let Err(problem) = shared
        .description
        .check_request(&matched, &query, json_body.as_ref())
    {
        violation(problem.to_string());
        return github_error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed");
    }
    let ours = matched.path.get("owner") == Some(&shared.owner)
        && matched.path.get("repo") == Some(&shared.repo);
    let (status, answer) = if let Some(status) = lock(&shared.failing).pop_front() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        github_error(status, "Service unavailable")
    } else if !ours {
        github_error(StatusCode::NOT_FOUND, "Not Found")
    } else {
        operate(shared, &matched, &query, json_body.as_ref())
    };
    if let Err(problem) = shared
        .description
        .check_response(&matched, status.as_u16(), &answer)
    {
        violation(problem.to_string());
    }
    (status, answer)
}

fn operate(
    shared: &Shared,
    matched: &Matched,
    query: &[(String, String)],
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let template = matched.template.as_str();
    match (matched.method.as_str(), template) {
        ("post", "/repos/{owner}/{repo}/issues") => {
            let body = body.cloned().unwrap_or_default();
            let issue = match new_issue(shared, &body) {
                Ok(issue) => issue,
                Err(error) => {
                    lock(&shared.violations).push(format!("making an issue: {error}"));
                    return github_error(StatusCode::INTERNAL_SERVER_ERROR, "Server Error");
                }
            };
            lock(&shared.issues).push(issue.clone());
            if std::mem::take(&mut *lock(&shared.lose_next)) {
                return github_error(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable");
            }
            (StatusCode::CREATED, issue)
        }
        ("get", "/repos/{owner}/{repo}/issues") => (StatusCode::OK, list(shared, query)),
        _ => {
            lock(&shared.violations).push(format!("{template} is not served by the fake"));
            github_error(StatusCode::NOT_FOUND, "Not Found")
        }
    }
}

/// The description's example issue, made this repository's next one from `body`.
fn new_issue(shared: &Shared, body: &Value) -> Result<Value> {
    let mut issue = shared.description.example("/components/examples/issue")?;
    let number = lock(&shared.issues).len() as u64 + 1;
    let repository = format!("{}/{}", shared.owner, shared.repo);
    let api = format!("{}/repos/{repository}", shared.base);
    let now = now();
    let label_template = issue["labels"][0].clone();
    let labels: Vec<Value> = body["labels"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .enumerate()
        .map(|(index, name)| {
            let mut label = label_template.clone();
            label["id"] = json!(index + 1);
            label["name"] = json!(name);
            label["url"] = json!(format!("{api}/labels/{name}"));
            label
        })
        .collect();
    let assignee_template = issue["assignee"].clone();
    let assignees: Vec<Value> = body["assignees"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|login| {
            let mut user = assignee_template.clone();
            user["login"] = json!(login);
            user
        })
        .collect();
    issue["id"] = json!(1_000 + number);
    issue["node_id"] = json!(format!("I_fake{number}"));
    issue["number"] = json!(number);
    issue["title"] = body["title"].clone();
    issue["body"] = body.get("body").cloned().unwrap_or(Value::Null);
    issue["state"] = json!("open");
    issue["state_reason"] = Value::Null;
    issue["closed_at"] = Value::Null;
    issue["closed_by"] = Value::Null;
    issue["created_at"] = json!(now);
    issue["updated_at"] = json!(now);
    issue["labels"] = json!(labels);
    issue["assignee"] = assignees.first().cloned().unwrap_or(Value::Null);
    issue["assignees"] = json!(assignees);
    issue["milestone"] = Value::Null;
    issue["pull_request"] = Value::Null;
    issue["comments"] = json!(0);
    issue["url"] = json!(format!("{api}/issues/{number}"));
    issue["repository_url"] = json!(api);
    issue["html_url"] = json!(format!("{}/{repository}/issues/{number}", shared.base));
    if let Some(object) = issue.as_object_mut() {
        // An issue is no pull request: the key is left out, as GitHub leaves it.
        object.remove("pull_request");
    }
    Ok(issue)
}

/// `GET /repos/{owner}/{repo}/issues` with `query`: GitHub's filters and pages.
fn list(shared: &Shared, query: &[(String, String)]) -> Value {
    let get = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let state = get("state").unwrap_or("open");
    let since = get("since").unwrap_or("");
    let labels: Vec<&str> = get("labels")
        .map(|labels| labels.split(',').collect())
        .unwrap_or_default();
    let per_page: usize = get("per_page").and_then(|n| n.parse().ok()).unwrap_or(30);
    let page: usize = get("page").and_then(|n| n.parse().ok()).unwrap_or(1);
    let mut issues: Vec<Value> = lock(&shared.issues)
        .iter()
        .filter(|issue| state == "all" || issue["state"] == state)
        .filter(|issue| issue["updated_at"].as_str().unwrap_or("") >= since)
        .filter(|issue| {
            labels.iter().all(|wanted| {
                issue["labels"]
                    .as_array()
                    .is_some_and(|labels| labels.iter().any(|label| label["name"] == *wanted))
            })
        })
        .cloned()
        .collect();
    if get("direction") != Some("asc") {
        issues.reverse();
    }
    json!(issues
        .into_iter()
        .skip(per_page * page.saturating_sub(1))
        .take(per_page)
        .collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the bridge asks, as it asks it, and what GitHub's description says of the answers.
    #[tokio::test]
    async fn the_fakes_answers_are_as_githubs_description_says() -> Result<()> {
        let github = Github::start("acme", "app", "token").await?;
        let http = reqwest::Client::new();
        let ask = |method: Method, path: &str, token: &str| {
            http.request(method, format!("{}{path}", github.url))
                .bearer_auth(token)
                .header("User-Agent", "test")
                .header("X-GitHub-Api-Version", API_VERSION)
        };
        let made = ask(Method::POST, "repos/acme/app/issues", "token")
            .json(&json!({"title": "INC-1: x", "body": "b <!-- m -->", "labels": ["followup"], "assignees": ["bob"]}))
            .send()
            .await?;
        assert_eq!(made.status().as_u16(), 201, "{:?}", github.violations());
        let issue: Value = made.json().await?;
        assert_eq!(issue["number"], 1);
        assert_eq!(issue["labels"][0]["name"], "followup");
        let listed: Value = ask(
            Method::GET,
            "repos/acme/app/issues?state=all&since=2026-01-01T00:00:00Z&sort=created&direction=desc&per_page=100&page=1&labels=followup",
            "token",
        )
        .send()
        .await?
        .json()
        .await?;
        assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
        let refused = ask(Method::POST, "repos/acme/app/issues", "wrong")
            .json(&json!({"title": "x"}))
            .send()
            .await?;
        assert_eq!(refused.status().as_u16(), 401);
        let (event, body) = github.set_state(1, true, "octocat")?;
        assert_eq!(event, "issues");
        let payload: Value = serde_json::from_slice(&body)?;
        assert_eq!(payload["action"], "closed");
        assert_eq!(payload["repository"]["full_name"], "acme/app");
        assert_eq!(github.violations(), Vec::<String>::new());

        // A request the description does not take is a violation.
        let wrong = ask(Method::POST, "repos/acme/app/issues", "token")
            .json(&json!({"body": "no title"}))
            .send()
            .await?;
        assert_eq!(wrong.status().as_u16(), 422);
        assert_eq!(github.violations().len(), 1, "{:?}", github.violations());
        Ok(())
    }
}
