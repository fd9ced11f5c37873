//! `[status]`: the public status page (SPEC §15) and the components incidents affect.

use std::path::{Path, PathBuf};

use matrix_sdk::ruma::{RoomAliasId, ServerName};
use serde::Deserialize;

use super::{
    error::ConfigError,
    git::{self, GitTarget},
};
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
        let git = git::configured("status", self.git, self.git_branch)
            .map_err(|git::Refused { key, reason }| ConfigError::Status { key, reason })?;
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
    fn a_branch_needs_its_repository() {
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
