//! The bridge as a process beside its own Synapse, which loads the bridge's registration: the
//! bridge's configuration (and so the registration) comes first, then the homeserver, then the
//! bridge.

use std::{
    ffi::OsString,
    fs,
    net::{Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{bail, Result};

use crate::{
    bot::BotProcess,
    client::TestUser,
    process::Supervised,
    synapse::{free_port, random_string, Homeserver, Options},
};

/// A bridge process and the homeserver it is registered with.
#[derive(Debug)]
pub struct BridgeProcess {
    /// The bridge process; first, so that it is stopped before its homeserver when dropped.
    process: Supervised,
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
        let process = Supervised::new(
            "bridge",
            binary,
            [OsString::from("--config"), config.clone().into()],
            &dir,
            format!("http://{http}/healthz"),
        );
        Ok(Self {
            homeserver,
            http,
            config,
            dir,
            hs_token,
            process,
        })
    }

    /// Starts the bridge and waits until `/healthz` says the homeserver reaches it.
    pub async fn start(&mut self) -> Result<()> {
        self.start_with_env(&[]).await
    }

    /// Starts the bridge with `env` set as well (`FAILPOINTS`, say) and waits until it is
    /// ready.
    pub async fn start_with_env(&mut self, env: &[(&str, &str)]) -> Result<()> {
        let mut env = env.to_vec();
        env.push(("RUST_LOG", "info,brigade_bridge=debug"));
        self.process.start(&env).await
    }

    /// Waits for the bridge to exit on its own (a crash) and returns how it exited.
    pub async fn wait_exit(&mut self) -> Result<std::process::ExitStatus> {
        self.process.wait_exit().await
    }

    /// Stops the bridge with SIGKILL, as a crash would.
    pub fn kill(&mut self) -> Result<()> {
        self.process.kill()
    }

    /// The largest resident memory the running bridge has had, in KiB (`VmHWM`).
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.process.memory_kib("VmHWM")
    }

    /// Everything the bridge logged so far, for failure messages.
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// The URL of `path` on the bridge.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http)
    }
}

/// A bridge with one Alertmanager route, `prod` (into `#alerts-prod`, declaring at SEV1, its
/// webhooks authorized by `secret`), and a bot that believes its alerts and gives incidents
/// declared for them to Alice, who is in the route's room.
#[derive(Debug)]
pub struct AlertDesk {
    /// The bot; first, so that it stops before the homeserver.
    pub bot: BotProcess,
    /// The commander of incidents declared for alerts.
    pub alice: TestUser,
    /// The bridge and its homeserver.
    pub bridge: BridgeProcess,
}

/// How an [`AlertDesk`] differs from its defaults.
#[derive(Debug, Clone, Copy)]
pub struct AlertSetup<'a> {
    /// A `[webhooks]` table (or `[tickets]` and `[[trackers]]`), before the route; `{bot}`
    /// stands for the bot's ID.
    pub webhooks: &'a str,
    /// More keys of the `prod` route.
    pub route: &'a str,
    /// More of the bot's configuration, after its `[alerts]`; `{alice}` stands for Alice's ID.
    pub bot_extra: &'a str,
    /// Whether Alice commands the incidents declared for alerts (`[alerts] commander`).
    pub alice_commands: bool,
}

impl Default for AlertSetup<'_> {
    fn default() -> Self {
        Self {
            webhooks: "",
            route: "",
            bot_extra: "",
            alice_commands: true,
        }
    }
}

impl AlertDesk {
    /// Starts both; `webhooks` goes before the route (a `[webhooks]` table), `bot_extra` after
    /// the bot's `[alerts]`.
    pub async fn start(
        bridge_binary: &'static Path,
        bot_binary: &Path,
        secret: &str,
        webhooks: &str,
        bot_extra: &str,
    ) -> Result<Self> {
        let setup = AlertSetup {
            webhooks,
            bot_extra,
            ..AlertSetup::default()
        };
        Self::start_with(bridge_binary, bot_binary, secret, setup).await
    }

    /// Starts both as `setup` says.
    pub async fn start_with(
        bridge_binary: &'static Path,
        bot_binary: &Path,
        secret: &str,
        setup: AlertSetup<'_>,
    ) -> Result<Self> {
        let AlertSetup {
            webhooks, route, ..
        } = setup;
        let alice_name = format!("alice-{}", random_string(6).to_lowercase());
        let bot_name = format!("brigade-{}", random_string(6).to_lowercase());
        let webhooks = webhooks.replace("{bot}", &format!("@{bot_name}:{{server}}"));
        let hooks = format!(
            "{webhooks}[[hooks]]\nname = \"prod\"\nsource = \"alertmanager\"\nroom = \"#alerts-prod:{{server}}\"\n\
             secret = \"{secret}\"\ninvite = [\"@{alice_name}:{{server}}\", \"@{bot_name}:{{server}}\"]\n\
             auto_declare = \"SEV1\"\n{route}"
        );
        let mut bridge =
            tokio::task::spawn_blocking(move || BridgeProcess::new(bridge_binary, &hooks))
                .await??;
        bridge.start().await?;
        let hs = &bridge.homeserver;
        let password = random_string(16);
        let alice_id = hs.register(&alice_name, &password, false).await?;
        let commander = if setup.alice_commands {
            format!("commander = \"{alice_id}\"\n")
        } else {
            String::new()
        };
        let mut bot = BotProcess::named(
            bot_binary,
            hs,
            &bot_name,
            &format!(
                "[alerts]\n{commander}bridge_registration = \"{}\"\n{}",
                bridge.dir.join("registration.yaml").display(),
                setup.bot_extra.replace("{alice}", alice_id.as_str())
            ),
        )
        .await?;
        bot.start().await?;
        let alice = TestUser::login(hs, &alice_name, &password).await?;
        Ok(Self { bot, alice, bridge })
    }
}
