//! Publishing files to a git repository with the `git` program, so that whatever the operator
//! has set up for git (SSH keys, credential helpers, a proxy) is what the bot uses.
//!
//! The repository the bot keeps is bare, in its storage directory; the files it publishes live
//! in a directory of their own, used as the work tree. Each publication starts from the remote
//! branch as it is, so the remote is the one truth: files others put there (a `CNAME`, a
//! README) are kept, a commit is made only when the published files differ from the remote's,
//! and publishing again after a crash or a failed push does nothing twice.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use tokio::process::Command;
use tracing::debug;

/// A git command taking longer than this (a remote that hangs) is stopped and fails.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// Where and as whom files are published.
#[derive(Debug, Clone)]
pub struct Publisher {
    /// The bare repository the bot keeps.
    pub git_dir: PathBuf,
    /// The directory holding the files, in the layout they have in the repository.
    pub work_tree: PathBuf,
    /// The remote repository: a URL or a path.
    pub remote: String,
    /// The branch published to.
    pub branch: String,
    /// The commits' author and committer.
    pub author: Author,
}

/// Who the commits are by.
#[derive(Debug, Clone)]
pub struct Author {
    /// The name.
    pub name: String,
    /// The address.
    pub email: String,
}

/// What a publication did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Published {
    /// The remote holds these files already.
    Unchanged,
    /// This commit is now the remote branch's head.
    Pushed(String),
}

/// Why publishing failed: the git command and what it said, with any credentials in the
/// remote's URL left out.
#[derive(Debug, thiserror::Error)]
#[error("git {command}: {message}")]
pub struct GitError {
    command: String,
    message: String,
}

impl Publisher {
    /// Commits `paths` (relative to the work tree) onto the remote branch and pushes them,
    /// unless the remote has them already.
    pub async fn publish(&self, paths: &[&str], message: &str) -> Result<Published, GitError> {
        self.prepare().await?;
        let remote_head = self.remote_head().await?;
        let branch = format!("refs/heads/{}", self.branch);
        if let Some(head) = &remote_head {
            let refspec = format!("+{branch}:refs/remotes/origin/{}", self.branch);
            self.git(&["fetch", "--quiet", "--no-tags", &self.remote, &refspec])
                .await?;
            // The index (and the branch) become the remote's; the files stay as they are.
            self.git(&["reset", "--quiet", "--mixed", head]).await?;
        } else {
            // A remote without the branch gets a first commit of the files alone, whatever
            // was published before (to a branch since deleted, or to another one).
            self.git(&["update-ref", "-d", &branch]).await?;
            self.git(&["read-tree", "--empty"]).await?;
        }
        let mut add = vec!["add", "--"];
        add.extend_from_slice(paths);
        self.git(&add).await?;
        let differs = self.succeeds(&["diff", "--cached", "--quiet"]).await? == Some(false);
        let unborn = self.local_head().await?.is_none();
        if differs || unborn {
            self.git(&["commit", "--quiet", "--no-verify", "-m", message])
                .await?;
        }
        let head = self.local_head().await?.ok_or_else(|| GitError {
            command: "commit".to_owned(),
            message: "no commit was made".to_owned(),
        })?;
        if remote_head.as_deref() == Some(head.as_str()) {
            return Ok(Published::Unchanged);
        }
        let target = format!("HEAD:{branch}");
        self.git(&["push", "--quiet", &self.remote, &target])
            .await?;
        debug!(commit = %head, branch = %self.branch, "pushed");
        Ok(Published::Pushed(head))
    }

