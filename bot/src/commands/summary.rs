//! `!inc summary <text>`

use brigade_core::{
    incident::{IncidentError, Status},
    record::IncidentRecord,
};

use super::{
    args,
    decision::{Decided, Refusal},
    info::{CommandInfo, ParseError, Scope, Who},
};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "summary",
    arguments: "<text>",
    summary: "replace the current understanding in the pinned summary and the topic",
    scope: Scope::Incident,
    who: Who::Anyone,
    in_shared_room: false,
};

pub(super) fn parse(rest: &str) -> Result<String, ParseError> {
    args::text(rest, &INFO)
}

/// `!inc summary <text>`: the pinned summary's current understanding, until the incident closes.
pub fn decide(record: &IncidentRecord, text: String) -> Result<Decided, Refusal> {
    if record.incident.status == Status::Closed {
        return Err(IncidentError::Closed.into());
    }
    let mut next = record.clone();
    next.incident.summary = text;
    Ok(Decided::new(next, "Summary updated"))
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn the_summary_changes_until_the_incident_closes() {
        let mut record =
            brigade_core::testing::record(1, "DNS", brigade_core::incident::Severity::Sev2, 1_000);
        let decided = decide(&record, "the resolver is down".to_owned()).expect("changed");
        assert_eq!(decided.next.incident.summary, "the resolver is down");
        record.incident.status = Status::Closed;
        assert!(decide(&record, "late".to_owned()).is_err());
    }
}
