//! Alerts as the bridge keeps them, read from each source's webhook payload, and each source's
//! authentication. Pure: no I/O.

use std::{collections::BTreeMap, fmt};

use brigade_core::incident::Severity;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What sends alerts to a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Prometheus Alertmanager, webhook version 4.
    Alertmanager,
    /// Grafana alerting.
    Grafana,
    /// PagerDuty webhooks v3.
    Pagerduty,
    /// Brigade's own signed JSON.
    Generic,
}

impl Source {
    /// Every source, as routes name them.
    pub const ALL: [Self; 4] = [
        Self::Alertmanager,
        Self::Grafana,
        Self::Pagerduty,
        Self::Generic,
    ];

    /// The name in `/hooks/<source>/…` and in the virtual user `@alert_<source>`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Alertmanager => "alertmanager",
            Self::Grafana => "grafana",
            Self::Pagerduty => "pagerduty",
            Self::Generic => "generic",
        }
    }

    /// The display name of its virtual user.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Alertmanager => "Alertmanager",
            Self::Grafana => "Grafana",
            Self::Pagerduty => "PagerDuty",
            Self::Generic => "Alerts",
        }
    }

    /// The source named `name` in a URL.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|source| source.name() == name)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

pub use brigade_core::events::AlertStatus;

/// One alert, whatever sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// What identifies it across repeats.
    pub fingerprint: String,
    /// Firing or resolved.
    pub status: AlertStatus,
    /// One line.
    pub title: String,
    /// How bad, when the source says.
    pub severity: Option<Severity>,
    /// More, when the source says.
    pub body: String,
}

/// Why a payload is not one the route takes: answered 400 with this text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PayloadError(String);

fn bad(text: impl Into<String>) -> PayloadError {
    PayloadError(text.into())
}

/// Why a request is not let in: answered 401 with this text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AuthError(&'static str);