    /// The bare repository exists, on the configured branch. The remote is named on each
    /// command, never kept in the repository's configuration, where a token in its URL would
    /// lie in the storage directory.
    async fn prepare(&self) -> Result<(), GitError> {
        if !self.git_dir.join("HEAD").exists() {
            tokio::fs::create_dir_all(&self.git_dir)
                .await
                .map_err(|error| GitError {
                    command: "init".to_owned(),
                    message: format!("{}: {error}", self.git_dir.display()),
                })?;
            let output = self
                .output(
                    "init",
                    self.command()
                        .args(["init", "--quiet", "--bare"])
                        .arg(&self.git_dir),
                )
                .await?;
            if !output.status.success() {
                return Err(self.failed("init", &output));
            }
        }
        let initial = format!("refs/heads/{}", self.branch);
        self.git(&["symbolic-ref", "HEAD", &initial]).await?;
        // Kept there by earlier versions.
        if self.succeeds(&["remote", "get-url", "origin"]).await? == Some(true) {
            self.git(&["remote", "remove", "origin"]).await?;
        }
        Ok(())
    }

    /// The remote branch's head, or `None` while it has no such branch.
    async fn remote_head(&self) -> Result<Option<String>, GitError> {
        let branch = format!("refs/heads/{}", self.branch);
        let output = self
            .run(&["ls-remote", "--exit-code", &self.remote, &branch])
            .await?;
        match output.status.code() {
            Some(0) => Ok(String::from_utf8_lossy(&output.stdout)
                .split_whitespace()
                .next()
                .map(str::to_owned)),
            // `--exit-code`: the remote answered and has no such branch.
            Some(2) => Ok(None),
            _ => Err(self.failed("ls-remote", &output)),
        }
    }

    /// The local branch's head, or `None` before the first commit.
    async fn local_head(&self) -> Result<Option<String>, GitError> {
        let output = self
            .run(&["rev-parse", "--quiet", "--verify", "HEAD^{commit}"])
            .await?;
        Ok(output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned()))
    }

    /// Whether `args` succeed: `Some(true)` or `Some(false)` by the exit code; an error if git
    /// could not run or was stopped.
    async fn succeeds(&self, args: &[&str]) -> Result<Option<bool>, GitError> {
        let output = self.run(args).await?;
        Ok(output.status.code().map(|code| code == 0))
    }

    /// Runs `args`, failing unless they succeed.
    async fn git(&self, args: &[&str]) -> Result<(), GitError> {
        let output = self.run(args).await?;
        if output.status.success() {
            Ok(())
        } else {
            Err(self.failed(args[0], &output))
        }
    }

    /// Runs `args` on the bot's repository and the published files.
    async fn run(&self, args: &[&str]) -> Result<std::process::Output, GitError> {
        let mut command = self.command();
        command
            .arg("--git-dir")
            .arg(&self.git_dir)
            .arg("--work-tree")
            .arg(&self.work_tree)
            .args(args);
        self.output(args[0], &mut command).await
    }

    /// `git`, as the author, never asking anyone anything.
    fn command(&self) -> Command {
        let mut command = Command::new("git");
        command
            .current_dir(existing(&self.work_tree, &self.git_dir))
            // Never wait for a password nobody will type (ssh has no terminal either: stdin is
            // closed, and a command that hangs is stopped).
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .env("GIT_AUTHOR_NAME", &self.author.name)
            .env("GIT_AUTHOR_EMAIL", &self.author.email)
            .env("GIT_COMMITTER_NAME", &self.author.name)
            .env("GIT_COMMITTER_EMAIL", &self.author.email)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        command
    }

    /// What `command` did, unless it could not run or took too long.
    async fn output(
        &self,
        name: &str,
        command: &mut Command,
    ) -> Result<std::process::Output, GitError> {
        let output = tokio::time::timeout(COMMAND_TIMEOUT, command.output())
            .await
            .map_err(|_| GitError {
                command: name.to_owned(),
                message: format!("no answer in {} s", COMMAND_TIMEOUT.as_secs()),
            })?
            .map_err(|error| GitError {
                command: name.to_owned(),
                message: format!("cannot run git: {error}"),
            })?;
        Ok(output)
    }

    fn failed(&self, command: &str, output: &std::process::Output) -> GitError {
        let said = String::from_utf8_lossy(&output.stderr);
        let said = said
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with("hint:"))
            .collect::<Vec<_>>()
            .join(" ");
        GitError {
            command: command.to_owned(),
            message: without_credentials(&said, &self.remote),
        }
    }
}

