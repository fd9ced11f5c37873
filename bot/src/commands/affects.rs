//! `!inc affects [<component> [degraded|partial|major|none]]`

use brigade_core::{incident::IncidentError, record::IncidentRecord, status::Impact};

use super::{
    args,
    decision::{Asked, Decided, Refusal},
    info::{CommandInfo, ParseError, Scope, Who},
};
use crate::config::StatusConfig;

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "affects",
    arguments: "[<component> [degraded|partial|major|none]]",
    summary: "show a status page component affected (degraded unless said), or no longer (none)",
    scope: Scope::Incident,
    who: Who::Spokespeople,
    in_shared_room: false,
};

/// What `!inc affects` asks: a component (by the name people typed) and its impact, none
/// when no longer affected; nothing to list the components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffectsArgs {
    /// The component as typed, `None` to list them.
    pub component: Option<String>,
    /// How badly; `None` when it is no longer affected.
    pub impact: Option<Impact>,
}

pub(super) fn parse(rest: &str) -> Result<AffectsArgs, ParseError> {
    let words: Vec<&str> = rest.split_whitespace().collect();
    let Some((last, before)) = words.split_last() else {
        return Ok(AffectsArgs {
            component: None,
            impact: None,
        });
    };
    // Names may be several words (`Search API`): the impact is the last word when it is one.
    let (component, impact) = if last.eq_ignore_ascii_case("none") {
        (before, None)
    } else if let Ok(impact) = last.parse::<Impact>() {
        (before, Some(impact))
    } else {
        (words.as_slice(), Some(Impact::Degraded))
    };
    if component.is_empty() {
        return Err(args::usage(&INFO));
    }
    Ok(AffectsArgs {
        component: Some(component.join(" ")),
        impact,
    })
}

/// `!inc affects`: the component's state on the status page changes with the incident's.
pub fn decide(
    record: &IncidentRecord,
    args: AffectsArgs,
    status: &StatusConfig,
    asked: Asked<'_>,
) -> Result<Decided, Refusal> {
    let Some(typed) = args.component else {
        return Err(Refusal::new(format!("usage: `{}`", INFO.usage())));
    };
    let Some(component) = status.component(&typed) else {
        return Err(Refusal::new(status.unknown(&typed)));
    };
    let mut next = record.clone();
    let changed = next
        .incident
        .affect(&component.name, args.impact, asked.at, asked.by)?;
    let name = &component.name;
    if !changed {
        return Err(Refusal::new(match args.impact {
            Some(impact) => format!(
                "{name} is shown with {} already",
                impact.label().to_lowercase()
            ),
            None => format!("this incident does not affect {name}"),
        }));
    }
    let mut answer = match args.impact {
        Some(impact) => format!(
            "The status page shows {name}: {}",
            impact.label().to_lowercase()
        ),
        None => format!("The status page no longer shows {name} affected by this incident"),
    };
    if next.incident.unlisted {
        answer.push_str(" (once listed again: the incident is off the page, `!inc public on`)");
    } else if next.incident.public_title.is_none() {
        answer.push_str(&format!(
            "; it calls the incident “{}” (`!inc public title <text>` names it: the title stays in the room)",
            next.incident.page_title()
        ));
    }
    Ok(Decided::new(next, answer))
}

/// `!inc affects` alone: the components, and what this incident does to each.
pub fn listing(record: &IncidentRecord, status: &StatusConfig) -> Result<String, Refusal> {
    if record.incident.private {
        return Err(IncidentError::PrivateNotPublished.into());
    }
    if status.components.is_empty() {
        return Err(Refusal::new(status.unknown("")));
    }
    let lines: Vec<String> = status
        .components
        .iter()
        .map(
            |component| match record.incident.affected.get(&component.name) {
                Some(impact) => format!("{}: {}", component.name, impact.label().to_lowercase()),
                None => format!("{}: not affected", component.name),
            },
        )
        .collect();
    Ok(format!(
        "The status page's components: {}. Change one with `{}`",
        lines.join(" · "),
        INFO.usage()
    ))
}

#[cfg(test)]
mod tests {
    use brigade_core::{incident::Severity, testing};
    use matrix_sdk::ruma::user_id;

    use super::*;
    use crate::config::Config;

    fn status() -> StatusConfig {
        Config::for_tests(
            "[[status.components]]\nname = \"Search API\"\n[[status.components]]\nname = \"Checkout\"\n",
        )
        .status
    }

    fn asked() -> Asked<'static> {
        Asked {
            by: user_id!("@alice:example.org"),
            at: 2_000,
        }
    }

    #[test]
    fn names_of_several_words_and_an_optional_impact_parse() {
        let parsed = |text: &str| parse(text).expect(text);
        assert_eq!(
            parsed("Search API partial"),
            AffectsArgs {
                component: Some("Search API".to_owned()),
                impact: Some(Impact::Partial)
            }
        );
        assert_eq!(parsed("checkout").impact, Some(Impact::Degraded));
        assert_eq!(parsed("checkout none").impact, None);
        assert_eq!(parsed("").component, None);
        assert!(parse("major").is_err(), "an impact of nothing");
    }

    #[test]
    fn a_configured_component_is_affected_and_an_unknown_one_refused() {
        let record = testing::record(1, "DNS", Severity::Sev2, 1_000);
        let args = |text: &str| parse(text).expect(text);
        let decided = decide(&record, args("search api major"), &status(), asked()).expect("done");
        assert_eq!(
            decided.next.incident.affected.get("Search API"),
            Some(&Impact::Major)
        );
        assert!(
            decided.answer.starts_with(
                "The status page shows Search API: major outage; it calls the incident “Major outage of Search API”"
            ),
            "{}",
            decided.answer
        );
        let refused = decide(&record, args("billing"), &status(), asked()).expect_err("unknown");
        assert_eq!(
            refused.text,
            "unknown component “billing”: the status page has Search API, Checkout"
        );
        let again = decide(&decided.next, args("Search API major"), &status(), asked())
            .expect_err("unchanged");
        assert!(again.text.contains("already"), "{again}");
        let listed = listing(&decided.next, &status()).expect("a listing");
        assert!(
            listed.contains("Search API: major outage · Checkout: not affected"),
            "{listed}"
        );
    }

    #[test]
    fn a_private_incident_affects_nothing_on_the_page() {
        let mut record = testing::record(1, "Leak", Severity::Sev1, 1_000);
        record.incident.private = true;
        let refused = decide(
            &record,
            parse("Checkout").expect("args"),
            &status(),
            asked(),
        )
        .expect_err("refused");
        assert!(
            refused.text.contains("never on the status page"),
            "{refused}"
        );
    }
}
