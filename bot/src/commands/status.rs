//! `!inc status <status> [note]`

use brigade_core::{incident::Status, record::IncidentRecord};

use super::{
    args,
    decision::{Asked, Decided, Refusal},
    info::{CommandInfo, ParseError, Scope, Who},
};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "status",
    arguments: "<investigating|identified|monitoring|resolved> [note]",
    summary: "change the status (in an incident room)",
    scope: Scope::Incident,
    who: Who::Anyone,
    in_shared_room: false,
};

pub(super) fn parse(rest: &str) -> Result<(Status, Option<String>), ParseError> {
    let (word, note) = args::split_word(rest);
    let Some(word) = word else {
        return Err(args::usage(&INFO));
    };
    let to: Status = word.parse().map_err(args::invalid)?;
    if !Status::SETTABLE.contains(&to) {
        return Err(ParseError::Invalid(format!(
            "`{to}` is not set with status: {}",
            if to == Status::Closed {
                "use `!inc close` once resolved"
            } else {
                "use investigating, identified, monitoring or resolved"
            }
        )));
    }
    if let Some(note) = note {
        args::not_too_long(note)?;
    }
    Ok((to, note.map(str::to_owned)))
}

/// `!inc status`: the incident moves to `to`; a note goes out as an update.
pub fn decide(
    record: &IncidentRecord,
    to: Status,
    note: Option<String>,
    asked: Asked<'_>,
) -> Result<Decided, Refusal> {
    let mut next = record.clone();
    let from = next.incident.status;
    next.incident.set_status(to, asked.at, asked.by)?;
    let decided = Decided::new(next, format!("Status: {from} → {to}"));
    match note {
        Some(note) => decided.with_update(note, asked),
        None => Ok(decided),
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn a_status_change_is_recorded_and_its_note_posted_as_an_update() {
        let record =
            brigade_core::testing::record(1, "DNS", brigade_core::incident::Severity::Sev2, 1_000);
        let asked = Asked {
            by: matrix_sdk::ruma::user_id!("@bob:example.org"),
            at: 2_000,
        };
        let (to, note) = parse("monitoring rolled back").expect("parsed");
        let decided = decide(&record, to, note, asked).expect("changed");
        assert_eq!(decided.next.incident.status, Status::Monitoring);
        assert_eq!(decided.answer, "Status: investigating → monitoring");
        assert_eq!(
            decided.update.map(|update| update.text).as_deref(),
            Some("rolled back")
        );
        assert_eq!(decided.next.incident.timestamps.mitigated, Some(2_000));
        let (to, note) = parse("investigating").expect("parsed");
        assert!(
            decide(&record, to, note, asked).is_err(),
            "the same status changes nothing"
        );
    }
}