/// The work tree if it exists, else the repository: git needs a directory to run in.
fn existing<'a>(work_tree: &'a Path, git_dir: &'a Path) -> &'a Path {
    if work_tree.is_dir() {
        work_tree
    } else {
        git_dir.parent().unwrap_or(git_dir)
    }
}

/// `text` with the secret of `remote` left out, so that a token in the URL never reaches a
/// log: over http(s) the whole user information (`https://token@host`, `https://user:token@`),
/// elsewhere the password alone (`ssh://git@host` names a user, not a secret).
pub fn without_credentials(text: &str, remote: &str) -> String {
    let Some((scheme, rest)) = remote.split_once("://") else {
        return text.to_owned();
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return text.to_owned();
    };
    let shown = if scheme.starts_with("http") {
        "***".to_owned()
    } else {
        match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***"),
            None => return text.to_owned(),
        }
    };
    text.replace(&format!("{userinfo}@"), &format!("{shown}@"))
}

#[cfg(test)]
mod tests {
    use std::process::Command as Sync;

    use super::*;

    /// Runs git in `dir`, returning what it printed.
    fn git(dir: &Path, args: &[&str]) -> String {
        let output = Sync::new("git")
            .current_dir(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "Someone")
            .env("GIT_AUTHOR_EMAIL", "someone@example.org")
            .env("GIT_COMMITTER_NAME", "Someone")
            .env("GIT_COMMITTER_EMAIL", "someone@example.org")
            .output()
            .expect("git runs");
        assert!(output.status.success(), "git {args:?}: {output:?}");
        String::from_utf8(output.stdout).expect("text")
    }

    /// A bare remote, the site's files and a publisher of them to `branch`.
    fn setup(root: &Path, branch: &str) -> Publisher {
        git(
            root,
            &[
                "init",
                "--quiet",
                "--bare",
                "--initial-branch=main",
                "remote.git",
            ],
        );
        let site = root.join("site");
        std::fs::create_dir_all(&site).expect("site");
        std::fs::write(site.join("index.html"), "all good").expect("written");
        Publisher {
            git_dir: root.join("status.git"),
            work_tree: site,
            remote: format!("file://{}", root.join("remote.git").display()),
            branch: branch.to_owned(),
            author: Author {
                name: "Brigade".to_owned(),
                email: "brigade@example.org".to_owned(),
            },
        }
    }

    /// The files of `branch` in the remote, and their text.
    fn remote_files(root: &Path, branch: &str) -> Vec<(String, String)> {
        let remote = root.join("remote.git");
        git(&remote, &["ls-tree", "--name-only", branch])
            .lines()
            .map(|name| {
                let text = git(&remote, &["show", &format!("{branch}:{name}")]);
                (name.to_owned(), text)
            })
            .collect()
    }

    fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
            .collect()
    }

    #[tokio::test]
    async fn a_remote_without_the_branch_gets_it_and_nothing_is_pushed_twice() {
        let root = tempfile::tempdir().expect("a directory");
        let publisher = setup(root.path(), "main");
        let Published::Pushed(first) = publisher
            .publish(&["index.html"], "First")
            .await
            .expect("pushed")
        else {
            panic!("an empty remote gets the site");
        };
        assert_eq!(
            remote_files(root.path(), "main"),
            files(&[("index.html", "all good")])
        );
        assert_eq!(
            publisher
                .publish(&["index.html"], "Again")
                .await
                .expect("done"),
            Published::Unchanged
        );
        let log = git(
            &root.path().join("remote.git"),
            &["log", "--format=%H %an %s", "main"],
        );
        assert_eq!(log.trim(), format!("{first} Brigade First"));
    }

    #[tokio::test]
    async fn files_others_push_are_kept_and_the_remote_is_never_stored() {
        let root = tempfile::tempdir().expect("a directory");
        let publisher = setup(root.path(), "main");
        // Someone else's commit is there first, as is a remote kept by an earlier version.
        let other = root.path().join("other");
        git(
            root.path(),
            &["clone", "--quiet", &publisher.remote, "other"],
        );
        std::fs::write(other.join("CNAME"), "status.example.org").expect("written");
        git(&other, &["add", "CNAME"]);
        git(&other, &["commit", "--quiet", "-m", "Our domain"]);
        git(&other, &["push", "--quiet", "origin", "HEAD:main"]);
        git(root.path(), &["init", "--quiet", "--bare", "status.git"]);
        git(
            &root.path().join("status.git"),
            &[
                "remote",
                "add",
                "origin",
                "https://brigade:s3cret@example.org/s.git",
            ],
        );

        publisher
            .publish(&["index.html"], "Site")
            .await
            .expect("pushed");
        assert_eq!(
            remote_files(root.path(), "main"),
            files(&[("CNAME", "status.example.org"), ("index.html", "all good")])
        );
        let config = std::fs::read_to_string(root.path().join("status.git/config")).expect("read");
        assert!(
            !config.contains("s3cret") && !config.contains("remote.git"),
            "{config}"
        );

        // A change of branch to one the remote lacks starts it from the files alone.
        let pages = Publisher {
            branch: "site/pages".to_owned(),
            ..publisher
        };
        std::fs::write(pages.work_tree.join("index.html"), "degraded").expect("written");
        pages
            .publish(&["index.html"], "Pages")
            .await
            .expect("pushed");
        assert_eq!(
            remote_files(root.path(), "site/pages"),
            files(&[("index.html", "degraded")])
        );
    }

    #[tokio::test]
    async fn a_failed_push_says_why_without_the_token() {
        let root = tempfile::tempdir().expect("a directory");
        let publisher = Publisher {
            // Nothing listens on port 1.
            remote: "https://brigade:s3cret@127.0.0.1:1/status.git".to_owned(),
            ..setup(root.path(), "main")
        };
        let error = publisher
            .publish(&["index.html"], "Site")
            .await
            .expect_err("nowhere to push")
            .to_string();
        assert!(error.starts_with("git ls-remote: "), "{error}");
        assert!(!error.contains("s3cret"), "{error}");
    }

    #[test]
    fn credentials_in_the_remote_never_reach_a_message() {
        let remote = "https://brigade:s3cret@git.example.org/status.git";
        assert_eq!(
            without_credentials(
                "fatal: unable to access 'https://brigade:s3cret@git.example.org/status.git/'",
                remote
            ),
            "fatal: unable to access 'https://***@git.example.org/status.git/'"
        );
        assert_eq!(
            without_credentials("fatal: no", "git@example.org:status.git"),
            "fatal: no"
        );
        let ssh = "ssh://git@git.example.org/ops/status.git";
        assert_eq!(
            without_credentials("git push: no access to ssh://git@git.example.org/ops", ssh),
            "git push: no access to ssh://git@git.example.org/ops",
            "a user name is not a secret"
        );
        assert_eq!(
            without_credentials(
                "at ssh://git:hunter2@git.example.org/",
                "ssh://git:hunter2@git.example.org/s.git"
            ),
            "at ssh://git:***@git.example.org/"
        );
        assert_eq!(
            without_credentials(
                "at https://ghp_token@github.com/o/s.git",
                "https://ghp_token@github.com/o/s.git"
            ),
            "at https://***@github.com/o/s.git"
        );
        assert_eq!(
            without_credentials("fatal: no", "/srv/git/status.git"),
            "fatal: no"
        );
    }
}
