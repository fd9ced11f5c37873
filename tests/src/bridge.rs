//! The bridge as a process beside its own Synapse, which loads the bridge's registration: the
//! bridge's configuration (and so the registration) comes first, then the homeserver, then the
//! bridge.

use std::{
    fs,
    net::{Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

use anyhow::{bail, Context, Result};

use crate::{
    synapse::{free_port, random_string, Homeserver, Options},
    wait::wait_for,
};

/// A bridge process and the homeserver it is registered with.
#[derive(Debug)]
pub struct BridgeProcess {
    /// The homeserver.
    pub homeserver: Homeserver,
    /// Where the bridge listens (webhooks, appservice API, `/healthz`, `/metrics`).
    pub http: SocketAddr,
    /// Its configuration file.
    pub config: PathBuf,
    /// Its directory (configuration, store, logs).
    pub dir: PathBuf,
    /// The homeserver's token for the bridge.
    pub hs_token: String,
    binary: PathBuf,
    child: Option<Child>,
    starts: u32,
}

impl BridgeProcess {
    /// Writes the bridge's configuration with `hooks` (TOML `[[hooks]]` tables; `{server}` in
    /// them stands for the homeserver's name), its registration, and starts a homeserver that
    /// loads it. The bridge itself starts with [`Self::start`].
    pub fn new(binary: &Path, hooks: &str) -> Result<Self> {
        let root = crate::synapse::workspace_root()
            .join("target")
            .join("brigade-e2e");
        fs::create_dir_all(&root)?;
        let dir = tempfile::Builder::new()
            .prefix("bridge-")
            .tempdir_in(root)?
            .keep();
        let client_port = free_port(Ipv4Addr::LOCALHOST)?;
        let server_name = format!("127.0.0.1:{client_port}");
        let http = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port(Ipv4Addr::LOCALHOST)?));
        let hs_token = random_string(32);
        let config = dir.join("bridge.toml");
        fs::write(
            &config,
            format!(
                "[homeserver]\nurl = \"http://{server_name}\"\nserver_name = \"{server_name}\"\n\
                 [appservice]\nid = \"brigade-bridge-{}\"\nlisten = \"{http}\"\nurl = \"http://{http}\"\n\
                 as_token = \"{}\"\nhs_token = \"{hs_token}\"\n\
                 [storage]\npath = \"{}\"\n{}\n",
                random_string(6).to_lowercase(),
                random_string(32),
                dir.join("data").display(),
                hooks.replace("{server}", &server_name),
            ),
        )?;
        let registration = dir.join("registration.yaml");
        let output = Command::new(binary)
            .args(["registration", "--config"])
            .arg(&config)
            .output()?;
        if !output.status.success() {
            bail!(
                "brigade-bridge registration failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        fs::write(&registration, &output.stdout)?;
        let homeserver = Homeserver::start(Options {
            ip: Ipv4Addr::LOCALHOST,
            server_name: None,
            client_port: Some(client_port),
            federation: false,
            dir: None,
            app_services: vec![registration],
        })?;
        Ok(Self {
            homeserver,
            http,
            config,
            dir,
            hs_token,
            binary: binary.to_owned(),
            child: None,
            starts: 0,
        })
    }

    /// Starts the bridge and waits until `/healthz` says the homeserver reaches it.
    pub async fn start(&mut self) -> Result<()> {
        if self.child.is_some() {
            bail!("the bridge is already running");
        }
        self.starts += 1;
        let log = fs::File::create(self.dir.join(format!("bridge-{}.log", self.starts)))?;
        let child = Command::new(&self.binary)
            .arg("--config")
            .arg(&self.config)
            .env("RUST_LOG", "info,brigade_bridge=debug")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.binary.display()))?;
        self.child = Some(child);
        let url = format!("http://{}/healthz", self.http);
        wait_for("the bridge to report ready", || async {
            let response = reqwest::get(&url).await.ok()?;
            response.status().is_success().then_some(())
        })
        .await
        .with_context(|| format!("bridge log: {}", self.log()))
    }

    /// Stops the bridge with SIGKILL, as a crash would.
    pub fn kill(&mut self) -> Result<()> {
        let mut child = self.child.take().context("the bridge is not running")?;
        child.kill()?;
        child.wait()?;
        Ok(())
    }

    /// The largest resident memory the running bridge has had, in KiB (`VmHWM`).
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let pid = self.child.as_ref()?.id();
        let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    }

    /// Everything the bridge logged so far, for failure messages.
    pub fn log(&self) -> String {
        (1..=self.starts)
            .map(|start| {
                fs::read_to_string(self.dir.join(format!("bridge-{start}.log"))).unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n--- restart ---\n")
    }

    /// The URL of `path` on the bridge.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http)
    }
}

impl Drop for BridgeProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
