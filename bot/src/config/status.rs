//! `[status]`: the public status page (SPEC §15) and the components incidents affect.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::ConfigError;

/// The longest component name: it is a word in `!inc affects` and a row on the page.
const MAX_NAME_CHARS: usize = 64;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStatus {
    title: Option<String>,
    directory: Option<PathBuf>,
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
}

impl RawStatus {
    /// The site is written under the store's directory unless placed elsewhere.
    pub(super) fn validate(self, storage: &Path) -> Result<StatusConfig, ConfigError> {
        let invalid = |reason: String| ConfigError::Status(reason);
        let title = self.title.unwrap_or_else(|| "Status".to_owned());
        if title.trim().is_empty() {
            return Err(invalid("title: must not be empty".to_owned()));
        }
        let mut components: Vec<Component> = Vec::new();
        for raw in self.components {
            let name = raw.name.trim().to_owned();
            if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
                return Err(invalid(format!(
                    "components: a name must be 1 to {MAX_NAME_CHARS} characters, not `{name}`"
                )));
            }
            let id = slug(&name);
            if id.is_empty() {
                return Err(invalid(format!(
                    "components: `{name}` needs a letter or a digit"
                )));
            }
            if components
                .iter()
                .any(|known| known.name.eq_ignore_ascii_case(&name) || known.id == id)
            {
                return Err(invalid(format!(
                    "components: `{name}` is named twice (names are compared in any case)"
                )));
            }
            components.push(Component {
                id,
                name,
                group: raw.group.filter(|group| !group.trim().is_empty()),
                description: raw.description.filter(|text| !text.trim().is_empty()),
            });
        }
        Ok(StatusConfig {
            title,
            directory: self.directory.unwrap_or_else(|| storage.join("status")),
            components,
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
        .validate(Path::new("/var/lib/brigade"))
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
            .validate(Path::new("data"))
            .expect_err("refused");
            assert!(error.to_string().contains(reason), "{error}");
        }
    }
}
