//! `!inc page <group|policy|oncall:team|@user>…`

use jiff::Timestamp;
use matrix_sdk::ruma::{OwnedUserId, ServerName};

use super::{
    args,
    decision::Refusal,
    info::{CommandInfo, ParseError, Scope, Who},
};
use crate::config::{Config, Level};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "page",
    arguments: "<group|policy|oncall:team|@user>…",
    summary: "invite and notify a configured group, whoever is on call for a team, or people; an escalation policy pages its levels until someone reacts 👀 (commander or moderators)",
    scope: Scope::Incident,
    who: Who::Directors,
    in_shared_room: false,
};

/// Whom `!inc page` reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageTarget {
    /// A configured group or escalation policy, by name (checked when run).
    Named(String),
    /// Whoever is on call for a team now (checked when run).
    OnCall(String),
    /// One person.
    User(OwnedUserId),
}

pub(super) fn parse(rest: &str, server: &ServerName) -> Result<Vec<PageTarget>, ParseError> {
    let mut targets = Vec::new();
    for word in rest.split_whitespace() {
        let target = if word.starts_with('@') {
            PageTarget::User(args::user(word, server)?)
        } else if let Some(team) = word.strip_prefix("oncall:") {
            if team.is_empty() {
                return Err(ParseError::Invalid(
                    "`oncall:` needs a team: `!inc page oncall:db`".to_owned(),
                ));
            }
            PageTarget::OnCall(team.to_owned())
        } else {
            PageTarget::Named(word.to_owned())
        };
        if !targets.contains(&target) {
            targets.push(target);
        }
    }
    if targets.is_empty() {
        return Err(args::usage(&INFO));
    }
    Ok(targets)
}

/// Someone a page reaches, and why (the group or on-call they were paged as).
pub type Paged = (OwnedUserId, Option<String>);

/// What a page does: whom it reaches now, and the escalation policies it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    /// Whom it reaches now, each once.
    pub people: Vec<Paged>,
    /// The escalation policies it starts, by name: their first levels are among `people`.
    pub policies: Vec<String>,
}

/// What paging `targets` does at `now`: a policy's name, or a team whose `[[oncall]]` names
/// one, starts that policy and reaches its first level; the rest as [`people`] says.
pub fn paging(targets: &[PageTarget], config: &Config, now: Timestamp) -> Result<Paging, Refusal> {
    let mut reached = Vec::with_capacity(targets.len());
    let mut policies: Vec<String> = Vec::new();
    for target in targets {
        let policy = match target {
            PageTarget::Named(name) => config.policy(name),
            PageTarget::OnCall(team) => config.team_policy(team),
            PageTarget::User(_) => None,
        };
        let Some(policy) = policy else {
            reached.push(target.clone());
            continue;
        };
        if !policies.contains(&policy.name) {
            policies.push(policy.name.clone());
        }
        reached.extend(level_targets(policy.level(0), config)?);
    }
    Ok(Paging {
        people: people(&reached, config, now)?,
        policies,
    })
}

/// Whom `level` pages, as targets.
pub fn level_targets(level: &Level, config: &Config) -> Result<Vec<PageTarget>, Refusal> {
    // The words were checked when the configuration was loaded.
    parse(&level.page.join(" "), config.matrix.user_id.server_name())
        .map_err(|error| Refusal::new(format!("the escalation level cannot be paged: {error}")))
}

/// Whom `words` name, as `!inc page` reads them: words from outside the configuration (an
/// alert's route), refused as a command's would be.
pub fn targets(words: &str, config: &Config) -> Result<Vec<PageTarget>, Refusal> {
    parse(words, config.matrix.user_id.server_name())
        .map_err(|error| Refusal::new(error.to_string()))
}

