//! `[status]`: the public status page (SPEC §15) and the components incidents affect.

use std::path::{Path, PathBuf};

use matrix_sdk::ruma::{RoomAliasId, ServerName};
use serde::Deserialize;

use super::error::ConfigError;
use crate::markdown::escape;

/// The longest component name: it is a word in `!inc affects` and a row on the page.
const MAX_NAME_CHARS: usize = 64;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStatus {
    title: Option<String>,
    directory: Option<PathBuf>,
    git: Option<String>,
    git_branch: Option<String>,
    room: Option<String>,
    #[serde(default)]
    components: Vec<RawComponent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    name: String,
    group: Option<String>,
    description: Option<String>,
}

/// `[status]`
#[derive(Debug, Clone)]
pub struct StatusConfig {
    /// The page's heading.
    pub title: String,
    /// Where the site is written (and served from at `/status/`).
    pub directory: PathBuf,
    /// What the page shows the state of, in the order configured.
    pub components: Vec<Component>,
    /// Where the site is pushed after every change, if anywhere.
    pub git: Option<GitTarget>,
    /// The alias localpart of the public room the bot announces public updates in, if any.
    pub room: Option<String>,
}

/// `status.git` and `status.git_branch`: a repository the site is pushed to, for static
/// hosting away from the infrastructure it describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitTarget {
    /// A URL (`https://…`, `ssh://…`, `git@host:path`, `file://…`) or an absolute path.
    pub remote: String,
    /// The branch written to.
    pub branch: String,
}

/// `[[status.components]]`: something people outside use, whose state the page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// Its identifier in the page's JSON and anchors: the name in lower case, words joined by
    /// `-`.
    pub id: String,
    /// Its name, as `!inc affects` takes it (in any case).
    pub name: String,
    /// The heading it is listed under.
    pub group: Option<String>,
    /// A line on what it is.
    pub description: Option<String>,
}

impl StatusConfig {
    /// The component called `name` (any case), or with that identifier.
    pub fn component(&self, name: &str) -> Option<&Component> {
        self.components.iter().find(|component| {
            component.name.eq_ignore_ascii_case(name) || component.id == name.to_lowercase()
        })
    }

    /// Why `typed` names no component: what the page has instead (Markdown: `typed` may come
    /// from an alert's label).
    pub fn unknown(&self, typed: &str) -> String {
        if self.components.is_empty() {
            return "the status page has no components: an operator adds them as \
                    [[status.components]]"
                .to_owned();
        }
        let names: Vec<String> = self
            .components
            .iter()
            .map(|component| escape(&component.name))
            .collect();
        format!(
            "unknown component “{}”: the status page has {}",
            escape(typed),
            names.join(", ")
        )
    }
}

impl RawStatus {
    /// The site is written under the store's directory unless placed elsewhere.
    pub(super) fn validate(
        self,
        storage: &Path,
        server: &ServerName,
    ) -> Result<StatusConfig, ConfigError> {
        let invalid = |reason: String| ConfigError::Status {
            key: "components",
            reason,
        };
        let title = self.title.unwrap_or_else(|| "Status".to_owned());
        if title.trim().is_empty() {
            return Err(ConfigError::Status {
                key: "title",
                reason: "must not be empty".to_owned(),
            });
        }
        let mut components: Vec<Component> = Vec::new();
        for raw in self.components {
            let name = raw.name.trim().to_owned();
            if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
                return Err(invalid(format!(
                    "a name must be 1 to {MAX_NAME_CHARS} characters, not `{name}`"
                )));
            }
            let id = slug(&name);
            if id.is_empty() {
                return Err(invalid(format!("`{name}` needs a letter or a digit")));
            }
            if components
                .iter()
                .any(|known| known.name.eq_ignore_ascii_case(&name) || known.id == id)
            {
                return Err(invalid(format!(
                    "`{name}` is named twice (names are compared in any case)"
                )));
            }
            components.push(Component {
                id,
                name,
                group: raw.group.filter(|group| !group.trim().is_empty()),
                description: raw.description.filter(|text| !text.trim().is_empty()),
            });
        }
        let git = match self.git {
            Some(remote) => Some(git_target(remote, self.git_branch)?),
            None if self.git_branch.is_some() => {
                return Err(ConfigError::Status {
                    key: "git_branch",
                    reason: "needs `status.git`, the repository it is a branch of".to_owned(),
                })
            }
            None => None,
        };
        if let Some(room) = &self.room {
            if room.is_empty() || RoomAliasId::parse(format!("#{room}:{server}")).is_err() {
                return Err(ConfigError::Status {
                    key: "room",
                    reason: format!("`{room}` is not a valid room alias localpart"),
                });
            }
        }
        Ok(StatusConfig {
            title,
            directory: self.directory.unwrap_or_else(|| storage.join("status")),
            components,
            git,
            room: self.room,
        })
    }
}

