//! Pushes the status site to `status.git` each time it is written, so that a static host
//! elsewhere serves it when the infrastructure it describes is down. A failed push is tried
//! again, sooner at first, until it goes through; the repository's own files are kept.

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::{writer::StatusSite, FILES};
use crate::{
    config::Config,
    git::{without_credentials, Author, Published, Publisher},
};

/// The bot's repository of the site, under `storage.path`.
pub const GIT_DIR: &str = "status.git";
/// The first wait after a failed push; each next one doubles, up to [`LAST_RETRY`].
const FIRST_RETRY: Duration = Duration::from_secs(2);
const LAST_RETRY: Duration = Duration::from_secs(5 * 60);

/// Pushes the site after every write until shutdown; returns at once without `status.git`.
pub async fn run(site: Arc<StatusSite>, config: Arc<Config>, shutdown: CancellationToken) {
    let Some(target) = &config.status.git else {
        return;
    };
    let bot = &config.matrix.user_id;
    let publisher = Publisher {
        git_dir: config.storage.path.join(GIT_DIR),
        work_tree: config.status.directory.clone(),
        remote: target.remote.clone(),
        branch: target.branch.clone(),
        author: Author {
            name: config.profile.display_name.clone(),
            email: format!("{}@{}", bot.localpart(), bot.server_name()),
        },
    };
    let remote = without_credentials(&target.remote, &target.remote);
    let files: Vec<&str> = FILES.iter().map(|(name, _)| *name).collect();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = site.written.notified() => {}
        }
        let mut retry = FIRST_RETRY;
        loop {
            let message = site.written_summary.lock().expect("not poisoned").clone();
            // Stopping never waits for a remote: a git command dropped is killed.
            let published = tokio::select! {
                () = shutdown.cancelled() => return,
                published = publisher.publish(&files, &message) => published,
            };
            match published {
                Ok(Published::Unchanged) => {
                    debug!(%remote, "the pushed status page is current");
                    break;
                }
                Ok(Published::Pushed(commit)) => {
                    info!(%remote, branch = %target.branch, %commit, "pushed the status page");
                    break;
                }
                Err(error) => {
                    warn!(%error, %remote, retry_in_s = retry.as_secs(), "cannot push the status page");
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(retry) => {}
            }
            retry = (retry * 2).min(LAST_RETRY);
        }
    }
}
