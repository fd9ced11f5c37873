//! `[postmortems]`: where final postmortems are committed, besides the `#postmortems` room.

use serde::Deserialize;

use super::{
    error::ConfigError,
    git::{self, GitTarget},
};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPostmortems {
    git: Option<String>,
    git_branch: Option<String>,
    git_directory: Option<String>,
}

/// `[postmortems]`
#[derive(Debug, Clone, Default)]
pub struct PostmortemsConfig {
    /// The repository each final postmortem is committed to, if any.
    pub git: Option<GitTarget>,
    /// The folder of the repository the postmortems go in (`docs/postmortems`); empty for its
    /// top.
    pub directory: String,
}

impl RawPostmortems {
    pub(super) fn validate(self) -> Result<PostmortemsConfig, ConfigError> {
        let refused = |key, reason| ConfigError::Postmortems { key, reason };
        let git = git::configured("postmortems", self.git, self.git_branch)
            .map_err(|git::Refused { key, reason }| refused(key, reason))?;
        let directory = self.git_directory.unwrap_or_default();
        let directory = directory.trim_matches('/');
        if git.is_none() && !directory.is_empty() {
            return Err(refused(
                "git_directory",
                "needs `postmortems.git`, the repository it is a folder of".to_owned(),
            ));
        }
        // A folder inside the repository: plain names, none hidden (`.git`) or going up.
        let plain = |part: &str| {
            !part.is_empty()
                && !part.starts_with('.')
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        if !directory.is_empty() && !directory.split('/').all(plain) {
            return Err(refused(
                "git_directory",
                format!(
                    "`{directory}` is not a folder of the repository: give plain names \
                     separated by `/`, such as `docs/postmortems`"
                ),
            ));
        }
        Ok(PostmortemsConfig {
            git,
            directory: directory.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(git: Option<&str>, directory: Option<&str>) -> RawPostmortems {
        RawPostmortems {
            git: git.map(str::to_owned),
            git_branch: None,
            git_directory: directory.map(str::to_owned),
        }
    }

    #[test]
    fn postmortems_go_to_a_folder_of_a_repository_git_can_push_to() {
        let config = raw(Some("/srv/git/docs.git"), Some("/docs/postmortems/"))
            .validate()
            .expect("valid");
        assert_eq!(config.directory, "docs/postmortems");
        let target = config.git.expect("a repository");
        assert_eq!(
            (target.remote.as_str(), target.branch.as_str()),
            ("/srv/git/docs.git", "main")
        );
        assert!(raw(None, None).validate().expect("valid").git.is_none());
        for (git, directory, said) in [
            (
                Some("docs.git"),
                None,
                "postmortems.git: `docs.git` is not a repository",
            ),
            (
                None,
                Some("docs"),
                "postmortems.git_directory: needs `postmortems.git`",
            ),
            (
                Some("/srv/d.git"),
                Some("docs/../.."),
                "postmortems.git_directory: `docs/../..`",
            ),
            (
                Some("/srv/d.git"),
                Some(".git/hooks"),
                "is not a folder of the repository",
            ),
            (
                Some("/srv/d.git"),
                Some("a//b"),
                "is not a folder of the repository",
            ),
            (
                Some("/srv/d.git"),
                Some("post mortems"),
                "is not a folder of the repository",
            ),
        ] {
            let error = raw(git, directory).validate().expect_err(said);
            assert!(error.to_string().contains(said), "{error}");
        }
    }
}
