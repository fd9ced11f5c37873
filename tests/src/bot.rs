//! The bot under test, run as its own process so tests can kill it (`kill -9`) and start it
//! again on the same storage.

use std::{
    fs,
    net::{Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
};

use anyhow::{bail, Context, Result};

use crate::{
    synapse::{free_port, random_string, Homeserver},
    wait::wait_for,
};

/// A bot user with its configuration and storage, started and stopped at will.
#[derive(Debug)]
pub struct BotProcess {
    /// The bot's user ID.
    pub user_id: String,
    /// Where `/healthz` and `/metrics` listen.
    pub http: SocketAddr,
    /// The configuration file.
    pub config: PathBuf,
    /// The bot's directory (storage and log).
    pub dir: PathBuf,
    /// What the bot's standard room aliases start with (`#PREFIX-incidents:…`, `-triage`,
    /// `-announce`, `-postmortems`, `-archive`): bots sharing a homeserver in the tests each get their own.
    pub rooms_prefix: String,
    binary: PathBuf,
    child: Option<Child>,
    starts: u32,
}

impl BotProcess {
    /// Registers a fresh bot user on `homeserver` and writes its configuration, adding `extra`
    /// (TOML sections) to the minimal keys. Not started yet.
    pub async fn new(binary: &Path, homeserver: &Homeserver, extra: &str) -> Result<Self> {
        let localpart = format!("brigade-{}", random_string(6).to_lowercase());
        Self::named(binary, homeserver, &localpart, extra).await
    }

    /// Like [`Self::new`], as the user `localpart`: for configurations that must name the bot
    /// before it exists.
    pub async fn named(
        binary: &Path,
        homeserver: &Homeserver,
        localpart: &str,
        extra: &str,
    ) -> Result<Self> {
        let localpart = localpart.to_owned();
        let password = random_string(16);
        let user_id = homeserver.register(&localpart, &password, false).await?;
        let root = crate::synapse::workspace_root()
            .join("target")
            .join("brigade-e2e");
        fs::create_dir_all(&root)?;
        let dir = tempfile::Builder::new()
            .prefix("bot-")
            .tempdir_in(root)?
            .keep();
        let http = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port(Ipv4Addr::LOCALHOST)?));
        fs::write(dir.join("password"), format!("{password}\n"))?;
        let config = dir.join("bot.toml");
        fs::write(
            &config,
            format!(
                "[matrix]\nhomeserver_url = \"{}\"\nuser_id = \"{user_id}\"\npassword_file = \"{}\"\n\
                 [storage]\npath = \"{}\"\n[http]\nlisten = \"{http}\"\n\
                 [rooms]\nspace = \"{localpart}-incidents\"\ntriage = \"{localpart}-triage\"\n\
                 announcements = \"{localpart}-announce\"\npostmortems = \"{localpart}-postmortems\"\n\
                 archive = \"{localpart}-archive\"\n\
                 {extra}\n",
                homeserver.url,
                dir.join("password").display(),
                dir.join("data").display(),
            ),
        )?;
        Ok(Self {
            user_id,
            http,
            config,
            dir,
            rooms_prefix: localpart,
            binary: binary.to_owned(),
            child: None,
            starts: 0,
        })
    }

    /// Starts the bot process and waits until `/healthz` says it has synced.
    pub async fn start(&mut self) -> Result<()> {
        self.start_with_env(&[]).await
    }

    /// Starts the bot with extra environment variables (such as `FAILPOINTS`).
    pub async fn start_with_env(&mut self, env: &[(&str, &str)]) -> Result<()> {
        if self.child.is_some() {
            bail!("the bot is already running");
        }
        self.starts += 1;
        let log = fs::File::create(self.dir.join(format!("bot-{}.log", self.starts)))?;
        let child = Command::new(&self.binary)
            .arg("--config")
            .arg(&self.config)
            .env(
                "RUST_LOG",
                format!("{},brigade_bot=debug", brigade_bot::cli::DEFAULT_LOG_FILTER),
            )
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.binary.display()))?;
        self.child = Some(child);
        let url = format!("http://{}/healthz", self.http);
        wait_for("the bot to report healthy", || async {
            let response = reqwest::get(&url).await.ok()?;
            response.status().is_success().then_some(())
        })
        .await
        .with_context(|| format!("bot log: {}", self.log()))
    }

    /// Stops the bot with SIGKILL, as a crash would.
    pub fn kill(&mut self) -> Result<()> {
        let mut child = self.child.take().context("the bot is not running")?;
        child.kill()?;
        child.wait()?;
        Ok(())
    }

    /// Stops the bot with SIGTERM and returns how it exited.
    pub async fn terminate(&mut self) -> Result<ExitStatus> {
        let child = self.child.take().context("the bot is not running")?;
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()?;
        if !status.success() {
            bail!("kill -TERM failed");
        }
        wait_for_exit(child, "the bot to exit after SIGTERM").await
    }

    /// Deletes everything the bot stored (its sled store and its Matrix session and store), as
    /// when a bot's disk is lost; the bot must be stopped.
    pub fn wipe_store(&self) -> Result<()> {
        if self.child.is_some() {
            bail!("stop the bot before wiping its store");
        }
        fs::remove_dir_all(self.dir.join("data"))?;
        Ok(())
    }

    /// Freezes the running bot (SIGSTOP): events pile up for it meanwhile.
    pub fn pause(&self) -> Result<()> {
        self.signal("-STOP")
    }

    /// Lets a frozen bot run on (SIGCONT).
    pub fn resume(&self) -> Result<()> {
        self.signal("-CONT")
    }

    fn signal(&self, name: &str) -> Result<()> {
        let pid = self.pid().context("the bot is not running")?;
        let status = Command::new("kill")
            .arg(name)
            .arg(pid.to_string())
            .status()?;
        if !status.success() {
            bail!("kill {name} {pid} failed");
        }
        Ok(())
    }

    /// The running bot's process ID.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The running bot's resident memory in KiB, from `/proc`.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Waits for the bot to exit on its own (a crash) and returns how it exited.
    pub async fn wait_exit(&mut self) -> Result<ExitStatus> {
        let child = self.child.take().context("the bot is not running")?;
        wait_for_exit(child, "the bot to exit").await
    }

    /// What the bot logged in its latest run.
    pub fn last_log(&self) -> String {
        fs::read_to_string(self.dir.join(format!("bot-{}.log", self.starts))).unwrap_or_default()
    }

    /// Everything the bot logged so far, for failure messages.
    pub fn log(&self) -> String {
        (1..=self.starts)
            .map(|start| {
                fs::read_to_string(self.dir.join(format!("bot-{start}.log"))).unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n--- restart ---\n")
    }

    /// A GET on the bot's HTTP server: status and body.
    pub async fn get(&self, path: &str) -> Result<(u16, String)> {
        let response = reqwest::get(format!("http://{}{path}", self.http)).await?;
        Ok((response.status().as_u16(), response.text().await?))
    }
}

/// Waits for `child` to exit; kills it if it does not within the deadline.
async fn wait_for_exit(mut child: Child, what: &str) -> Result<ExitStatus> {
    let exited = wait_for(what, || {
        let exited = child.try_wait().ok().flatten();
        async move { exited }
    })
    .await;
    if exited.is_err() {
        let _ = child.kill();
        let _ = child.wait();
    }
    exited
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
