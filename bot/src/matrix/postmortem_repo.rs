//! Commits each final postmortem to `[postmortems] git` (SPEC §16), off the command path.
//!
//! `!inc close` keeps the postmortem it posted as owed to the repository (`postmortem.owed`)
//! before the incident is stored as closed; this task commits what is owed for closed
//! incidents and says so in the incident room. A failure is said there once and tried again,
//! sooner at first, across restarts too. Committing starts from the remote branch as it is
//! ([`crate::git`]), so a postmortem pushed before a crash is found there and never committed
//! twice.

use std::{path::Path, time::Duration};

use brigade_core::incident::Status;
use matrix_sdk::ruma::RoomId;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use super::{
    bot::Bot,
    error::ActionError,
    reply::{notice, transaction_id},
};
use crate::{
    git::{without_credentials, Author, GitError, Published, Publisher},
    keys::{KeyError, OwedPostmortem},
    markdown::escape,
};

/// The bot's repository of postmortems, and the files waiting to be committed, under
/// `storage.path`.
const GIT_DIR: &str = "postmortems.git";
const WORK_TREE: &str = "postmortems";
/// The first wait after a failure; each next one doubles, up to [`LAST_RETRY`].
const FIRST_RETRY: Duration = Duration::from_secs(2);
const LAST_RETRY: Duration = Duration::from_secs(5 * 60);

