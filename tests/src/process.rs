//! One supervisor for the processes under test (the bot, the bridge): started with a log file per
//! start, healthy once their `/healthz` says so, and stopped however a test needs (SIGKILL as a
//! crash would, SIGTERM, SIGSTOP and SIGCONT), killed when dropped.

use std::{
    ffi::OsString,
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
};

use anyhow::{bail, Context, Result};

use crate::wait::wait_for;

/// A process the tests start, stop and start again on the same directory.
#[derive(Debug)]
pub struct Supervised {
    /// What it is called in logs and failure messages (`bot`, `bridge`): its logs are
    /// `<name>-<start>.log` in its directory.
    name: &'static str,
    binary: PathBuf,
    args: Vec<OsString>,
    dir: PathBuf,
    health: String,
    child: Option<Child>,
    starts: u32,
}

impl Supervised {
    /// `binary` run with `args` in (and logging to) `dir`, healthy when `health` (a URL)
    /// answers 2xx. Not started yet.
    pub fn new(
        name: &'static str,
        binary: &Path,
        args: impl IntoIterator<Item = impl Into<OsString>>,
        dir: &Path,
        health: String,
    ) -> Self {
        Self {
            name,
            binary: binary.to_owned(),
            args: args.into_iter().map(Into::into).collect(),
            dir: dir.to_owned(),
            health,
            child: None,
            starts: 0,
        }
    }

    /// Starts the process with extra environment variables and waits until it is healthy.
    pub async fn start(&mut self, env: &[(&str, &str)]) -> Result<()> {
        self.spawn(env)?;
        let url = self.health.clone();
        wait_for(&format!("the {} to report healthy", self.name), || async {
            let response = reqwest::get(&url).await.ok()?;
            response.status().is_success().then_some(())
        })
        .await
        .with_context(|| format!("{} log: {}", self.name, self.log()))
    }

    /// Starts the process with extra environment variables, without waiting for it.
    pub fn spawn(&mut self, env: &[(&str, &str)]) -> Result<()> {
        if self.child.is_some() {
            bail!("the {} is already running", self.name);
        }
        self.starts += 1;
        let log = fs::File::create(self.log_path(self.starts))?;
        let child = Command::new(&self.binary)
            .args(&self.args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.binary.display()))?;
        self.child = Some(child);
        Ok(())
    }

    fn log_path(&self, start: u32) -> PathBuf {
        self.dir.join(format!("{}-{start}.log", self.name))
    }

    fn running(&self) -> Result<&Child> {
        self.child
            .as_ref()
            .with_context(|| format!("the {} is not running", self.name))
    }

    /// Stops it with SIGKILL, as a crash would.
    pub fn kill(&mut self) -> Result<()> {
        self.running()?;
        let mut child = self.child.take().context("running")?;
        child.kill()?;
        child.wait()?;
        Ok(())
    }

    /// Stops it with SIGTERM and returns how it exited.
    pub async fn terminate(&mut self) -> Result<ExitStatus> {
        self.signal("-TERM")?;
        self.wait_exit().await
    }

    /// Sends it `signal` (`-STOP`, `-CONT`, `-TERM`).
    pub fn signal(&self, signal: &str) -> Result<()> {
        let pid = self.running()?.id();
        let status = Command::new("kill")
            .arg(signal)
            .arg(pid.to_string())
            .status()?;
        if !status.success() {
            bail!("kill {signal} {pid} failed");
        }
        Ok(())
    }

    /// Its process ID, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// A figure in KiB from `/proc/<pid>/status` (`VmRSS`, `VmHWM`), while it runs.
    pub fn memory_kib(&self, field: &str) -> Option<u64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    }

    /// Waits for it to exit (on its own, or after a signal) and returns how it exited; kills it
    /// if it does not within the deadline.
    pub async fn wait_exit(&mut self) -> Result<ExitStatus> {
        self.running()?;
        let mut child = self.child.take().context("running")?;
        let exited = wait_for(&format!("the {} to exit", self.name), || {
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

    /// What it logged in its latest run.
    pub fn last_log(&self) -> String {
        fs::read_to_string(self.log_path(self.starts)).unwrap_or_default()
    }

    /// Everything it logged so far, for failure messages.
    pub fn log(&self) -> String {
        (1..=self.starts)
            .map(|start| fs::read_to_string(self.log_path(start)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n--- restart ---\n")
    }

    /// Whether it runs now (as far as the supervisor knows: started and not stopped).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
