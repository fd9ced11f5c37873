//! A repository the bot pushes to (`status.git`, `postmortems.git`) and its branch, checked the
//! same way wherever one is configured.

use std::path::Path;

/// A repository and the branch written to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitTarget {
    /// A URL (`https://…`, `ssh://…`, `git@host:path`, `file://…`) or an absolute path.
    pub remote: String,
    /// The branch written to.
    pub branch: String,
}

/// Which key of a section is wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Refused {
    /// `git` or `git_branch`.
    pub key: &'static str,
    /// What is wrong.
    pub reason: String,
}

/// `git` and `git_branch` of `section`: no repository, or one git can take; a branch needs
/// its repository.
pub(super) fn configured(
    section: &str,
    remote: Option<String>,
    branch: Option<String>,
) -> Result<Option<GitTarget>, Refused> {
    match remote {
        Some(remote) => target(remote, branch).map(Some),
        None if branch.is_some() => Err(Refused {
            key: "git_branch",
            reason: format!("needs `{section}.git`, the repository it is a branch of"),
        }),
        None => Ok(None),
    }
}

/// The repository and branch, if git could take them: a remote is a URL, `host:path` or an
/// absolute path (a relative one would depend on where the bot was started); a branch is a
/// plain name.
fn target(remote: String, branch: Option<String>) -> Result<GitTarget, Refused> {
    let remote = remote.trim().to_owned();
    let scp_like = remote
        .split_once(':')
        .is_some_and(|(host, _)| !host.is_empty() && !host.contains('/'));
    if remote.is_empty()
        || remote.starts_with('-')
        || remote.chars().any(char::is_whitespace)
        || !(remote.contains("://") || scp_like || Path::new(&remote).is_absolute())
    {
        return Err(Refused {
            key: "git",
            reason: format!(
                "`{}` is not a repository git can push to: give a URL (https://, ssh://, \
                 file://), host:path or an absolute path",
                crate::git::without_credentials(&remote, &remote)
            ),
        });
    }
    let branch = branch.unwrap_or_else(|| "main".to_owned());
    // `git check-ref-format --branch`, for the characters allowed here: no part of the path is
    // empty, hidden or a lock file.
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./".contains(c);
    let part = |part: &str| !part.is_empty() && !part.starts_with('.') && !part.ends_with(".lock");
    if branch == "HEAD"
        || branch.starts_with('-')
        || branch.ends_with('.')
        || branch.contains("..")
        || !branch.chars().all(plain)
        || !branch.split('/').all(part)
    {
        return Err(Refused {
            key: "git_branch",
            reason: format!("`{branch}` is not a branch name git accepts"),
        });
    }
    Ok(GitTarget { remote, branch })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repository_is_one_git_can_push_to_and_nothing_else() {
        for remote in [
            "https://git.example.org/ops/status.git",
            "ssh://git@git.example.org/ops/status.git",
            "git@git.example.org:ops/status.git",
            "file:///srv/git/status.git",
            "/srv/git/status.git",
        ] {
            let target = target(remote.to_owned(), None).expect(remote);
            assert_eq!(
                (target.remote.as_str(), target.branch.as_str()),
                (remote, "main")
            );
        }
        for branch in ["gh-pages", "site/v1.2", "HEADS"] {
            assert_eq!(
                target("/srv/status.git".to_owned(), Some(branch.to_owned()))
                    .expect(branch)
                    .branch,
                branch
            );
        }
        for (remote, branch, key, reason) in [
            (
                "status.git",
                None,
                "git",
                "`status.git` is not a repository",
            ),
            ("", None, "git", "is not a repository"),
            ("--upload-pack=evil", None, "git", "is not a repository"),
            (
                "https://brigade:s3cret@example.org/s.git x",
                None,
                "git",
                "`https://***@example.org/s.git x`",
            ),
            ("/srv/s.git", Some("gh pages"), "git_branch", "`gh pages`"),
            (
                "/srv/s.git",
                Some("../main"),
                "git_branch",
                "not a branch name",
            ),
            (
                "/srv/s.git",
                Some("main.lock"),
                "git_branch",
                "not a branch name",
            ),
            ("/srv/s.git", Some("-f"), "git_branch", "not a branch name"),
            (
                "/srv/s.git",
                Some("pages/.hidden"),
                "git_branch",
                "not a branch name",
            ),
            (
                "/srv/s.git",
                Some("old.lock/pages"),
                "git_branch",
                "not a branch name",
            ),
            (
                "/srv/s.git",
                Some("pages//site"),
                "git_branch",
                "not a branch name",
            ),
            (
                "/srv/s.git",
                Some("/pages"),
                "git_branch",
                "not a branch name",
            ),
            (
                "/srv/s.git",
                Some("pages/"),
                "git_branch",
                "not a branch name",
            ),
            (
                "/srv/s.git",
                Some("HEAD"),
                "git_branch",
                "not a branch name",
            ),
            ("/srv/s.git", Some(""), "git_branch", "not a branch name"),
        ] {
            let refused = target(remote.to_owned(), branch.map(str::to_owned)).expect_err(remote);
            assert_eq!(refused.key, key, "{remote}");
            assert!(refused.reason.contains(reason), "{refused:?}");
        }
        assert_eq!(configured("postmortems", None, None), Ok(None));
        let refused = configured("postmortems", None, Some("main".to_owned()))
            .expect_err("a branch of nothing");
        assert_eq!(
            (refused.key, refused.reason.as_str()),
            (
                "git_branch",
                "needs `postmortems.git`, the repository it is a branch of"
            )
        );
    }
}