/// The repository and branch, if git could take them: a remote is a URL, `host:path` or an
/// absolute path (a relative one would depend on where the bot was started); a branch is a
/// plain name.
fn git_target(remote: String, branch: Option<String>) -> Result<GitTarget, ConfigError> {
    let remote = remote.trim().to_owned();
    let scp_like = remote
        .split_once(':')
        .is_some_and(|(host, _)| !host.is_empty() && !host.contains('/'));
    if remote.is_empty()
        || remote.starts_with('-')
        || remote.chars().any(char::is_whitespace)
        || !(remote.contains("://") || scp_like || Path::new(&remote).is_absolute())
    {
        return Err(ConfigError::Status {
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
        return Err(ConfigError::Status {
            key: "git_branch",
            reason: format!("`{branch}` is not a branch name git accepts"),
        });
    }
    Ok(GitTarget { remote, branch })
}

/// `Search API` → `search-api`: letters and digits in lower case, the rest one `-`.
fn slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() {
            slug.extend(c.to_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> &'static ServerName {
        <&ServerName>::try_from("example.org").expect("a server name")
    }

    fn component(name: &str) -> RawComponent {
        RawComponent {
            name: name.to_owned(),
            group: None,
            description: None,
        }
    }

    #[test]
    fn components_are_found_by_name_in_any_case_or_by_identifier() {
        let status = RawStatus {
            components: vec![component("Search API"), component("Checkout")],
            ..RawStatus::default()
        }
        .validate(Path::new("/var/lib/brigade"), server())
        .expect("valid");
        assert_eq!(status.title, "Status");
        assert_eq!(status.directory, Path::new("/var/lib/brigade/status"));
        assert_eq!(status.components[0].id, "search-api");
        assert_eq!(
            status.component("search api").map(|c| c.name.as_str()),
            Some("Search API")
        );
        assert_eq!(
            status.component("search-api").map(|c| c.name.as_str()),
            Some("Search API")
        );
        assert!(status.component("billing").is_none());
    }

    #[test]
    fn refuses_components_no_command_could_name_apart() {
        for (components, reason) in [
            (vec![component("  ")], "must be 1 to 64 characters"),
            (vec![component("x".repeat(65).as_str())], "1 to 64"),
            (vec![component("!!")], "needs a letter or a digit"),
            (
                vec![component("Checkout"), component("checkout")],
                "named twice",
            ),
            (
                vec![component("Search API"), component("search-api")],
                "named twice",
            ),
        ] {
            let error = RawStatus {
                components,
                ..RawStatus::default()
            }
            .validate(Path::new("data"), server())
            .expect_err("refused");
            assert!(error.to_string().contains(reason), "{error}");
        }
    }

    #[test]
    fn the_site_is_pushed_where_git_can_push_and_nowhere_else() {
        for remote in [
            "https://git.example.org/ops/status.git",
            "ssh://git@git.example.org/ops/status.git",
            "git@git.example.org:ops/status.git",
            "file:///srv/git/status.git",
            "/srv/git/status.git",
        ] {
            let target = git_target(remote.to_owned(), None).expect(remote);
            assert_eq!(
                (target.remote.as_str(), target.branch.as_str()),
                (remote, "main")
            );
        }
        for branch in ["gh-pages", "site/v1.2", "HEADS"] {
            assert_eq!(
                git_target("/srv/status.git".to_owned(), Some(branch.to_owned()))
                    .expect(branch)
                    .branch,
                branch
            );
        }
        for (remote, branch, reason) in [
            (
                "status.git",
                None,
                "status.git: `status.git` is not a repository",
            ),
            ("", None, "is not a repository"),
            ("--upload-pack=evil", None, "is not a repository"),
            (
                "https://brigade:s3cret@example.org/s.git x",
                None,
                "`https://***@example.org/s.git x`",
            ),
            (
                "/srv/s.git",
                Some("gh pages"),
                "status.git_branch: `gh pages`",
            ),
            ("/srv/s.git", Some("../main"), "not a branch name"),
            ("/srv/s.git", Some("main.lock"), "not a branch name"),
            ("/srv/s.git", Some("-f"), "not a branch name"),
            ("/srv/s.git", Some("pages/.hidden"), "not a branch name"),
            ("/srv/s.git", Some("old.lock/pages"), "not a branch name"),
            ("/srv/s.git", Some("pages//site"), "not a branch name"),
            ("/srv/s.git", Some("/pages"), "not a branch name"),
            ("/srv/s.git", Some("pages/"), "not a branch name"),
            ("/srv/s.git", Some("HEAD"), "not a branch name"),
            ("/srv/s.git", Some(""), "not a branch name"),
        ] {
            let error = git_target(remote.to_owned(), branch.map(str::to_owned)).expect_err(remote);
            assert!(error.to_string().contains(reason), "{error}");
        }
        let error = RawStatus {
            git_branch: Some("main".to_owned()),
            ..RawStatus::default()
        }
        .validate(Path::new("data"), server())
        .expect_err("a branch of nothing");
        assert!(
            error.to_string().starts_with("status.git_branch: needs"),
            "{error}"
        );
    }
}
