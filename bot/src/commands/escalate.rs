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
    summary: "page the next level of the running escalation policies now",
    scope: Scope::Incident,
    who: Who::Anyone,
    in_shared_room: false,
};

pub(super) fn parse(rest: &str) -> Result<(), ParseError> {
    if rest.trim().is_empty() {
        Ok(())
    } else {
        Err(args::usage(&INFO))
    }
}

/// `!inc escalate`: every running escalation is due at once; the bot's next tick pages it.
pub fn decide(record: &IncidentRecord, asked: Asked<'_>) -> Result<Decided, Refusal> {
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
            "Escalating {} now: the next level is paged in a moment",
            policies.join(", ")
        ),
    ))
}
