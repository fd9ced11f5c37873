//! The alert list Alertmanager's webhook carries, which Grafana's carries too: `alerts`, each with
//! `status`, `labels`, `annotations` and a `fingerprint` (made from the labels when missing).

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::alert::{
    bounded_fingerprint, label, link, severity_word, Alert, AlertStatus, PayloadError,
};

/// Alertmanager and Grafana: `alerts`, each with `status`, `labels`, `annotations` and a
/// `fingerprint` (made from the labels when missing).
pub fn grouped(json: &Value, what: &str) -> Result<Vec<Alert>, PayloadError> {
    let alerts = json["alerts"]
        .as_array()
        .ok_or_else(|| PayloadError::new(format!("not a {what} webhook: no `alerts` list")))?;
    alerts
        .iter()
        .enumerate()
        .map(|(index, alert)| {
            let status = match alert["status"].as_str() {
                Some("firing") => AlertStatus::Firing,
                Some("resolved") => AlertStatus::Resolved,
                _ => {
                    return Err(PayloadError::new(format!(
                        "alerts[{index}].status must be \"firing\" or \"resolved\""
                    )))
                }
            };
            let labels: BTreeMap<String, String> =
                serde_json::from_value(alert["labels"].clone()).map_err(|_| {
                    PayloadError::new(format!("alerts[{index}].labels must map names to strings"))
                })?;
            let text = |field: &str| alert["annotations"][field].as_str().map(str::to_owned);
            let title = text("summary")
                .or_else(|| labels.get("alertname").cloned())
                .ok_or_else(|| {
                    PayloadError::new(format!(
                        "alerts[{index}] has neither an `alertname` label nor a `summary` annotation"
                    ))
                })?;
            let fingerprint = match alert["fingerprint"].as_str() {
                Some(fingerprint) if !fingerprint.is_empty() => fingerprint.to_owned(),
                _ => label_fingerprint(&labels),
            };
            Ok(Alert {
                fingerprint: bounded_fingerprint(fingerprint),
                status,
                title,
                severity: labels.get("severity").and_then(|word| severity_word(word)),
                body: text("description").unwrap_or_default(),
                link: alert["generatorURL"].as_str().and_then(link),
                component: labels.get("component").and_then(|value| label(value)),
                impact: labels.get("impact").and_then(|value| label(value)),
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
