//! GitHub's REST API (version `2022-11-28`), and GitHub Enterprise Server's by its base URL:
//! an issue created for a follow-up, found again by its marker, and the `issues` webhook that
//! says it was closed or reopened, signed with `X-Hub-Signature-256`.

use serde::Deserialize;
use serde_json::{json, Value};

use super::model::{NewTicket, TrackerChange, TrackerError};
use crate::{config::Tracker, hooks::auth, store::tickets::Ticket};

/// The API version asked for.
const API_VERSION: &str = "2022-11-28";

/// How long a request may take: one hung connection must not hold every ticket up.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// How far back from a follow-up's taking a ticket made for it is looked for: the tracker's
/// clock may differ from the bridge's.
const FIND_MARGIN_MILLIS: i64 = 60 * 60 * 1000;

/// An issue as GitHub answers it: what the bridge reads of it.
#[derive(Debug, Deserialize)]
struct Issue {
    number: u64,
    html_url: String,
    state: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
}

impl Issue {
    /// The ticket this issue is; its page only if it is a web page's URL.
    fn ticket(self, tracker: &Tracker) -> Result<Ticket, TrackerError> {
        let web = url::Url::parse(&self.html_url)
            .is_ok_and(|url| matches!(url.scheme(), "https" | "http"));
        if !web {
            return Err(TrackerError::Refused(format!(
                "GitHub gave the issue no web page: `{}`",
                self.html_url
            )));
        }
        Ok(Ticket {
            key: format!("{}#{}", tracker.repository, self.number),
            id: self.number.to_string(),
            url: self.html_url,
            closed: self.state == "closed",
            by_name: None,
            changed_at: self.updated_at,
        })
    }
}

fn request(
    http: &reqwest::Client,
    tracker: &Tracker,
    method: reqwest::Method,
    (path, query): (&str, &[(&str, String)]),
) -> Result<reqwest::RequestBuilder, TrackerError> {
    let mut url = tracker
        .url
        .join(path)
        .map_err(|error| TrackerError::Refused(format!("no URL for {path}: {error}")))?;
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Ok(http
        .request(method, url)
        .timeout(TIMEOUT)
        .bearer_auth(tracker.token.expose())
        .header(reqwest::header::ACCEPT, "application/vnd.github+json")
        .header("X-GitHub-Api-Version", API_VERSION)
        .header(reqwest::header::USER_AGENT, "brigade-bridge"))
}

/// What GitHub's answer means: its JSON, or why not, worth another try or not.
async fn answer(response: reqwest::Response) -> Result<Value, TrackerError> {
    let status = response.status();
    // A primary rate limit says none remain; a secondary one says when to come back.
    let headers = response.headers();
    let limited = headers
        .get("x-ratelimit-remaining")
        .is_some_and(|remaining| remaining == "0")
        || headers.contains_key(reqwest::header::RETRY_AFTER);
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(body);
    }
    let message = body["message"].as_str().unwrap_or("no message").to_owned();
    let said = format!("GitHub answered {}: {message}", status.as_u16());
    // Rate limits answer 403 or 429 and pass; so do GitHub's own failures.
    if status.is_server_error() || status.as_u16() == 429 || (status.as_u16() == 403 && limited) {
        Err(TrackerError::Unavailable(said))
    } else {
        Err(TrackerError::Refused(said))
    }
}

/// Creates the issue `new` in `tracker`'s repository.
pub async fn create(
    http: &reqwest::Client,
    tracker: &Tracker,
    new: &NewTicket,
) -> Result<Ticket, TrackerError> {
    let mut body = json!({
        "title": new.title,
        "body": new.body,
    });
    if !tracker.labels.is_empty() {
        body["labels"] = json!(tracker.labels);
    }
    if let Some(assignee) = &new.assignee {
        body["assignees"] = json!([assignee]);
    }
    let path = format!("repos/{}/issues", tracker.repository);
    let sent = request(http, tracker, reqwest::Method::POST, (&path, &[]))?
        .json(&body)
        .send()
        .await
        .map_err(unreachable)?;
    let issue: Issue = serde_json::from_value(answer(sent).await?)
        .map_err(|error| TrackerError::Unavailable(format!("GitHub's issue: {error}")))?;
    issue.ticket(tracker)
}

