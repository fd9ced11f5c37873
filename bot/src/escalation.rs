//! Escalation policies in words: the levels `!inc oncall` shows. Pure: the configuration and the
//! time come in.

use brigade_core::clock::millis;
use jiff::Timestamp;

use crate::{
    config::{Config, Policy},
    names::Names,
    oncall, report,
};

/// An escalation policy's levels in one line: ``🪜 Escalation **db**: `oncall:db` 5m → `dba` 10m
/// (the last one again 2×)``.
pub fn policy_line(policy: &Policy) -> String {
    let levels: Vec<String> = policy
        .levels
        .iter()
        .map(|level| {
            let wait = report::duration(millis(level.wait));
            format!("`{}` {wait}", level.page.join(" "))
        })
        .collect();
    let repeat = match policy.repeat {
        0 => String::new(),
        times => format!(" (the last one again {times}×)"),
    };
    format!(
        "🪜 Escalation **{}**: {}{repeat}",
        policy.name,
        levels.join(" → ")
    )
}

/// The answer to `!inc oncall [name]`: [`oncall::answer`] for the teams, followed by the escalation
/// policies their pages start (every policy when no name is given); a name that is a policy and
/// no team shows that policy alone.
pub fn answer(
    config: &Config,
    name: Option<&str>,
    now: Timestamp,
    names: &Names,
) -> Result<String, String> {
    if let Some(policy) = name
        .filter(|name| config.rotation(name).is_none())
        .and_then(|name| config.policy(name))
    {
        return Ok(policy_line(policy));
    }
    let text = oncall::answer(&config.oncall, name, now, names)?;
    let policies: Vec<String> = match name {
        Some(team) => config
            .team_policy(team)
            .into_iter()
            .map(policy_line)
            .collect(),
        None => config.escalation.iter().map(policy_line).collect(),
    };
    if policies.is_empty() {
        return Ok(text);
    }
    Ok(format!("{text}  \n{}", policies.join("  \n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_is_shown_with_its_team_or_alone() {
        let config = Config::for_tests(
            "[[groups]]\nname = \"dba\"\nmembers = [\"@carol:example.org\"]\n\
             [[oncall]]\nteam = \"db\"\nmembers = [\"@bob:example.org\"]\nstart = \"2026-01-05T08:00:00Z\"\nescalation = \"db\"\n\
             [[escalation]]\nname = \"db\"\n[[escalation.levels]]\npage = [\"oncall:db\"]\nwait = \"5m\"\n\
             [[escalation]]\nname = \"late\"\nrepeat = 3\n[[escalation.levels]]\npage = [\"dba\", \"@dan:example.org\"]\nwait = \"1h 30m\"\n",
        );
        let now: Timestamp = "2026-12-01T10:00:00Z".parse().expect("a time");
        let names = Names::new();
        let team = crate::names::plain(&answer(&config, Some("db"), now, &names).expect("known"));
        assert!(
            team.ends_with("\n🪜 Escalation **db**: `oncall:db` 5m"),
            "{team}"
        );
        assert_eq!(
            answer(&config, Some("late"), now, &names).expect("a policy"),
            "🪜 Escalation **late**: `dba @dan:example.org` 1h 30m (the last one again 3×)"
        );
        let every = answer(&config, None, now, &names).expect("all");
        assert!(
            every.contains("**db**") && every.contains("**late**"),
            "{every}"
        );
    }
}