/// Checks a request to a route of `source` with `secret`: `authorization` and `signature` are
/// the headers that carry the proof (Authorization; X-Brigade-Signature or
/// X-PagerDuty-Signature).
pub fn authenticate(
    source: Source,
    secret: &str,
    authorization: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> Result<(), AuthError> {
    match source {
        Source::Alertmanager | Source::Grafana => {
            let token = authorization
                .and_then(|value| value.strip_prefix("Bearer "))
                .ok_or(AuthError("missing `Authorization: Bearer <secret>`"))?;
            if bool::from(token.as_bytes().ct_eq(secret.as_bytes())) {
                Ok(())
            } else {
                Err(AuthError("wrong bearer token"))
            }
        }
        Source::Generic => {
            let given = signature
                .and_then(|value| value.strip_prefix("sha256="))
                .ok_or(AuthError("missing `X-Brigade-Signature: sha256=<hex>`"))?;
            verify_hmac(secret, body, given)
        }
        // `v1=<hex>`, several comma-separated while PagerDuty rotates its secret.
        Source::Pagerduty => {
            let header = signature.ok_or(AuthError("missing `X-PagerDuty-Signature`"))?;
            let matched = header
                .split(',')
                .filter_map(|part| part.trim().strip_prefix("v1="))
                .any(|given| verify_hmac(secret, body, given).is_ok());
            if matched {
                Ok(())
            } else {
                Err(AuthError("no `v1=` signature matches the body"))
            }
        }
    }
}

fn verify_hmac(secret: &str, body: &[u8], given_hex: &str) -> Result<(), AuthError> {
    let given = hex::decode(given_hex).map_err(|_| AuthError("the signature is not hex"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|_| AuthError("unusable secret"))?;
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| AuthError("the signature does not match the body"))
}

/// The alerts in `body`, a payload of `source`.
pub fn parse(source: Source, body: &[u8]) -> Result<Vec<Alert>, PayloadError> {
    let json: Value = serde_json::from_slice(body)
        .map_err(|error| bad(format!("the body is not JSON: {error}")))?;
    match source {
        Source::Alertmanager => {
            if json["version"] != "4" {
                return Err(bad("not an Alertmanager webhook: `version` must be \"4\""));
            }
            grouped(&json, "Alertmanager")
        }
        Source::Grafana => {
            if !json["orgId"].is_number() {
                return Err(bad("not a Grafana alerting webhook: no numeric `orgId`"));
            }
            grouped(&json, "Grafana")
        }
        Source::Pagerduty => pagerduty(&json),
        Source::Generic => generic(json),
    }
}

/// Alertmanager and Grafana: `alerts`, each with `status`, `labels`, `annotations` and a
/// `fingerprint` (made from the labels when missing).
fn grouped(json: &Value, what: &str) -> Result<Vec<Alert>, PayloadError> {
    let alerts = json["alerts"]
        .as_array()
        .ok_or_else(|| bad(format!("not a {what} webhook: no `alerts` list")))?;
    alerts
        .iter()
        .enumerate()
        .map(|(index, alert)| {
            let status = match alert["status"].as_str() {
                Some("firing") => AlertStatus::Firing,
                Some("resolved") => AlertStatus::Resolved,
                _ => {
                    return Err(bad(format!(
                        "alerts[{index}].status must be \"firing\" or \"resolved\""
                    )))
                }
            };
            let labels: BTreeMap<String, String> =
                serde_json::from_value(alert["labels"].clone()).map_err(|_| {
                    bad(format!("alerts[{index}].labels must map names to strings"))
                })?;
            let text = |field: &str| alert["annotations"][field].as_str().map(str::to_owned);
            let title = text("summary")
                .or_else(|| labels.get("alertname").cloned())
                .ok_or_else(|| {
                    bad(format!(
                        "alerts[{index}] has neither an `alertname` label nor a `summary` annotation"
                    ))
                })?;
            let fingerprint = match alert["fingerprint"].as_str() {
                Some(fingerprint) if !fingerprint.is_empty() => fingerprint.to_owned(),
                _ => label_fingerprint(&labels),
            };
            Ok(Alert {
                fingerprint,
                status,
                title,
                severity: labels.get("severity").and_then(|word| severity_word(word)),
                body: text("description").unwrap_or_default(),
            })
        })
        .collect()
}

fn label_fingerprint(labels: &BTreeMap<String, String>) -> String {
    let mut digest = Sha256::new();
    for (name, value) in labels {
        digest.update(name.as_bytes());
        digest.update([0]);
        digest.update(value.as_bytes());
        digest.update([0]);
    }
    hex::encode(&digest.finalize()[..8])
}

/// `critical` and friends as severities; `SEV2` and `2` as themselves.
fn severity_word(word: &str) -> Option<Severity> {
    match word.trim().to_ascii_lowercase().as_str() {
        "critical" | "page" | "p1" | "emergency" => Some(Severity::Sev1),
        "error" | "major" | "high" | "p2" => Some(Severity::Sev2),
        "warning" | "minor" | "medium" | "p3" => Some(Severity::Sev3),
        "info" | "low" | "p4" | "p5" => Some(Severity::Sev4),
        other => other.parse().ok(),
    }
}

/// PagerDuty v3: one `event` about one incident.
fn pagerduty(json: &Value) -> Result<Vec<Alert>, PayloadError> {
    let event = &json["event"];
    let kind = event["event_type"]
        .as_str()
        .ok_or_else(|| bad("not a PagerDuty v3 webhook: no `event.event_type`"))?;
    let data = &event["data"];
    let id = data["id"]
        .as_str()
        .ok_or_else(|| bad("not a PagerDuty v3 webhook: no `event.data.id`"))?;
    let status = if kind == "incident.resolved" {
        AlertStatus::Resolved
    } else {
        AlertStatus::Firing
    };
    let severity = data["priority"]["summary"]
        .as_str()
        .and_then(severity_word)
        .or_else(|| match data["urgency"].as_str() {
            Some("high") => Some(Severity::Sev2),
            Some("low") => Some(Severity::Sev3),
            _ => None,
        });
    Ok(vec![Alert {
        fingerprint: id.to_owned(),
        status,
        title: data["title"].as_str().unwrap_or(id).to_owned(),
        severity,
        body: data["html_url"].as_str().unwrap_or_default().to_owned(),
    }])
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Generic {
    title: String,
    severity: Option<String>,
    #[serde(default)]
    body: String,
    fingerprint: Option<String>,
    status: Option<AlertStatus>,
}

/// `{"title", "severity", "body", "fingerprint", "status"}`.
fn generic(json: Value) -> Result<Vec<Alert>, PayloadError> {
    let generic: Generic = serde_json::from_value(json).map_err(|error| {
        bad(format!(
            "not a generic alert ({{\"title\", \"severity\", \"body\", \"fingerprint\", \"status\"}}): {error}"
        ))
    })?;
    if generic.title.trim().is_empty() {
        return Err(bad("`title` is empty"));
    }
    let severity = match generic.severity {
        None => None,
        Some(word) => {
            Some(severity_word(&word).ok_or_else(|| bad(format!("unknown severity `{word}`")))?)
        }
    };
    let fingerprint = generic
        .fingerprint
        .unwrap_or_else(|| hex::encode(&Sha256::digest(generic.title.as_bytes())[..8]));
    Ok(vec![Alert {
        fingerprint,
        status: generic.status.unwrap_or(AlertStatus::Firing),
        title: generic.title,
        severity,
        body: generic.body,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("a key");
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn each_source_proves_itself_its_own_way() {
        let body = br#"{"title":"x"}"#;
        let bearer = |value| authenticate(Source::Alertmanager, "s3cret", value, None, body);
        assert_eq!(bearer(Some("Bearer s3cret")), Ok(()));
        assert!(bearer(Some("Bearer wrong")).is_err());
        assert!(bearer(None).is_err());
        let signed = format!("sha256={}", sign("key", body));
        assert_eq!(
            authenticate(Source::Generic, "key", None, Some(&signed), body),
            Ok(())
        );
        assert!(authenticate(Source::Generic, "key", None, Some(&signed), b"{}").is_err());
        let rotated = format!("v1=00ff, v1={}", sign("pd", body));
        assert_eq!(
            authenticate(Source::Pagerduty, "pd", None, Some(&rotated), body),
            Ok(())
        );
        assert!(authenticate(Source::Pagerduty, "pd", None, Some("v1=00"), body).is_err());
    }

    #[test]
    fn alertmanager_alerts_are_read_with_their_fingerprints() {
        let body = br#"{"version":"4","status":"firing","alerts":[
            {"status":"firing","labels":{"alertname":"DiskFull","severity":"critical"},
             "annotations":{"summary":"Disk full on db1","description":"98%"},"fingerprint":"abc"},
            {"status":"resolved","labels":{"alertname":"Slow"},"annotations":{}}]}"#;
        let alerts = parse(Source::Alertmanager, body).expect("valid");
        assert_eq!(alerts[0].fingerprint, "abc");
        assert_eq!(alerts[0].title, "Disk full on db1");
        assert_eq!(alerts[0].severity, Some(Severity::Sev1));
        assert_eq!(alerts[1].status, AlertStatus::Resolved);
        assert_eq!(alerts[1].title, "Slow");
        assert_eq!(alerts[1].fingerprint.len(), 16, "made from the labels");
    }

    #[test]
    fn payloads_of_another_source_are_named_as_such() {
        let grafana = br#"{"orgId":1,"alerts":[]}"#;
        let error = parse(Source::Alertmanager, grafana).expect_err("not alertmanager");
        assert!(
            error.to_string().contains("`version` must be \"4\""),
            "{error}"
        );
        let error = parse(Source::Generic, br#"{"severity":"SEV1"}"#).expect_err("no title");
        assert!(
            error.to_string().contains("missing field `title`"),
            "{error}"
        );
        let error = parse(Source::Generic, b"{not json").expect_err("not JSON");
        assert!(
            error.to_string().starts_with("the body is not JSON"),
            "{error}"
        );
        let error = parse(Source::Pagerduty, br#"{"messages":[]}"#).expect_err("v2");
        assert!(error.to_string().contains("event.event_type"), "{error}");
    }

    #[test]
    fn generic_and_pagerduty_alerts() {
        let alerts = parse(
            Source::Generic,
            br#"{"title":"Queue stuck","severity":"sev2","fingerprint":"q","status":"resolved"}"#,
        )
        .expect("valid");
        assert_eq!(alerts[0].severity, Some(Severity::Sev2));
        assert_eq!(alerts[0].status, AlertStatus::Resolved);
        let alerts = parse(
            Source::Pagerduty,
            br#"{"event":{"event_type":"incident.triggered","data":{"id":"P1","title":"API down","urgency":"high"}}}"#,
        )
        .expect("valid");
        assert_eq!(
            (alerts[0].fingerprint.as_str(), alerts[0].severity),
            ("P1", Some(Severity::Sev2))
        );
    }
}