/// The issue whose body holds `marker`, among those updated since `since` (milliseconds since
/// the Unix epoch): one created for the follow-up by a request whose answer was lost.
pub async fn find(
    http: &reqwest::Client,
    tracker: &Tracker,
    marker: &str,
    since: u64,
) -> Result<Option<Ticket>, TrackerError> {
    let since = i64::try_from(since).unwrap_or(0) - FIND_MARGIN_MILLIS;
    let since = jiff::Timestamp::from_millisecond(since).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let path = format!("repos/{}/issues", tracker.repository);
    // Not by label: GitHub drops the labels of a token that may not set them, and people
    // change them.
    let base = vec![
        ("state", "all".to_owned()),
        ("since", since.to_string()),
        ("sort", "created".to_owned()),
        ("direction", "desc".to_owned()),
        ("per_page", "100".to_owned()),
    ];
    for page in 1..=10 {
        let mut query = base.clone();
        query.push(("page", page.to_string()));
        let sent = request(http, tracker, reqwest::Method::GET, (&path, &query))?
            .send()
            .await
            .map_err(unreachable)?;
        let issues: Vec<Issue> = serde_json::from_value(answer(sent).await?)
            .map_err(|error| TrackerError::Unavailable(format!("GitHub's issues: {error}")))?;
        let last = issues.len() < 100;
        if let Some(issue) = issues.into_iter().find(|issue| {
            issue
                .body
                .as_deref()
                .is_some_and(|body| body.contains(marker))
        }) {
            return issue.ticket(tracker).map(Some);
        }
        if last {
            break;
        }
    }
    Ok(None)
}

fn unreachable(error: reqwest::Error) -> TrackerError {
    // Said in the room: without the URL (an Enterprise Server's is internal); never the token.
    let why = if error.is_timeout() {
        "no answer in time".to_owned()
    } else {
        error.without_url().to_string()
    };
    TrackerError::Unavailable(format!("GitHub did not answer: {why}"))
}

/// Why a webhook delivery is not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unread {
    /// It is not signed with the tracker's secret.
    Unsigned(&'static str),
    /// Signed, but not what the tracker sends.
    Malformed(&'static str),
}

/// What a webhook delivery of GitHub's says: a ticket closed or reopened, or nothing for the
/// bridge. `Err` when it is not signed with `secret` or does not parse.
pub fn webhook(
    tracker: &Tracker,
    secret: &str,
    (event, signature): (Option<&str>, Option<&str>),
    body: &[u8],
) -> Result<Option<TrackerChange>, Unread> {
    let signature = signature
        .and_then(|value| value.strip_prefix("sha256="))
        .ok_or(Unread::Unsigned(
            "missing `X-Hub-Signature-256: sha256=<hex>`",
        ))?;
    auth::verify_hmac(secret, &[body], signature).map_err(|error| Unread::Unsigned(error.0))?;
    if event != Some("issues") {
        return Ok(None);
    }
    let malformed = Unread::Malformed;
    let payload: Value =
        serde_json::from_slice(body).map_err(|_| malformed("the body is not JSON"))?;
    let closed = match payload["action"].as_str() {
        Some("closed") => true,
        Some("reopened") => false,
        _ => return Ok(None),
    };
    let number = payload["issue"]["number"]
        .as_u64()
        .ok_or(malformed("no `issue.number`"))?;
    let repository = payload["repository"]["full_name"]
        .as_str()
        .ok_or(malformed("no `repository.full_name`"))?;
    if !repository.eq_ignore_ascii_case(&tracker.repository) {
        return Ok(None);
    }
    let issue = &payload["issue"];
    Ok(Some(TrackerChange {
        key: format!("{}#{number}", tracker.repository),
        closed,
        by_name: payload["sender"]["login"].as_str().map(str::to_owned),
        at: issue["updated_at"].as_str().map(str::to_owned),
        id: number.to_string(),
        url: issue["html_url"].as_str().unwrap_or_default().to_owned(),
        marked: issue["body"].as_str().and_then(super::text::marked),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_of_githubs_documentation_is_verified() {
        // "Validating webhook deliveries": this secret and payload give this signature.
        let secret = "It's a Secret to Everybody";
        let signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        let tracker = crate::testing::config(
            "[tickets]\nbot = \"@brigade:example.org\"\n[[trackers]]\nname = \"github\"\nkind = \"github\"\nrepository = \"acme/app\"\ntoken = \"t\"\n",
        )
        .tickets
        .trackers
        .remove(0);
        assert_eq!(
            webhook(
                &tracker,
                secret,
                (Some("ping"), Some(signature)),
                b"Hello, World!"
            ),
            Ok(None),
            "signed, and not about an issue"
        );
        assert_eq!(
            webhook(
                &tracker,
                "another secret",
                (Some("ping"), Some(signature)),
                b"Hello, World!"
            ),
            Err(Unread::Unsigned("the signature does not match the body"))
        );
        assert_eq!(
            webhook(&tracker, secret, (Some("ping"), None), b"Hello, World!"),
            Err(Unread::Unsigned(
                "missing `X-Hub-Signature-256: sha256=<hex>`"
            ))
        );
    }
}
