//! `!inc update <text>`

use brigade_core::record::IncidentRecord;

use super::{
    args,
    decision::{Asked, Decided, Refusal},
    info::{CommandInfo, ParseError, Scope, Who},
};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "update",
    arguments: "<text>",
    summary: "post a status update here and on the headline",
    scope: Scope::Incident,
    who: Who::Anyone,
    in_shared_room: false,
};

pub(super) fn parse(rest: &str) -> Result<String, ParseError> {
    args::text(rest, &INFO)
}

/// `!inc update <text>`: posted in the room and, for an open incident, on the headline.
pub fn decide(record: &IncidentRecord, text: String, asked: Asked<'_>) -> Result<Decided, Refusal> {
    let answer = if record.incident.private {
        "Update posted here (a private incident's headline shows no updates)"
    } else {
        "Update posted here and on the headline"
    };
    Decided::new(record.clone(), answer).with_update(text, asked)
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn an_update_is_posted_and_a_private_one_stays_off_the_headline() {
        let mut record =
            brigade_core::testing::record(1, "DNS", brigade_core::incident::Severity::Sev2, 1_000);
        let asked = Asked {
            by: matrix_sdk::ruma::user_id!("@bob:example.org"),
            at: 2_000,
        };
        let decided = decide(&record, "failing over".to_owned(), asked).expect("posted");
        assert_eq!(decided.answer, "Update posted here and on the headline");
        assert!(decided.update.is_some());
        record.incident.private = true;
        let private = decide(&record, "failing over".to_owned(), asked).expect("posted");
        assert!(
            private.answer.contains("shows no updates"),
            "{}",
            private.answer
        );
    }
}
