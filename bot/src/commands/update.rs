//! `!inc update <text>`

use brigade_core::record::IncidentRecord;

use super::{
    args,
    decision::{Asked, Decided, Refusal},
    info::{CommandInfo, ParseError, Scope, Who},
};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "update",
    arguments: "[--public] <text>",
    summary: "post a status update here and on the headline; --public: on the status page too (commander, comms or moderators)",
    scope: Scope::Incident,
    who: Who::Anyone,
    in_shared_room: false,
};

/// The text, and whether it is for the public (`--public`, before it or after).
pub(super) fn parse(rest: &str) -> Result<(String, bool), ParseError> {
    let rest = rest.trim();
    let public = |text: &str| {
        text.strip_prefix("--public")
            .filter(|after| after.is_empty() || after.starts_with(char::is_whitespace))
            .map(str::to_owned)
    };
    if let Some(text) = public(rest) {
        return Ok((args::text(&text, &INFO)?, true));
    }
    if let Some(text) = rest
        .strip_suffix("--public")
        .filter(|before| before.is_empty() || before.ends_with(char::is_whitespace))
    {
        return Ok((args::text(text, &INFO)?, true));
    }
    Ok((args::text(rest, &INFO)?, false))
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

/// `!inc update --public <text>`: posted in the room, on the headline and on the status page.
pub fn decide_public(
    record: &IncidentRecord,
    text: String,
    asked: Asked<'_>,
) -> Result<Decided, Refusal> {
    if names_someone(&text) {
        return Err(Refusal::new(
            "a public update names no one (everyone reads the status page): write it without Matrix IDs or mentions",
        ));
    }
    let mut answer = "Update posted here, on the headline and on the status page".to_owned();
    if record.incident.unlisted {
        answer = "Update posted here and on the headline; the status page shows it once the incident is listed again (`!inc public on`)".to_owned();
    }
    let decided = Decided::new(record.clone(), answer).with_public_update(text, asked)?;
    if decided.next.incident.public_title.is_none() && !decided.next.incident.unlisted {
        let answer = format!(
            "{}; it calls the incident “{}” (`!inc public title <text>` names it: the title stays in the room)",
            decided.answer,
            decided.next.incident.page_title()
        );
        return Ok(Decided { answer, ..decided });
    }
    Ok(decided)
}

/// Whether `text` holds a Matrix user ID (a typed one, or a mention pill's).
fn names_someone(text: &str) -> bool {
    text.split(|c: char| c.is_whitespace() || "()<>[]\"',;".contains(c))
        .any(|word| {
            let word = word.trim_end_matches(['.', '!', '?']);
            word.starts_with('@') && matrix_sdk::ruma::UserId::parse(word).is_ok()
        })
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
        let public = decide_public(&record, "We are on it".to_owned(), asked)
            .expect_err("a private incident publishes nothing");
        assert!(public.text.contains("never on the status page"), "{public}");
    }

    #[test]
    fn a_public_update_is_on_the_status_page_too() {
        let record =
            brigade_core::testing::record(1, "DNS", brigade_core::incident::Severity::Sev2, 1_000);
        let asked = Asked {
            by: matrix_sdk::ruma::user_id!("@bob:example.org"),
            at: 2_000,
        };
        let decided = decide_public(&record, "We are on it".to_owned(), asked).expect("posted");
        assert_eq!(decided.next.incident.public_updates().len(), 1);
        assert!(decided.update.is_some(), "posted in the room as well");
        assert_eq!(
            parse("--public We are on it"),
            Ok(("We are on it".to_owned(), true))
        );
        assert_eq!(
            parse("We are on it --public"),
            Ok(("We are on it".to_owned(), true))
        );
        assert_eq!(
            parse("mind the --publicity"),
            Ok(("mind the --publicity".to_owned(), false))
        );
        assert!(parse("--public").is_err(), "a public update of nothing");
        let named = decide_public(&record, "Thanks to @bob:example.org.".to_owned(), asked)
            .expect_err("names someone");
        assert!(named.text.contains("names no one"), "{named}");
        assert!(decide_public(&record, "Mail me@example.org".to_owned(), asked).is_ok());
    }
}
