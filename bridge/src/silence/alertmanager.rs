//! Alertmanager's silences API (v2: `POST /api/v2/silences`, `GET /api/v2/silences`,
//! `DELETE /api/v2/silence/{id}`), as a route's `alertmanager_url` reaches it.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use url::Url;

use super::command::Matcher;

/// How long one request may take: the homeserver's transaction waits for it.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why Alertmanager did not do it.
#[derive(Debug, thiserror::Error)]
pub enum AlertmanagerError {
    /// It could not be reached, or did not answer in time.
    #[error("Alertmanager cannot be reached: {0}")]
    Unreachable(String),
    /// It refused, saying why.
    #[error("Alertmanager refused: {0}")]
    Refused(String),
}

/// A silence as Alertmanager lists it (the fields the bridge reads).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Silence {
    /// Its ID.
    pub id: String,
    /// Why it was made: the bridge's carries the event that asked for it.
    #[serde(default)]
    pub comment: String,
    /// When it ends (RFC 3339).
    pub ends_at: String,
    /// `active`, `pending` or `expired`.
    pub status: SilenceStatus,
}

/// Where a silence is in its life.
#[derive(Debug, Clone, Deserialize)]
pub struct SilenceStatus {
    /// `active`, `pending` or `expired`.
    pub state: String,
}

/// One Alertmanager.
#[derive(Debug, Clone)]
pub struct Alertmanager {
    http: reqwest::Client,
    base: Url,
}

impl Alertmanager {
    /// The Alertmanager at `base` (its web address, such as `http://127.0.0.1:9093/`).
    pub fn new(http: reqwest::Client, base: Url) -> Self {
        Self { http, base }
    }

    fn url(&self, path: &str) -> Result<Url, AlertmanagerError> {
        self.base
            .join(path)
            .map_err(|error| AlertmanagerError::Unreachable(error.to_string()))
    }

    /// Makes a silence of `matchers` over `(from, until)` (milliseconds since the Unix epoch),
    /// by `created_by`, saying `comment`; returns its ID.
    pub async fn create(
        &self,
        matchers: &[Matcher],
        (from, until): (u64, u64),
        created_by: &str,
        comment: &str,
    ) -> Result<String, AlertmanagerError> {
        let at = |millis: u64| {
            jiff::Timestamp::from_millisecond(i64::try_from(millis).unwrap_or(i64::MAX))
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        };
        let (now, ends) = (at(from), at(until));
        let matchers: Vec<_> = matchers
            .iter()
            .map(|matcher| {
                json!({
                    "name": matcher.name,
                    "value": matcher.value,
                    "isRegex": matcher.is_regex,
                    "isEqual": matcher.is_equal,
                })
            })
            .collect();
        let body = json!({
            "matchers": matchers,
            "startsAt": now.to_string(),
            "endsAt": ends.to_string(),
            "createdBy": created_by,
            "comment": comment,
        });
        #[derive(Deserialize)]
        struct Created {
            #[serde(rename = "silenceID")]
            silence_id: String,
        }
        let answer = self
            .http
            .post(self.url("api/v2/silences")?)
            .timeout(TIMEOUT)
            .json(&body)
            .send()
            .await;
        let created: Created = read(answer).await?;
        Ok(created.silence_id)
    }

    /// The silences that hold now or later (not expired).
    pub async fn current(&self) -> Result<Vec<Silence>, AlertmanagerError> {
        let answer = self
            .http
            .get(self.url("api/v2/silences")?)
            .timeout(TIMEOUT)
            .send()
            .await;
        let silences: Vec<Silence> = read(answer).await?;
        Ok(silences
            .into_iter()
            .filter(|silence| silence.status.state != "expired")
            .collect())
    }

    /// Whether silence `id` holds now or later (false when it expired or Alertmanager never
    /// had it).
    pub async fn holds(&self, id: &str) -> Result<bool, AlertmanagerError> {
        let answer = self
            .http
            .get(self.url(&format!("api/v2/silence/{id}"))?)
            .timeout(TIMEOUT)
            .send()
            .await
            .map_err(|error| AlertmanagerError::Unreachable(error.to_string()))?;
        if answer.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(false);
        }
        let silence: Silence = read(Ok(answer)).await?;
        Ok(silence.status.state != "expired")
    }

    /// Ends silence `id` now.
    pub async fn expire(&self, id: &str) -> Result<(), AlertmanagerError> {
        let answer = self
            .http
            .delete(self.url(&format!("api/v2/silence/{id}"))?)
            .timeout(TIMEOUT)
            .send()
            .await;
        let answer = answer.map_err(|error| AlertmanagerError::Unreachable(error.to_string()))?;
        if answer.status().is_success() {
            return Ok(());
        }
        Err(refusal(answer).await)
    }
}

/// The JSON of a successful answer, or why there is none.
async fn read<T: for<'de> Deserialize<'de>>(
    answer: Result<reqwest::Response, reqwest::Error>,
) -> Result<T, AlertmanagerError> {
    let answer = answer.map_err(|error| AlertmanagerError::Unreachable(error.to_string()))?;
    if !answer.status().is_success() {
        return Err(refusal(answer).await);
    }
    answer
        .json()
        .await
        .map_err(|error| AlertmanagerError::Refused(format!("an answer not of its API: {error}")))
}

/// What a refusing answer says, in a line.
async fn refusal(answer: reqwest::Response) -> AlertmanagerError {
    let status = answer.status();
    let text = answer.text().await.unwrap_or_default();
    let text = text.trim().trim_matches('"');
    let said: String = text.chars().take(300).collect();
    AlertmanagerError::Refused(format!("{status}: {said}"))
}
