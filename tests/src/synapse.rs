//! Real Synapse homeservers for the tests and the demo.
//!
//! Synapse comes from `tests/synapse/requirements.txt` into a virtualenv (`.venv-synapse` at the
//! workspace root, or `BRIGADE_SYNAPSE_VENV`), installed on first use. Each homeserver listens on
//! its own loopback address (127.0.0.1, 127.0.0.2, …) so server ACLs can tell them apart; its
//! server name is `IP:federation-port`, which needs no DNS or .well-known. A watchdog stops the
//! homeserver by PID when the process that started it ends, however it ends.

use std::{
    fs,
    io::Write,
    net::{Ipv4Addr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use hmac::{Hmac, Mac};
use rand::{distributions::Alphanumeric, Rng};
use serde_json::{json, Value};

/// Where homeservers are created when no directory is given.
pub fn scratch_root() -> PathBuf {
    workspace_root().join("target").join("brigade-e2e")
}

/// The workspace's top directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// How to start a homeserver.
#[derive(Debug, Clone)]
pub struct Options {
    /// The loopback address it listens on.
    pub ip: Ipv4Addr,
    /// The server name; `IP:federation-port` when `None`.
    pub server_name: Option<String>,
    /// The client-server port; a free one when `None`.
    pub client_port: Option<u16>,
    /// Whether to listen for federation (HTTPS, self-signed).
    pub federation: bool,
    /// The directory for its files; a fresh one under `target/brigade-e2e` when `None`.
    pub dir: Option<PathBuf>,
    /// Application service registration files.
    pub app_services: Vec<PathBuf>,
}

impl Options {
    /// A federating homeserver on `ip` with free ports.
    pub fn federating(ip: Ipv4Addr) -> Self {
        Self {
            ip,
            server_name: None,
            client_port: None,
            federation: true,
            dir: None,
            app_services: Vec::new(),
        }
    }
}

/// A running Synapse.
#[derive(Debug)]
pub struct Homeserver {
    /// Its server name, the part after `:` in its user IDs.
    pub server_name: String,
    /// Its client-server API, `http://IP:PORT`.
    pub url: String,
    /// Its directory (configuration, database, log).
    pub dir: PathBuf,
    registration_secret: String,
    /// An administrator's access token, registered on first use of [`Self::admin_get`].
    admin_token: std::sync::Mutex<Option<String>>,
    python: PathBuf,
    config: PathBuf,
    child: Child,
}

impl Homeserver {
    /// Installs Synapse if needed, starts it, and waits until it answers.
    pub fn start(options: Options) -> Result<Self> {
        let python = ensure_synapse()?;
        let dir = match options.dir.clone() {
            Some(dir) => dir,
            None => {
                fs::create_dir_all(scratch_root())?;
                tempfile::Builder::new()
                    .prefix("hs-")
                    .tempdir_in(scratch_root())?
                    .keep()
            }
        };
        fs::create_dir_all(&dir)?;
        let client_port = match options.client_port {
            Some(port) => port,
            None => free_port(options.ip)?,
        };
        let federation_port = if options.federation {
            Some(free_port(options.ip)?)
        } else {
            None
        };
        let server_name = options
            .server_name
            .clone()
            .unwrap_or_else(|| match federation_port {
                Some(port) => format!("{}:{port}", options.ip),
                None => format!("{}:{client_port}", options.ip),
            });
        let registration_secret = random_string(32);
        let config = write_config(
            &dir,
            &options,
            &server_name,
            client_port,
            federation_port,
            &registration_secret,
        )?;

        let child = spawn(&python, &config, &dir)?;
        let mut homeserver = Self {
            server_name,
            url: format!("http://{}:{client_port}", options.ip),
            dir,
            registration_secret,
            admin_token: std::sync::Mutex::default(),
            python,
            config,
            child,
        };
        homeserver.wait_until_up()?;
        Ok(homeserver)
    }

    /// Kills the homeserver, as an outage would.
    pub fn stop(&mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Starts a stopped homeserver again with the same ports and database.
    pub fn restart(&mut self) -> Result<()> {
        if self.is_running() {
            bail!("the homeserver is still running");
        }
        self.child = spawn(&self.python, &self.config, &self.dir)?;
        self.wait_until_up()
    }

    fn wait_until_up(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(120);
        let health = format!("{}/health", self.url);
        loop {
            if let Some(status) = self.child.try_wait()? {
                let log = fs::read_to_string(self.dir.join("stdout.log")).unwrap_or_default();
                bail!("Synapse exited with {status} before it answered:\n{log}");
            }
            if blocking_get_ok(&health) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "Synapse at {} did not answer within 120 s (see {})",
                    self.url,
                    self.dir.display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The user ID `@localpart:server`.
    pub fn user_id(&self, localpart: &str) -> String {
        format!("@{localpart}:{}", self.server_name)
    }

    /// Registers a user through the shared-secret admin API and returns its user ID.
    pub async fn register(&self, localpart: &str, password: &str, admin: bool) -> Result<String> {
        let http = reqwest::Client::new();
        let endpoint = format!("{}/_synapse/admin/v1/register", self.url);
        let nonce: Value = http
            .get(&endpoint)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let nonce = nonce["nonce"]
            .as_str()
            .context("no nonce from Synapse")?
            .to_owned();
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(self.registration_secret.as_bytes())?;
        let role: &[u8] = if admin { b"admin" } else { b"notadmin" };
        for (index, part) in [
            nonce.as_bytes(),
            localpart.as_bytes(),
            password.as_bytes(),
            role,
        ]
        .iter()
        .enumerate()
        {
            if index > 0 {
                mac.update(b"\0");
            }
            mac.update(part);
        }
        let body = json!({
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": hex::encode(mac.finalize().into_bytes()),
        });
        let response = http.post(&endpoint).json(&body).send().await?;
        let status = response.status();
        let body: Value = response.json().await?;
        if !status.is_success() {
            bail!("registering {localpart} failed: {status} {body}");
        }
        Ok(body["user_id"]
            .as_str()
            .context("no user_id in the registration answer")?
            .to_owned())
    }

    /// Logs `localpart` in and returns an access token (a new device each time).
    pub async fn access_token(&self, localpart: &str, password: &str) -> Result<String> {
        let body = json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": localpart},
            "password": password,
        });
        let response: Value = reqwest::Client::new()
            .post(format!("{}/_matrix/client/v3/login", self.url))
            .json(&body)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(response["access_token"]
            .as_str()
            .context("no access token")?
            .to_owned())
    }

    /// A GET on Synapse's admin API (`path` after `/_synapse/admin`), as an administrator.
    pub async fn admin_get(&self, path: &str) -> Result<Value> {
        let cached = self
            .admin_token
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone();
        let token = match cached {
            Some(token) => token,
            None => {
                let localpart = format!("admin-{}", random_string(6).to_lowercase());
                let password = random_string(16);
                self.register(&localpart, &password, true).await?;
                let token = self.access_token(&localpart, &password).await?;
                *self
                    .admin_token
                    .lock()
                    .unwrap_or_else(|poison| poison.into_inner()) = Some(token.clone());
                token
            }
        };
        let response = reqwest::Client::new()
            .get(format!("{}/_synapse/admin{path}", self.url))
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?;
        Ok(response.json().await?)
    }

    /// Sends a made-up message from `sender` (a user of this server) into `room_id` on
    /// `destination` over federation, signed with this server's key, as a server outside the
    /// room would; returns `destination`'s answer: `{"status": …, "body": …}`.
    pub fn federation_send(
        &self,
        destination: &Homeserver,
        room_id: &str,
        sender: &str,
        body: &str,
    ) -> Result<Value> {
        let script = workspace_root().join("tests/synapse/federation_send.py");
        let output = Command::new(&self.python)
            .arg(script)
            .args([
                self.server_name.as_str(),
                &self.dir.join("signing.key").display().to_string(),
                destination.server_name.as_str(),
                room_id,
                sender,
                body,
            ])
            .output()
            .context("running federation_send.py")?;
        if !output.status.success() {
            bail!(
                "federation_send.py failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(serde_json::from_slice(&output.stdout)?)
    }

    /// Whether `needle` is anywhere in the homeserver's SQLite database, write-ahead log
    /// included: what an operator with the database could read.
    pub fn database_contains(&self, needle: &str) -> Result<bool> {
        let needle = needle.as_bytes();
        for file in ["homeserver.db", "homeserver.db-wal"] {
            let bytes = match fs::read(self.dir.join(file)) {
                Ok(bytes) => bytes,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                Err(error) => return Err(error.into()),
            };
            if bytes.windows(needle.len()).any(|window| window == needle) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The stdout/stderr log, for failure messages.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("stdout.log")
    }

    /// Whether the homeserver process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Homeserver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts Synapse with `config`, its output appended to `stdout.log`, under a watchdog.
fn spawn(python: &Path, config: &Path, dir: &Path) -> Result<Child> {
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("stdout.log"))?;
    let child = Command::new(python)
        .args(["-m", "synapse.app.homeserver", "-c"])
        .arg(config)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting Synapse")?;
    spawn_watchdog(child.id(), config)?;
    Ok(child)
}

/// Makes sure a virtualenv holds the pinned Synapse, and returns its Python.
pub fn ensure_synapse() -> Result<PathBuf> {
    let root = workspace_root();
    let venv = std::env::var_os("BRIGADE_SYNAPSE_VENV")
        .map_or_else(|| root.join(".venv-synapse"), PathBuf::from);
    let requirements = root.join("tests").join("synapse").join("requirements.txt");
    let wanted =
        fs::read(&requirements).with_context(|| format!("reading {}", requirements.display()))?;
    let marker = venv.join("brigade-requirements.txt");
    let python = venv.join("bin").join("python");
    if fs::read(&marker).ok().as_deref() == Some(&wanted[..]) && python.exists() {
        return Ok(python);
    }

    // Several test binaries may start at once: one installs, the others wait for it.
    if let Some(parent) = venv.parent() {
        fs::create_dir_all(parent)?;
    }
    let lock = fs::File::create(venv.with_extension("lock"))?;
    lock.lock()?;
    if fs::read(&marker).ok().as_deref() == Some(&wanted[..]) && python.exists() {
        return Ok(python);
    }
    eprintln!(
        "installing Synapse into {} (once; about a minute)",
        venv.display()
    );
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    run(Command::new(venv.join("bin").join("pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            "-r",
        ])
        .arg(&requirements))?;
    fs::write(&marker, &wanted)?;
    Ok(python)
}

fn run(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("running {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed with {status}");
    }
    Ok(())
}

/// A port that was free a moment ago on `ip`.
pub fn free_port(ip: Ipv4Addr) -> Result<u16> {
    Ok(TcpListener::bind((ip, 0))?.local_addr()?.port())
}

/// Letters and digits.
pub fn random_string(length: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(length)
        .map(char::from)
        .collect()
}

fn blocking_get_ok(url: &str) -> bool {
    // A tiny HTTP/1.0 GET, so start-up needs no async runtime.
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(host, path)| {
            (host, format!("/{path}"))
        });
    let Ok(mut stream) = std::net::TcpStream::connect(host) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = std::io::Read::read_to_string(&mut stream, &mut response);
    response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200")
}

/// Stops the homeserver when this process ends, whether it exits, panics or is killed.
fn spawn_watchdog(pid: u32, config: &Path) -> Result<()> {
    let parent = std::process::id();
    // Kill only if the PID still runs this homeserver's configuration (PIDs are reused).
    let script = format!(
        r#"while kill -0 {parent} 2>/dev/null; do sleep 1; done
if grep -qF -- '{config}' /proc/{pid}/cmdline 2>/dev/null; then
  kill -TERM {pid}; sleep 3
  grep -qF -- '{config}' /proc/{pid}/cmdline 2>/dev/null && kill -KILL {pid}
fi"#,
        config = config.display(),
    );
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the homeserver watchdog")?;
    Ok(())
}

/// Synapse's default `ip_range_blacklist` without loopback: the test homeservers live there.
const BLOCKED_RANGES: [&str; 17] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "192.0.0.0/24",
    "169.254.0.0/16",
    "192.88.99.0/24",
    "198.18.0.0/15",
    "192.0.2.0/24",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "fe80::/10",
    "fc00::/7",
    "2001:db8::/32",
    "ff00::/8",
    "fec0::/10",
];

fn write_config(
    dir: &Path,
    options: &Options,
    server_name: &str,
    client_port: u16,
    federation_port: Option<u16>,
    registration_secret: &str,
) -> Result<PathBuf> {
    let path = |name: &str| dir.join(name).display().to_string();
    let unlimited = json!({"per_second": 100_000, "burst_count": 100_000});
    let mut listeners = vec![json!({
        "port": client_port, "bind_addresses": [options.ip.to_string()], "type": "http", "tls": false,
        "x_forwarded": false, "resources": [{"names": ["client", "openid"], "compress": false}],
    })];
    let mut config = json!({
        "server_name": server_name,
        "pid_file": path("homeserver.pid"),
        "database": {"name": "sqlite3", "args": {"database": path("homeserver.db")}},
        "log_config": path("log.yaml"),
        "media_store_path": path("media"),
        "signing_key_path": path("signing.key"),
        "registration_shared_secret": registration_secret,
        "enable_registration": false,
        "report_stats": false,
        "macaroon_secret_key": random_string(32),
        "form_secret": random_string(32),
        "trusted_key_servers": [],
        "suppress_key_server_warning": true,
        "federation_verify_certificates": false,
        "ip_range_blacklist": BLOCKED_RANGES,
        "bcrypt_rounds": 4,
        "background_updates": {"sleep_enabled": false},
        "presence": {"enabled": false},
        "url_preview_enabled": false,
        "federation": {"destination_min_retry_interval": "1s", "destination_max_retry_interval": "5s"},
        "app_service_config_files": options.app_services.iter().map(|file| file.display().to_string()).collect::<Vec<_>>(),
        "rc_message": unlimited, "rc_registration": unlimited, "rc_room_creation": unlimited,
        "rc_joins_per_room": unlimited, "rc_admin_redaction": unlimited, "rc_third_party_invite": unlimited,
        "rc_media_create": unlimited, "rc_reports": unlimited, "rc_key_requests": unlimited,
        "rc_login": {"address": unlimited, "account": unlimited, "failed_attempts": unlimited},
        "rc_joins": {"local": unlimited, "remote": unlimited},
        "rc_invites": {"per_room": unlimited, "per_user": unlimited, "per_issuer": unlimited},
        "rc_federation": {"window_size": 1000, "sleep_limit": 100_000, "sleep_delay": 1, "reject_limit": 100_000, "concurrent": 100_000},
    });
    if let Some(port) = federation_port {
        let certified = rcgen::generate_simple_self_signed(vec![options.ip.to_string()])?;
        fs::write(dir.join("tls.crt"), certified.cert.pem())?;
        fs::write(dir.join("tls.key"), certified.key_pair.serialize_pem())?;
        config["tls_certificate_path"] = json!(path("tls.crt"));
        config["tls_private_key_path"] = json!(path("tls.key"));
        listeners.push(json!({
            "port": port, "bind_addresses": [options.ip.to_string()], "type": "http", "tls": true,
            "resources": [{"names": ["federation"], "compress": false}],
        }));
    }
    config["listeners"] = json!(listeners);

    // Synapse's signing key is 32 random bytes, unpadded base64.
    let seed: [u8; 32] = rand::thread_rng().gen();
    let key = base64::Engine::encode(&base64::engine::general_purpose::STANDARD_NO_PAD, seed);
    fs::write(dir.join("signing.key"), format!("ed25519 a_1 {key}\n"))?;
    let log_config = json!({
        "version": 1,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"file": {"class": "logging.FileHandler", "formatter": "plain", "filename": path("homeserver.log")}},
        "root": {"level": "WARNING", "handlers": ["file"]},
        "disable_existing_loggers": false,
    });
    fs::write(
        dir.join("log.yaml"),
        serde_json::to_vec_pretty(&log_config)?,
    )?;
    // JSON is YAML: Synapse reads it as it is.
    let config_path = dir.join("homeserver.yaml");
    fs::write(&config_path, serde_json::to_vec_pretty(&config)?)?;
    Ok(config_path)
}
