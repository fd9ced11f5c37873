//! The bot under test, run as its own process so tests can kill it (`kill -9`) and start it
//! again on the same storage.

use std::{
    ffi::OsString,
    fs,
    net::{Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
    process::ExitStatus,
};

use anyhow::{bail, Result};

use crate::{
    process::Supervised,
    synapse::{free_port, random_string, Homeserver},
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
    process: Supervised,
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
                 archive = \"{localpart}-archive\"\nprivate_triage = \"{localpart}-triage-private\"\n\
                 {extra}\n",
                homeserver.url,
                dir.join("password").display(),
                dir.join("data").display(),
            ),
        )?;
        let process = Supervised::new(
            "bot",
            binary,
            [OsString::from("--config"), config.clone().into()],
            &dir,
            format!("http://{http}/healthz"),
        );
        Ok(Self {
            user_id,
            http,
            config,
            dir,
            rooms_prefix: localpart,
            process,
        })
    }

    /// Starts the bot process and waits until `/healthz` says it has synced.
    pub async fn start(&mut self) -> Result<()> {
        self.start_with_env(&[]).await
    }

    /// Starts the bot with extra environment variables (such as `FAILPOINTS`).
    pub async fn start_with_env(&mut self, env: &[(&str, &str)]) -> Result<()> {
        let filter = format!("{},brigade_bot=debug", brigade_bot::cli::DEFAULT_LOG_FILTER);
        let mut all = vec![("RUST_LOG", filter.as_str())];
        all.extend_from_slice(env);
        self.process.start(&all).await
    }

    /// Starts the bot without waiting for it to be healthy: for starts that must fail.
    pub fn spawn(&mut self) -> Result<()> {
        self.process.spawn(&[])
    }

    /// Stops the bot with SIGKILL, as a crash would.
    pub fn kill(&mut self) -> Result<()> {
        self.process.kill()
    }

    /// Stops the bot with SIGTERM and returns how it exited.
    pub async fn terminate(&mut self) -> Result<ExitStatus> {
        self.process.terminate().await
    }

    /// Deletes everything the bot stored (its sled store and its Matrix session and store), as
    /// when a bot's disk is lost; the bot must be stopped.
    pub fn wipe_store(&self) -> Result<()> {
        if self.process.is_running() {
            bail!("stop the bot before wiping its store");
        }
        fs::remove_dir_all(self.dir.join("data"))?;
        Ok(())
    }

    /// Points the stopped bot at the homeserver URL `url` (a proxy in front of it, say) for
    /// its next start.
    pub fn use_homeserver_url(&self, url: &str) -> Result<()> {
        if self.process.is_running() {
            bail!("stop the bot before pointing it elsewhere");
        }
        let config = fs::read_to_string(&self.config)?;
        let config: String = config
            .lines()
            .map(|line| {
                if line.starts_with("homeserver_url = ") {
                    format!("homeserver_url = \"{url}\"\n")
                } else {
                    format!("{line}\n")
                }
            })
            .collect();
        fs::write(&self.config, config)?;
        Ok(())
    }

    /// The bot's own sled database (`brigade.sled` under `storage.path`), to open while the bot
    /// is stopped.
    pub fn store_dir(&self) -> PathBuf {
        self.dir.join("data").join("brigade.sled")
    }

    /// Freezes the running bot (SIGSTOP): events pile up for it meanwhile.
    pub fn pause(&self) -> Result<()> {
        self.process.signal("-STOP")
    }

    /// Lets a frozen bot run on (SIGCONT).
    pub fn resume(&self) -> Result<()> {
        self.process.signal("-CONT")
    }

    /// The running bot's process ID.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// The running bot's resident memory in KiB, from `/proc`.
    pub fn rss_kib(&self) -> Option<u64> {
        self.process.memory_kib("VmRSS")
    }

    /// Waits for the bot to exit on its own (a crash) and returns how it exited.
    pub async fn wait_exit(&mut self) -> Result<ExitStatus> {
        self.process.wait_exit().await
    }

    /// What the bot logged in its latest run.
    pub fn last_log(&self) -> String {
        self.process.last_log()
    }

    /// Everything the bot logged so far, for failure messages.
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// A GET on the bot's HTTP server: status and body.
    pub async fn get(&self, path: &str) -> Result<(u16, String)> {
        let response = reqwest::get(format!("http://{}{path}", self.http)).await?;
        Ok((response.status().as_u16(), response.text().await?))
    }
}