/// Commits what is owed until shutdown; returns at once without `[postmortems] git`.
pub async fn run(bot: &Bot, shutdown: CancellationToken) {
    let Some(target) = &bot.config.postmortems.git else {
        return;
    };
    let user = &bot.config.matrix.user_id;
    let storage = &bot.config.storage.path;
    let publisher = Publisher {
        git_dir: storage.join(GIT_DIR),
        work_tree: storage.join(WORK_TREE),
        remote: target.remote.clone(),
        branch: target.branch.clone(),
        author: Author {
            name: bot.config.profile.display_name.clone(),
            email: format!("{}@{}", user.localpart(), user.server_name()),
        },
    };
    let mut retry = FIRST_RETRY;
    loop {
        let settled = tokio::select! {
            () = shutdown.cancelled() => return,
            settled = commit_owed(bot, &publisher, retry) => settled,
        };
        // Settled, only the next close wakes it.
        let again = if settled {
            retry = FIRST_RETRY;
            None
        } else {
            let wait = retry;
            retry = (retry * 2).min(LAST_RETRY);
            Some(wait)
        };
        let later = async {
            match again {
                Some(wait) => tokio::time::sleep(wait).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = bot.postmortem_repo.woken() => {}
            () = later => {}
        }
    }
}

/// Commits every postmortem owed for a closed incident; whether all of them are in the
/// repository. `retry` is the wait before the next try, for the room's word of a failure.
async fn commit_owed(bot: &Bot, publisher: &Publisher, retry: Duration) -> bool {
    let owed = match bot.postmortem_repo.all(bot.store.as_ref()).await {
        Ok(owed) => owed,
        Err(error) => {
            error!(%error, "cannot read the postmortems owed to the repository");
            return false;
        }
    };
    let mut settled = true;
    for (room, postmortem) in owed {
        // Kept before the close was stored: a close a crash interrupted is finished first,
        // and one that did not go through (the incident reopened, or never closed) is dropped.
        match bot.store.incident(&room).await {
            Ok(Some(record)) if record.incident.status == Status::Closed => {}
            Ok(Some(record)) if record.incident.status == Status::Resolved => continue,
            Ok(_) => {
                info!(
                    %room,
                    incident = %postmortem.number,
                    "the incident was not closed: its postmortem is no longer owed"
                );
                if let Err(error) = bot
                    .postmortem_repo
                    .done(bot.store.as_ref(), &room, &postmortem)
                    .await
                {
                    error!(%error, %room, "cannot forget a postmortem no longer owed");
                }
                continue;
            }
            Err(error) => {
                error!(%error, %room, "cannot read the incident of an owed postmortem");
                settled = false;
                continue;
            }
        }
        match commit(bot, publisher, &room, &postmortem, retry).await {
            Ok(()) => {}
            Err(TryAgain::Uncommitted) => settled = false,
            Err(error) => {
                error!(
                    %error,
                    %room,
                    incident = %postmortem.number,
                    "cannot say or record where a postmortem is"
                );
                settled = false;
            }
        }
    }
    settled
}

/// Why one postmortem is not in the repository yet.
#[derive(Debug, thiserror::Error)]
enum CommitError {
    /// git failed, or the remote refused.
    #[error(transparent)]
    Git(#[from] GitError),
    /// The file could not be written for git to take.
    #[error("cannot write {path}")]
    File {
        /// The file, in the repository.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Why committing one postmortem must be tried again, beyond git's refusal (logged and said in
/// the room before).
#[derive(Debug, thiserror::Error)]
enum TryAgain {
    /// It is not committed yet.
    #[error("not committed yet")]
    Uncommitted,
    /// The store failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The room could not be told.
    #[error(transparent)]
    Action(#[from] ActionError),
}

/// Commits `postmortem` and says so in `room`; a failure is said there once (the next try
/// `retry` from now).
async fn commit(
    bot: &Bot,
    publisher: &Publisher,
    room: &RoomId,
    postmortem: &OwedPostmortem,
    retry: Duration,
) -> Result<(), TryAgain> {
    let file = publisher.work_tree.join(&postmortem.path);
    let message = format!("{}: postmortem", postmortem.number);
    let published = match write(&file, &postmortem.document).await {
        Ok(()) => publisher
            .publish(&[postmortem.path.as_str()], &message)
            .await
            .map_err(CommitError::from),
        Err(source) => Err(CommitError::File {
            path: postmortem.path.clone(),
            source,
        }),
    };
    let repository = without_credentials(&publisher.remote, &publisher.remote);
    match published {
        Ok(published) => {
            let commit = match &published {
                Published::Pushed(commit) => {
                    format!(" (commit `{}`)", &commit[..commit.len().min(12)])
                }
                Published::Unchanged => String::new(),
            };
            // The path is letters, digits and `-_./` only: a code span shows it as it is.
            say(
                bot,
                room,
                postmortem,
                "postmortem-committed",
                &format!(
                    "📚 The postmortem of {} is in the repository {}, as `{}`{commit}.",
                    postmortem.number,
                    escape(&repository),
                    postmortem.path
                ),
            )
            .await?;
            bot.postmortem_repo
                .done(bot.store.as_ref(), room, postmortem)
                .await?;
            // The repository keeps it now.
            if let Err(error) = tokio::fs::remove_file(&file).await {
                debug!(%error, path = %postmortem.path, "cannot remove a committed file");
            }
            info!(incident = %postmortem.number, path = %postmortem.path, "postmortem committed");
            Ok(())
        }
        Err(failed) => {
            let reason = match &failed {
                CommitError::File { source, .. } => format!("{failed}: {source}"),
                CommitError::Git(_) => failed.to_string(),
            };
            warn!(
                error = %reason,
                %room,
                incident = %postmortem.number,
                retry_in_s = retry.as_secs(),
                "cannot commit the postmortem yet"
            );
            if !postmortem.failure_told {
                say(
                    bot,
                    room,
                    postmortem,
                    "postmortem-commit-failed",
                    &format!(
                        "⚠️ The postmortem of {} could not be committed to the repository {} \
                         yet ({}). Trying again in {} s, and on: this room is told when it is \
                         in.",
                        postmortem.number,
                        escape(&repository),
                        escape(&reason),
                        retry.as_secs()
                    ),
                )
                .await?;
                bot.postmortem_repo
                    .failure_told(bot.store.as_ref(), room, postmortem)
                    .await?;
            }
            Err(TryAgain::Uncommitted)
        }
    }
}

/// Writes `document` to `file`, making its folders.
async fn write(file: &Path, document: &str) -> std::io::Result<()> {
    if let Some(folder) = file.parent() {
        tokio::fs::create_dir_all(folder).await?;
    }
    tokio::fs::write(file, document).await
}

/// Says `markdown` in the incident room, once for `purpose` of this postmortem.
async fn say(
    bot: &Bot,
    room: &RoomId,
    postmortem: &OwedPostmortem,
    purpose: &str,
    markdown: &str,
) -> Result<(), ActionError> {
    let Some(joined) = bot.client.get_room(room) else {
        warn!(%room, "the bot is not in the incident room to say where its postmortem is");
        return Ok(());
    };
    let source = format!("{room}\u{0}{}", postmortem.path);
    joined
        .send(notice(markdown))
        .with_transaction_id(transaction_id(&source, purpose))
        .await?;
    Ok(())
}
