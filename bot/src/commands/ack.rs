//! `!inc ack`: "I'm on it", as 👀 on the summary says it: acknowledges the incident and stops
//! every escalation policy paging for it.

use brigade_core::{
    incident::{IncidentError, Status},
    record::IncidentRecord,
};

use super::{
    args,
    decision::{Asked, Decided, Refusal},
    info::{CommandInfo, ParseError, Scope, Who},
};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "ack",
    arguments: "",
    summary: "acknowledge the incident (as 👀 on the summary does) and stop its escalations",
    scope: Scope::Incident,
    who: Who::Anyone,
    in_shared_room: false,
};

pub(super) fn parse(rest: &str) -> Result<(), ParseError> {
    args::bare(rest, &INFO)
}

/// `!inc ack` by `asked.by`.
pub fn decide(record: &IncidentRecord, asked: Asked<'_>) -> Result<Decided, Refusal> {
    if record.incident.status == Status::Closed {
        return Err(IncidentError::Closed.into());
    }
    let mut next = record.clone();
    let acknowledged = next.acknowledge(asked.at, asked.by, None);
    if !acknowledged.changed() {
        return Err(Refusal::new(
            "the incident is acknowledged already and no escalation is running",
        ));
    }
    let mut answer = Vec::new();
    if acknowledged.first {
        answer.push(format!(
            "{} acknowledged at {}",
            next.incident.number,
            crate::render::clock(asked.at)
        ));
    }
    if !acknowledged.stopped.is_empty() {
        answer.push(stopped(&acknowledged.stopped));
    }
    Ok(Decided::new(next, answer.join("; ")))
}

/// "escalation **db** stopped", for the answers of acknowledgements.
pub fn stopped(policies: &[String]) -> String {
    let named: Vec<String> = policies
        .iter()
        .map(|policy| format!("**{policy}**"))
        .collect();
    match named.as_slice() {
        [one] => format!("escalation {one} stopped"),
        _ => format!("escalations {} stopped", named.join(", ")),
    }
}
