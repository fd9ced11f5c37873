//! `!inc reopen`

use brigade_core::{incident::Status, record::IncidentRecord};

use super::{
    args,
    decision::{Asked, Decided, Refusal},
    info::{CommandInfo, ParseError, Scope, Who},
};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "reopen",
    arguments: "",
    summary: "take a resolved incident back to investigating",
    scope: Scope::Incident,
    who: Who::Anyone,
    in_shared_room: false,
};

pub(super) fn parse(rest: &str) -> Result<(), ParseError> {
    args::bare(rest, &INFO)
}

/// `!inc reopen`: a resolved incident is investigated again.
pub fn decide(record: &IncidentRecord, asked: Asked<'_>) -> Result<Decided, Refusal> {
    let incident = &record.incident;
    if incident.status != Status::Resolved {
        return Err(Refusal::new(format!(
            "only a resolved incident can be reopened; {} is {}",
            incident.number, incident.status
        )));
    }
    let mut next = record.clone();
    next.incident
        .set_status(Status::Investigating, asked.at, asked.by)?;
    // Paused while the incident was resolved, they would page at once, long after their time.
    next.escalations.clear();
    Ok(Decided::new(
        next,
        format!("Reopened: {} is investigating again", incident.number),
    ))
}

#[cfg(test)]
mod tests {
    use brigade_core::{incident::Severity, testing};
    use matrix_sdk::ruma::user_id;

    use super::*;

    #[test]
    fn only_a_resolved_incident_is_reopened() {
        let asked = Asked {
            by: user_id!("@alice:example.org"),
            at: 2_000,
        };
        let mut record = testing::record(1, "DNS", Severity::Sev2, 1_000);
        let refused = decide(&record, asked).expect_err("investigating");
        assert!(refused.text.contains("is investigating"), "{refused}");
        record
            .incident
            .set_status(Status::Resolved, 1_500, asked.by)
            .expect("resolved");
        let decided = decide(&record, asked).expect("reopened");
        assert_eq!(decided.next.incident.status, Status::Investigating);
        assert_eq!(decided.answer, "Reopened: INC-1 is investigating again");
    }
}