/// Whom `targets` reach at `now`, each once, in order; refused when a team is unknown, then
/// when a team has nobody on call, then when a group is unknown (in that order, whatever order
/// the targets were typed in).
pub fn people(
    targets: &[PageTarget],
    config: &Config,
    now: Timestamp,
) -> Result<Vec<Paged>, Refusal> {
    let teams = || {
        targets.iter().filter_map(|target| match target {
            PageTarget::OnCall(team) => Some(team.as_str()),
            _ => None,
        })
    };
    if let Some(team) = teams().find(|team| config.rotation(team).is_none()) {
        return Err(unknown_team(config, team));
    }
    let mut on_call = Vec::new();
    for team in teams() {
        let rotation = config
            .rotation(team)
            .ok_or_else(|| unknown_team(config, team))?;
        let who = rotation.on_call(now).ok_or_else(|| {
            Refusal::new(format!(
                "nobody is on call for {} right now; page people with @name",
                rotation.team()
            ))
        })?;
        on_call.push((who.who, format!("on call for {}", rotation.team())));
    }
    let unknown = |target: &PageTarget| matches!(target, PageTarget::Named(name) if config.group(name).is_none());
    if targets.iter().any(unknown) {
        return Err(unknown_groups(config, targets));
    }
    let mut people: Vec<Paged> = Vec::new();
    let mut on_call = on_call.into_iter();
    for target in targets {
        let found: Vec<Paged> = match target {
            PageTarget::User(user) => vec![(user.clone(), None)],
            PageTarget::OnCall(_) => on_call
                .next()
                .map(|(who, why)| (who, Some(why)))
                .into_iter()
                .collect(),
            PageTarget::Named(name) => config
                .group(name)
                .map(|group| {
                    group
                        .members
                        .iter()
                        .map(|member| (member.clone(), Some(group.name.clone())))
                        .collect()
                })
                .unwrap_or_default(),
        };
        for (user, group) in found {
            if !people.iter().any(|(known, _)| *known == user) {
                people.push((user, group));
            }
        }
    }
    Ok(people)
}

pub(super) fn unknown_team(config: &Config, team: &str) -> Refusal {
    let teams: Vec<&str> = config
        .oncall
        .iter()
        .map(|rotation| rotation.team())
        .collect();
    Refusal::new(if teams.is_empty() {
        format!("no on-call team `{team}`: no rotations are configured")
    } else {
        format!("no on-call team `{team}` (teams: {})", teams.join(", "))
    })
}

/// Names every unknown group of `targets`, with the groups there are.
fn unknown_groups(config: &Config, targets: &[PageTarget]) -> Refusal {
    let unknown: Vec<&str> = targets
        .iter()
        .filter_map(|target| match target {
            PageTarget::Named(name) if config.group(name).is_none() => Some(name.as_str()),
            _ => None,
        })
        .collect();
    let known = if config.groups.is_empty() {
        "no groups are configured; page people with @name".to_owned()
    } else {
        let names: Vec<&str> = config
            .groups
            .iter()
            .map(|group| group.name.as_str())
            .collect();
        format!("groups: {}", names.join(", "))
    };
    if config.escalation.is_empty() {
        return Refusal::new(format!(
            "no group named `{}` ({known})",
            unknown.join("`, `")
        ));
    }
    let policies: Vec<&str> = config
        .escalation
        .iter()
        .map(|policy| policy.name.as_str())
        .collect();
    Refusal::new(format!(
        "no group or escalation policy named `{}` ({known}; policies: {})",
        unknown.join("`, `"),
        policies.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use matrix_sdk::ruma::owned_user_id;

    use super::*;

    #[test]
    fn groups_and_on_call_teams_reach_their_people_once_each() {
        let config = Config::for_tests(
            "[[groups]]\nname = \"dba\"\nmembers = [\"@bob:example.org\", \"@dan:example.org\"]\n\
             [[oncall]]\nteam = \"db\"\nmembers = [\"@dan:example.org\"]\nstart = \"2026-01-05T09:00:00Z\"\nshift_hours = 168\n",
        );
        let now: Timestamp = "2026-12-01T10:00:00Z".parse().expect("a time");
        let targets = [
            PageTarget::Named("DBA".to_owned()),
            PageTarget::OnCall("db".to_owned()),
            PageTarget::User(owned_user_id!("@bob:example.org")),
        ];
        let people = people(&targets, &config, now).expect("known");
        let users: Vec<&str> = people.iter().map(|(user, _)| user.as_str()).collect();
        assert_eq!(
            users,
            ["@bob:example.org", "@dan:example.org"],
            "each once, in order"
        );
        assert_eq!(people[0].1.as_deref(), Some("dba"));

        let unknown = people_refused(&config, &[PageTarget::Named("dns".to_owned())], now);
        assert!(
            unknown.contains("no group named `dns` (groups: dba)"),
            "{unknown}"
        );
        let team = people_refused(&config, &[PageTarget::OnCall("web".to_owned())], now);
        assert!(team.contains("no on-call team `web` (teams: db)"), "{team}");
        // Whatever the order typed, an unknown team is named before an unknown group.
        let both = [
            PageTarget::Named("sre".to_owned()),
            PageTarget::OnCall("nope".to_owned()),
        ];
        let first = people_refused(&config, &both, now);
        assert!(first.contains("no on-call team `nope`"), "{first}");
    }

    fn people_refused(config: &Config, targets: &[PageTarget], now: Timestamp) -> String {
        people(targets, config, now).expect_err("refused").text
    }
}
