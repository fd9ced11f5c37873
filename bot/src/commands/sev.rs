//! `!inc sev <1-4>`

use brigade_core::{incident::Severity, record::IncidentRecord};

use super::{
    args,
    decision::{Asked, Decided, Refusal},
    info::{CommandInfo, ParseError, Scope, Who},
};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "sev",
    arguments: "<1-4>",
    summary: "change the severity (commander or moderators)",
    scope: Scope::Incident,
    who: Who::Directors,
    in_shared_room: false,
};

pub(super) fn parse(rest: &str) -> Result<Severity, ParseError> {
    match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
        [level] => level.parse().map_err(args::invalid),
        _ => Err(args::usage(&INFO)),
    }
}

/// `!inc sev`: the incident's severity changes.
pub fn decide(
    record: &IncidentRecord,
    severity: Severity,
    asked: Asked<'_>,
) -> Result<Decided, Refusal> {
    let mut next = record.clone();
    let from = next.incident.severity;
    next.incident.set_severity(severity, asked.at, asked.by)?;
    Ok(Decided::new(
        next,
        format!("Severity: {from} → {severity} {}", severity.emoji()),
    ))
}

#[cfg(test)]
mod tests {
    use brigade_core::testing;
    use matrix_sdk::ruma::user_id;

    use super::*;

    #[test]
    fn a_new_severity_is_recorded_and_the_same_one_refused() {
        let asked = Asked {
            by: user_id!("@alice:example.org"),
            at: 2_000,
        };
        let record = testing::record(1, "DNS", Severity::Sev2, 1_000);
        let decided = decide(&record, Severity::Sev1, asked).expect("changed");
        assert_eq!(decided.next.incident.severity, Severity::Sev1);
        assert!(
            decided.answer.starts_with("Severity: SEV2 → SEV1"),
            "{}",
            decided.answer
        );
        assert!(decide(&record, Severity::Sev2, asked).is_err(), "no change");
    }
}
