//! `!inc escalate`: the running escalation policies page their next level now instead of
//! waiting for their time.

use brigade_core::record::IncidentRecord;

use super::{
    args,
    decision::{Asked, Decided, Refusal},
    info::{CommandInfo, ParseError, Scope, Who},
};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "escalate",
    arguments: "",
    summary: "page the next level of the running escalation policies now (commander or moderators)",
    scope: Scope::Incident,
    who: Who::Directors,
    in_shared_room: false,
};

pub(super) fn parse(rest: &str) -> Result<(), ParseError> {
    args::bare(rest, &INFO)
}

/// `!inc escalate`: every running escalation is due at once; the bot's next tick pages it.
pub fn decide(record: &IncidentRecord, asked: Asked<'_>) -> Result<Decided, Refusal> {
    let incident = &record.incident;
    if !incident.status.is_open() {
        return Err(Refusal::new(format!(
            "{} is {}: nothing escalates until it is reopened",
            incident.number, incident.status
        )));
    }
    if record.escalations.is_empty() {
        return Err(Refusal::new(
            "no escalation policy is paging for this incident; start one with `!inc page <policy>`",
        ));
    }
    let mut next = record.clone();
    let mut policies = Vec::with_capacity(next.escalations.len());
    for escalation in &mut next.escalations {
        escalation.due = escalation.due.min(asked.at);
        escalation.hurried_by = Some(asked.by.to_owned());
        policies.push(format!("**{}**", escalation.policy));
    }
    Ok(Decided::new(
        next,
        format!(
            "Escalating {} now: its next step comes in a moment",
            policies.join(", ")
        ),
    ))
}
