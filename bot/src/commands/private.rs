//! `!inc private`

use brigade_core::{incident::Declaration, record::IncidentRecord};
use matrix_sdk::ruma::UserId;

use super::{
    args,
    decision::{Decided, Refusal},
    info::{CommandInfo, ParseError, Scope, Who},
};
use crate::{names::Names, render};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "private",
    arguments: "",
    summary: "continue this incident in a new private room (end-to-end encrypted, this server only, invitation only); this room keeps a pointer",
    scope: Scope::Incident,
    who: Who::Directors,
    in_shared_room: false,
};

pub(super) fn parse(rest: &str) -> Result<(), ParseError> {
    args::bare(rest, &INFO)
}

/// `!inc private` by `by`: the companion private incident to declare (same title, severity and
/// commander, or `by` when nobody is in command), unless `record`'s incident is private
/// already, has moved, or is over.
pub fn decide(record: &IncidentRecord, by: &UserId) -> Result<Declaration, Refusal> {
    let incident = &record.incident;
    if incident.private {
        return Err(Refusal::new(format!(
            "{} is private already",
            incident.number
        )));
    }
    if let Some(room) = &incident.continued_in {
        return Err(Refusal::new(format!(
            "{} already continues in the private room {room}",
            incident.number
        )));
    }
    if !incident.status.is_open() {
        return Err(Refusal::new(format!(
            "{} is {}; only an open incident moves to a private room",
            incident.number, incident.status
        )));
    }
    Ok(Declaration {
        title: incident.title.clone(),
        severity: incident.severity,
        kind: incident.kind.clone(),
        private: true,
        declarer: by.to_owned(),
        commander: Some(incident.commander.clone().unwrap_or_else(|| by.to_owned())),
        started: Some(
            incident
                .timestamps
                .started
                .unwrap_or(incident.timestamps.declared),
        ),
        alert: None,
        affects: None,
    })
}

/// The record once its incident continues in `companion`, and the answer, people named by
/// `names`.
pub fn moved(record: &IncidentRecord, companion: &IncidentRecord, names: &Names) -> Decided {
    let mut next = record.clone();
    next.incident.continued_in = Some(companion.alias.clone());
    let incident = &record.incident;
    let answer = format!(
        "{} continues in a new private room, **{}** ({}): end-to-end encrypted, on this server only, invitation only. The commander {} is invited there and invites whom they need; members see only what is said after they join. This room keeps the pointer, and nothing said here goes there.",
        incident.number,
        companion.incident.number,
        companion.alias,
        render::commander(&companion.incident, names)
    );
    Decided::new(next, answer)
}

#[cfg(test)]
mod tests {
    use brigade_core::{
        incident::{Severity, Status},
        testing,
    };
    use matrix_sdk::ruma::{owned_room_alias_id, user_id};

    use super::*;

    #[test]
    fn an_open_incident_moves_once_and_keeps_its_title_and_commander() {
        let record = testing::record(1, "Leaked key", Severity::Sev1, 1_000);
        let moderator = user_id!("@mo:example.org");
        let declaration = decide(&record, moderator).expect("movable");
        assert!(declaration.private);
        assert_eq!(declaration.title, "Leaked key");
        assert_eq!(declaration.declarer, moderator);
        assert_eq!(declaration.commander, record.incident.commander);
        assert_eq!(declaration.started, Some(1_000));

        let mut companion = testing::record(2, "Leaked key", Severity::Sev1, 2_000);
        companion.alias = owned_room_alias_id!("#inc-2:example.org");
        let moved = moved(&record, &companion, &Names::new());
        assert!(decide(&moved.next, moderator)
            .expect_err("moved")
            .text
            .contains("already continues"));

        let mut resolved = record.clone();
        resolved
            .incident
            .set_status(Status::Resolved, 3_000, user_id!("@alice:example.org"))
            .expect("resolved");
        assert!(decide(&resolved, moderator).is_err());
        let mut private = record;
        private.incident.private = true;
        assert!(decide(&private, moderator)
            .expect_err("private")
            .text
            .contains("private already"));
    }

    #[test]
    fn an_incident_nobody_commands_moves_with_whoever_moves_it_in_command() {
        let mut record = testing::record(1, "Leaked key", Severity::Sev1, 1_000);
        record.incident.commander = None;
        let moderator = user_id!("@mo:example.org");
        let declaration = decide(&record, moderator).expect("movable");
        assert_eq!(declaration.commander.as_deref(), Some(moderator));
    }
}
