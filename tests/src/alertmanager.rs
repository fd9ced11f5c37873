//! A real Prometheus Alertmanager (Debian's `prometheus-alertmanager`) on loopback, sending its
//! webhooks to a bridge route: its own grouping, payloads and `http_config.authorization`, not a
//! payload a test wrote.

use std::{
    fs,
    net::{Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
};

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};

use crate::{
    process::Supervised,
    synapse::{free_port, scratch_root},
};

/// The program Debian installs.
const BINARY: &str = "/usr/bin/prometheus-alertmanager";

/// An Alertmanager whose one receiver is a webhook.
#[derive(Debug)]
pub struct Alertmanager {
    process: Supervised,
    /// Where its API listens.
    pub http: SocketAddr,
}

impl Alertmanager {
    /// Starts an Alertmanager that sends every alert, grouped by `alertname` and sent at once
    /// (a second's wait), to `webhook` with `Authorization: Bearer <secret>`, resolutions too.
    pub async fn start(webhook: &str, secret: &str) -> Result<Self> {
        Self::start_at(Self::address()?, webhook, secret).await
    }

    /// A free address for an Alertmanager's API, for a bridge that must know it first.
    pub fn address() -> Result<SocketAddr> {
        Ok(SocketAddr::from((
            Ipv4Addr::LOCALHOST,
            free_port(Ipv4Addr::LOCALHOST)?,
        )))
    }

    /// As [`Self::start`], its API at `http`.
    pub async fn start_at(http: SocketAddr, webhook: &str, secret: &str) -> Result<Self> {
        ensure!(
            Path::new(BINARY).exists(),
            "{BINARY} is missing: apt-get install prometheus-alertmanager"
        );
        fs::create_dir_all(scratch_root())?;
        let dir: PathBuf = tempfile::Builder::new()
            .prefix("alertmanager-")
            .tempdir_in(scratch_root())?
            .keep();
        let config = dir.join("alertmanager.yml");
        // YAML takes JSON: the values need no quoting of their own.
        let receiver = json!({
            "route": {
                "receiver": "brigade",
                "group_by": ["alertname"],
                "group_wait": "1s",
                "group_interval": "1s",
                "repeat_interval": "1h",
            },
            "receivers": [{
                "name": "brigade",
                "webhook_configs": [{
                    "url": webhook,
                    "send_resolved": true,
                    "http_config": {"authorization": {"credentials": secret}},
                }],
            }],
        });
        fs::write(&config, serde_json::to_string_pretty(&receiver)?)?;
        let mut process = Supervised::new(
            "alertmanager",
            Path::new(BINARY),
            [
                format!("--config.file={}", config.display()),
                format!("--storage.path={}", dir.join("data").display()),
                format!("--web.listen-address={http}"),
                // No cluster: nothing listens but the API.
                "--cluster.listen-address=".to_owned(),
            ],
            &dir,
            format!("http://{http}/-/ready"),
        );
        process.start(&[]).await?;
        Ok(Self { process, http })
    }

    /// Raises (or, with `ends_at` in the past, resolves) an alert through Alertmanager's API:
    /// `labels` and `annotations` as Prometheus would send them.
    pub async fn post(&self, labels: Value, annotations: Value, resolved: bool) -> Result<()> {
        let mut alert = json!({"labels": labels, "annotations": annotations});
        if resolved {
            let ended = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(1);
            alert["endsAt"] = json!(ended.to_string());
        }
        let answer = reqwest::Client::new()
            .post(format!("http://{}/api/v2/alerts", self.http))
            .json(&json!([alert]))
            .send()
            .await
            .context("posting to Alertmanager")?;
        ensure!(
            answer.status().is_success(),
            "Alertmanager refused the alert: {} {}",
            answer.status(),
            answer.text().await.unwrap_or_default()
        );
        Ok(())
    }

    /// What its API lists at `path` (`silences`, `alerts`): Alertmanager's own view.
    pub async fn list(&self, path: &str) -> Result<Vec<Value>> {
        let answer = reqwest::get(format!("http://{}/api/v2/{path}", self.http))
            .await
            .with_context(|| format!("listing Alertmanager's {path}"))?;
        ensure!(answer.status().is_success(), "{path}: {}", answer.status());
        Ok(answer.json().await?)
    }

    /// What it logged, for a failure's message.
    pub fn log(&self) -> String {
        self.process.log()
    }
}
