//! Keeps the status site's files in step with the store: built again whenever an incident
//! changes (and hourly, as the 90 days move on), each file written only when it differs, by a
//! rename, so a reader never sees half a file. It needs the store alone, so the page is kept
//! while the homeserver is down.

use std::{
    io,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use brigade_core::{clock::Clock, store::Store};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info};

use super::{files, Site};
use crate::config::Config;

/// The site is built again at least this often, for the days it shows.
const REBUILD_EVERY: Duration = Duration::from_secs(60 * 60);
/// After a failure to write, the next try.
const RETRY: Duration = Duration::from_secs(30);

/// Asks for the site to be built again, and tells the pusher it was.
#[derive(Debug, Default)]
pub struct StatusSite {
    changed: Notify,
    pub(super) written: Notify,
    /// What the written site says, as a commit's message.
    pub(super) written_summary: Mutex<String>,
}

impl StatusSite {
    /// Something the site may show changed.
    pub fn changed(&self) {
        self.changed.notify_one();
    }
}

/// Writes the site into `status.directory` until shutdown.
pub async fn run(
    site: Arc<StatusSite>,
    config: Arc<Config>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    shutdown: CancellationToken,
) {
    let directory = &config.status.directory;
    let mut first = true;
    loop {
        let wait = match write(&config, store.as_ref(), clock.now_millis()).await {
            Ok((files, summary)) => {
                if files > 0 {
                    info!(files, directory = %directory.display(), "the status page changed");
                }
                if files > 0 || first {
                    *site.written_summary.lock().expect("not poisoned") = summary;
                    site.written.notify_one();
                }
                first = false;
                REBUILD_EVERY
            }
            Err(error) => {
                error!(%error, directory = %directory.display(), "cannot write the status page; trying again");
                RETRY
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = site.changed.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Builds the site at `now` and writes the files that changed; how many did, and what the site
/// says in a line.
pub async fn write(
    config: &Config,
    store: &dyn Store,
    now: u64,
) -> Result<(usize, String), io::Error> {
    let records = store.incidents().await.map_err(io::Error::other)?;
    let site = Site::build(&config.status, &config.web.public_url, &records, now);
    let summary = site.summary();
    let directory = config.status.directory.clone();
    tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&directory)?;
        let mut written = 0;
        for (name, bytes) in files(&site) {
            if write_if_changed(&directory, name, &bytes)? {
                written += 1;
            }
        }
        Ok((written, summary))
    })
    .await
    .map_err(io::Error::other)?
}

/// Writes `bytes` as `directory/name` unless it holds them already; whether it wrote.
fn write_if_changed(directory: &Path, name: &str, bytes: &[u8]) -> Result<bool, io::Error> {
    let path = directory.join(name);
    match std::fs::read(&path) {
        Ok(existing) if existing == bytes => return Ok(false),
        Ok(_) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    let partial: PathBuf = directory.join(format!(".{name}.partial"));
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, &path)?;
    debug!(file = %path.display(), "wrote");
    Ok(true)
}
