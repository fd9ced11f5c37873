//! `[[oncall]]` rotations and `[[routes]]` keyword routing (SPEC §12).

use std::path::PathBuf;

use brigade_core::oncall::{Override, Rotation};
use jiff::{tz::TimeZone, Timestamp};
use matrix_sdk::ruma::{OwnedRoomOrAliasId, OwnedUserId};
use serde::Deserialize;

use super::{ConfigError, Group};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOnCall {
    team: String,
    #[serde(default)]
    members: Vec<OwnedUserId>,
    start: Option<String>,
    shift_hours: Option<u32>,
    timezone: Option<String>,
    ical: Option<PathBuf>,
    handoff_room: Option<OwnedRoomOrAliasId>,
    #[serde(default)]
    overrides: Vec<RawOverride>,
}

/// Where a team's handoffs are announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handoff {
    /// The team.
    pub team: String,
    /// The room (by ID or alias) the bot posts in when the team's on-call changes.
    pub room: OwnedRoomOrAliasId,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    who: OwnedUserId,
    from: String,
    until: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    keywords: Vec<String>,
    group: Option<String>,
    oncall: Option<String>,
    #[serde(default)]
    page: bool,
}

/// Who a route points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteTarget {
    /// A `[[groups]]` entry.
    Group(String),
    /// Whoever is on call for a team.
    OnCall(String),
}

/// `[[routes]]`: words that call for specialists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Lower-case words or phrases; any one matches.
    pub keywords: Vec<String>,
    /// Who to page.
    pub target: RouteTarget,
    /// Page at once instead of suggesting it.
    pub page: bool,
}

impl Route {
    /// The `!inc page` argument that reaches this route's people.
    pub fn page_argument(&self) -> String {
        match &self.target {
            RouteTarget::Group(name) => name.clone(),
            RouteTarget::OnCall(team) => format!("oncall:{team}"),
        }
    }

    /// The first keyword `text` mentions as a whole word (any case), if any.
    pub fn matches(&self, text: &str) -> Option<&str> {
        let text = text.to_lowercase();
        self.keywords
            .iter()
            .find(|keyword| {
                text.match_indices(keyword.as_str()).any(|(at, found)| {
                    let before = text[..at].chars().next_back();
                    let after = text[at + found.len()..].chars().next();
                    !before.is_some_and(char::is_alphanumeric)
                        && !after.is_some_and(char::is_alphanumeric)
                })
            })
            .map(String::as_str)
    }
}

fn invalid(team: &str, reason: impl std::fmt::Display) -> ConfigError {
    ConfigError::OnCall(format!("team `{team}`: {reason}"))
}

pub(super) fn validate_oncall(
    raw: Vec<RawOnCall>,
) -> Result<(Vec<Rotation>, Vec<Handoff>), ConfigError> {
    let mut rotations: Vec<Rotation> = Vec::with_capacity(raw.len());
    let mut handoffs = Vec::new();
    for team in raw {
        let name = team.team.as_str();
        if rotations.iter().any(|known| known.team() == name) {
            return Err(invalid(name, "is defined twice"));
        }
        if team.ical.is_some() {
            return Err(invalid(
                name,
                "`ical` rotas are not supported in this version; list members, start and shift_hours",
            ));
        }
        let timestamp = |key: &str, text: &str| {
            text.parse::<Timestamp>().map_err(|error| {
                invalid(
                    name,
                    format!("{key} `{text}` is not an RFC 3339 time: {error}"),
                )
            })
        };
        let start = timestamp(
            "start",
            team.start
                .as_deref()
                .ok_or_else(|| invalid(name, "needs `start`, its first handoff (RFC 3339)"))?,
        )?;
        let zone = match &team.timezone {
            Some(zone) => TimeZone::get(zone)
                .map_err(|error| invalid(name, format!("unknown timezone `{zone}`: {error}")))?,
            None => TimeZone::UTC,
        };
        let overrides = team
            .overrides
            .into_iter()
            .map(|raw| {
                Ok(Override {
                    who: raw.who,
                    from: timestamp("override from", &raw.from)?,
                    until: timestamp("override until", &raw.until)?,
                })
            })
            .collect::<Result<Vec<_>, ConfigError>>()?;
        let rotation = Rotation::new(
            name,
            team.members,
            start,
            team.shift_hours.unwrap_or(DEFAULT_SHIFT_HOURS),
            zone,
            overrides,
        )
        .map_err(|error| ConfigError::OnCall(error.to_string()))?;
        if let Some(room) = team.handoff_room {
            handoffs.push(Handoff {
                team: team.team.clone(),
                room,
            });
        }
        rotations.push(rotation);
    }
    Ok((rotations, handoffs))
}

/// A week.
const DEFAULT_SHIFT_HOURS: u32 = 168;

pub(super) fn validate_routes(
    raw: Vec<RawRoute>,
    groups: &[Group],
    rotations: &[Rotation],
) -> Result<Vec<Route>, ConfigError> {
    raw.into_iter()
        .map(|route| {
            let keywords: Vec<String> = route
                .keywords
                .iter()
                .map(|keyword| keyword.trim().to_lowercase())
                .collect();
            if keywords.is_empty() || keywords.iter().any(String::is_empty) {
                return Err(ConfigError::Route(
                    "keywords must list at least one word, none empty".to_owned(),
                ));
            }
            let target = match (route.group, route.oncall) {
                (Some(group), None) => {
                    if !groups
                        .iter()
                        .any(|known| known.name.eq_ignore_ascii_case(&group))
                    {
                        return Err(ConfigError::Route(format!(
                            "no [[groups]] entry named `{group}`"
                        )));
                    }
                    RouteTarget::Group(group)
                }
                (None, Some(team)) => {
                    if !rotations.iter().any(|known| known.team() == team) {
                        return Err(ConfigError::Route(format!(
                            "no [[oncall]] team named `{team}`"
                        )));
                    }
                    RouteTarget::OnCall(team)
                }
                _ => {
                    return Err(ConfigError::Route(format!(
                        "route for {} needs either `group` or `oncall`",
                        keywords.join(", ")
                    )))
                }
            };
            Ok(Route {
                keywords,
                target,
                page: route.page,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_match_whole_words_in_any_case() {
        let route = Route {
            keywords: vec!["postgres".to_owned(), "dns".to_owned()],
            target: RouteTarget::Group("dba".to_owned()),
            page: false,
        };
        assert_eq!(route.matches("Postgres is down"), Some("postgres"));
        assert_eq!(route.matches("the DNS, again"), Some("dns"));
        assert_eq!(route.matches("postgresql replicas"), None);
        assert_eq!(route.matches("nothing here"), None);
        assert_eq!(route.page_argument(), "dba");
    }
}
