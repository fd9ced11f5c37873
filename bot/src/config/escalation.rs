//! `[[escalation]]` policies (SPEC §14): ordered levels, each paged in turn until someone
//! acknowledges, the last one again `repeat` times.

use std::time::Duration;

use brigade_core::oncall::Rotation;
use matrix_sdk::ruma::OwnedUserId;
use serde::Deserialize;

use super::{error::ConfigError, sections::Group};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    name: String,
    #[serde(default)]
    repeat: u32,
    #[serde(default)]
    levels: Vec<RawLevel>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLevel {
    #[serde(default)]
    page: Vec<String>,
    #[serde(default, with = "humantime_serde")]
    wait: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    notify_after: Option<Duration>,
}

/// An escalation policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The name `!inc page`, `[[oncall]] escalation` and `[[routes]] escalation` take.
    pub name: String,
    /// Paged in order, the first by the page that starts the policy.
    pub levels: Vec<Level>,
    /// How many times the last level is paged again before the policy gives up.
    pub repeat: u32,
}

/// One level of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    /// Whom it pages, as `!inc page` words: a group, `oncall:<team>`, `@user:server`.
    pub page: Vec<String>,
    /// How long it waits for an acknowledgement before the next level.
    pub wait: Duration,
    /// How long its page may go unacknowledged in Matrix before the people it paged are
    /// notified outside Matrix too (`[notify]`).
    pub notify_after: Duration,
}

impl Policy {
    /// The level paged at step `level` (from 0), the last one for any beyond it.
    pub fn level(&self, level: usize) -> &Level {
        &self.levels[level.min(self.levels.len() - 1)]
    }
}

/// How long a page waits for an acknowledgement in Matrix before notifications go out.
const DEFAULT_NOTIFY_AFTER: Duration = Duration::from_secs(2 * 60);

/// The most a policy may repeat its last level: beyond that it pages forever in practice.
const MAX_REPEAT: u32 = 100;

fn invalid(name: &str, reason: impl std::fmt::Display) -> ConfigError {
    ConfigError::Escalation(format!("policy `{name}`: {reason}"))
}

pub(super) fn validate_escalation(
    raw: Vec<RawPolicy>,
    groups: &[Group],
    rotations: &[Rotation],
) -> Result<Vec<Policy>, ConfigError> {
    let mut policies: Vec<Policy> = Vec::with_capacity(raw.len());
    for policy in raw {
        let name = policy.name.as_str();
        let word = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !word {
            return Err(invalid(
                name,
                "not a usable name (letters, digits, - and _)",
            ));
        }
        if groups
            .iter()
            .any(|group| group.name.eq_ignore_ascii_case(name))
        {
            return Err(invalid(
                name,
                "a [[groups]] entry has the same name, so `!inc page` could not tell them apart",
            ));
        }
        if policies
            .iter()
            .any(|known| known.name.eq_ignore_ascii_case(name))
        {
            return Err(invalid(name, "is defined twice"));
        }
        if policy.levels.is_empty() {
            return Err(invalid(name, "needs at least one [[escalation.levels]]"));
        }
        if policy.repeat > MAX_REPEAT {
            return Err(invalid(
                name,
                format!("repeat {} is more than {MAX_REPEAT}", policy.repeat),
            ));
        }
        let mut levels = Vec::with_capacity(policy.levels.len());
        for (index, level) in policy.levels.into_iter().enumerate() {
            let which = format!("level {}", index + 1);
            let wait = level.wait.ok_or_else(|| {
                invalid(
                    name,
                    format!("{which} has no `wait` (how long to wait for an acknowledgement, e.g. \"5m\")"),
                )
            })?;
            if wait.is_zero() {
                return Err(invalid(
                    name,
                    format!("{which}: `wait` must be longer than zero"),
                ));
            }
            if level.page.is_empty() {
                return Err(invalid(
                    name,
                    format!("{which} pages nobody (`page` is empty)"),
                ));
            }
            for target in &level.page {
                check_target(target, groups, rotations)
                    .map_err(|reason| invalid(name, format!("{which}: {reason}")))?;
            }
            levels.push(Level {
                page: level.page,
                wait,
                notify_after: level.notify_after.unwrap_or(DEFAULT_NOTIFY_AFTER),
            });
        }
        policies.push(Policy {
            name: policy.name,
            levels,
            repeat: policy.repeat,
        });
    }
    Ok(policies)
}

/// Whether each level mails before the next one comes: a level whose `notify_after` is not
/// shorter than its `wait` would never mail anyone.
pub(super) fn check_notify_after(policies: &[Policy]) -> Result<(), ConfigError> {
    for policy in policies {
        for (index, level) in policy.levels.iter().enumerate() {
            if level.notify_after >= level.wait {
                return Err(invalid(
                    &policy.name,
                    format!(
                        "level {}: notify_after ({}) is not shorter than its wait ({}), so the next level would come before anyone is notified outside Matrix; set a shorter notify_after",
                        index + 1,
                        humantime_serde::re::humantime::format_duration(level.notify_after),
                        humantime_serde::re::humantime::format_duration(level.wait),
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Whether a level's `page` word names someone: a full Matrix ID, a known team's on-call, a
/// known group.
fn check_target(target: &str, groups: &[Group], rotations: &[Rotation]) -> Result<(), String> {
    if target.starts_with('@') {
        return OwnedUserId::try_from(target).map(drop).map_err(|error| {
            format!("`{target}` is not a Matrix user ID (@name:server): {error}")
        });
    }
    if let Some(team) = target.strip_prefix("oncall:") {
        return if rotations
            .iter()
            .any(|rotation| rotation.team().eq_ignore_ascii_case(team))
        {
            Ok(())
        } else {
            Err(format!("no [[oncall]] team named `{team}`"))
        };
    }
    if groups
        .iter()
        .any(|group| group.name.eq_ignore_ascii_case(target))
    {
        Ok(())
    } else {
        Err(format!(
            "`{target}` is neither a [[groups]] name, `oncall:<team>` nor `@user:server`"
        ))
    }
}

/// Whether `name` names one of `policies`; if not, why, naming those there are.
pub(super) fn check_reference(policies: &[Policy], name: &str) -> Result<(), String> {
    if policies
        .iter()
        .any(|policy| policy.name.eq_ignore_ascii_case(name))
    {
        return Ok(());
    }
    let known: Vec<&str> = policies.iter().map(|policy| policy.name.as_str()).collect();
    Err(if known.is_empty() {
        format!("no [[escalation]] policy named `{name}`: none are configured")
    } else {
        format!(
            "no [[escalation]] policy named `{name}` (policies: {})",
            known.join(", ")
        )
    })
}
