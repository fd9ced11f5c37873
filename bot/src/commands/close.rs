//! `!inc close`

use brigade_core::{
    incident::{IncidentError, Status},
    record::IncidentRecord,
};

use super::{
    args,
    decision::{Asked, Refusal},
    info::{CommandInfo, ParseError, Scope, Who},
};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "close",
    arguments: "",
    summary: "once resolved: post the final postmortem here and in #postmortems, make the room read-only and archive it",
    scope: Scope::Incident,
    who: Who::Directors,
    in_shared_room: false,
};

pub(super) fn parse(rest: &str) -> Result<(), ParseError> {
    args::bare(rest, &INFO)
}

/// `!inc close`: the record closed, or why not (only a resolved incident closes).
pub fn decide(record: &IncidentRecord, asked: Asked<'_>) -> Result<IncidentRecord, Refusal> {
    let mut next = record.clone();
    match next.incident.set_status(Status::Closed, asked.at, asked.by) {
        Ok(()) => Ok(next),
        Err(IncidentError::IllegalTransition { .. }) => Err(Refusal::new(format!(
            "only a resolved incident can be closed; {} is {}: `!inc status resolved` first",
            record.incident.number, record.incident.status
        ))),
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use brigade_core::{incident::Severity, testing};
    use matrix_sdk::ruma::user_id;

    use super::*;

    #[test]
    fn only_a_resolved_incident_closes() {
        let asked = Asked {
            by: user_id!("@alice:example.org"),
            at: 5_000,
        };
        let mut record = testing::record(1, "DNS", Severity::Sev2, 1_000);
        let refused = decide(&record, asked).expect_err("investigating");
        assert!(
            refused.text.contains("`!inc status resolved` first"),
            "{refused}"
        );
        record
            .incident
            .set_status(Status::Resolved, 2_000, asked.by)
            .expect("resolved");
        let closed = decide(&record, asked).expect("closed");
        assert_eq!(closed.incident.status, Status::Closed);
        assert!(decide(&closed, asked).is_err(), "closed is final");
    }
}
