//! A real browser for the pages: Debian's Chromium, headless, driven over WebDriver by
//! `chromedriver` (Debian's `chromium-driver`) through fantoccini. Each browser has a fresh
//! profile and is stopped with the test; screenshots go to `target/screenshots/`.

use std::{
    net::Ipv4Addr,
    path::PathBuf,
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::process::{Child, Command};

use crate::{
    client::TestUser,
    synapse::{free_port, workspace_root},
};

/// The flags that keep Chromium headless and quiet on a closed network.
const FLAGS: [&str; 10] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1100,1000",
];

/// A headless Chromium and its driver.
#[derive(Debug)]
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts `chromedriver` on a free port and opens a Chromium session through it.
    pub async fn start() -> Result<Self> {
        Self::start_with(&[]).await
    }

    /// Like [`Self::start`], with the browser preferring a dark colour scheme, as a person's
    /// system set to dark does (for pages that follow `prefers-color-scheme` alone).
    pub async fn start_dark() -> Result<Self> {
        Self::start_with(&[
            "--force-dark-mode",
            "--blink-settings=preferredColorScheme=0",
        ])
        .await
    }

    async fn start_with(extra: &[&str]) -> Result<Self> {
        let port = free_port(Ipv4Addr::LOCALHOST)?;
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting chromedriver (Debian's chromium-driver)")?;
        let profile = tempfile::tempdir()?;
        let mut args: Vec<String> = FLAGS
            .iter()
            .chain(extra)
            .map(|&flag| flag.to_owned())
            .collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let capabilities = json!({
            "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": args },
        });
        let capabilities = match capabilities {
            serde_json::Value::Object(map) => map,
            _ => bail!("capabilities are an object"),
        };
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            match ClientBuilder::rustls()?
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(error) if started.elapsed() < Duration::from_secs(30) => {
                    tracing::debug!(%error, "chromedriver not ready yet");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => return Err(error).context("connecting to chromedriver"),
            }
        };
        Ok(Self {
            client,
            driver,
            _profile: profile,
        })
    }

    /// Waits for the element `css` and returns it.
    pub async fn find(&self, css: &str) -> Result<fantoccini::elements::Element> {
        self.client
            .wait()
            .at_most(crate::wait::DEADLINE)
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("waiting for {css}"))
    }

    /// Types `text` into the field `css`, replacing what it held.
    pub async fn fill(&self, css: &str, text: &str) -> Result<()> {
        let field = self.find(css).await?;
        field.clear().await?;
        field.send_keys(text).await?;
        Ok(())
    }

    /// Signs `user` in on the page open, with the username alone (their homeserver is the
    /// form's first), and waits for `ready` on the signed-in page.
    pub async fn sign_in(&self, user: &TestUser, ready: &str) -> Result<()> {
        self.find("#signin").await?;
        self.fill("#user", user.user_id.localpart()).await?;
        self.fill("#password", &user.password).await?;
        self.find("#signin button[type=submit]")
            .await?
            .click()
            .await?;
        if let Err(error) = self.find(ready).await {
            // What the sign-in said, if it failed.
            let said = match self.client.find(Locator::Css("#signin-status")).await {
                Ok(status) => status.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            return Err(error.context(format!(
                "signing in as {} at {} (the page says: {said:?})",
                user.user_id,
                self.client.current_url().await?
            )));
        }
        Ok(())
    }

    /// Signs the person out with the page's button and waits for the sign-in form it leads
    /// to: a page opened before that might still show them signed in.
    pub async fn sign_out(&self) -> Result<()> {
        self.find("form[action='/session/end'] button")
            .await?
            .click()
            .await?;
        self.find("#signin").await?;
        Ok(())
    }

    /// The visible text of the page.
    pub async fn text(&self) -> Result<String> {
        Ok(self.find("body").await?.text().await?)
    }

    /// Saves the whole page, as tall as it is, as `target/screenshots/<name>.png` and returns
    /// the path.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let height = self
            .client
            .execute("return document.documentElement.scrollHeight;", Vec::new())
            .await?
            .as_u64()
            .unwrap_or(1000);
        let height = u32::try_from(height.clamp(600, 6000)).unwrap_or(1000);
        self.client.set_window_size(1100, height + 140).await?;
        let dir = workspace_root().join("target").join("screenshots");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, self.client.screenshot().await?)?;
        Ok(path)
    }

    /// Ends the session and stops the driver (and with it the browser).
    pub async fn stop(mut self) -> Result<()> {
        self.client.close().await?;
        self.driver.kill().await?;
        Ok(())
    }
}
