//! `!inc public off|on|title <text>`

use brigade_core::record::IncidentRecord;

use super::{
    args,
    decision::{Decided, Refusal},
    info::{CommandInfo, ParseError, Scope, Who},
};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "public",
    arguments: "off|on|title <text>",
    summary: "take the incident off the status page, list it again, or name it there (the title stays in the room)",
    scope: Scope::Incident,
    who: Who::Spokespeople,
    in_shared_room: false,
};

/// What `!inc public` asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicArgs {
    /// `on` or `off`.
    Listed(bool),
    /// `title <text>`.
    Title(String),
}

pub(super) fn parse(rest: &str) -> Result<PublicArgs, ParseError> {
    let (word, text) = args::split_word(rest);
    match (word.map(str::to_ascii_lowercase).as_deref(), text) {
        (Some("on"), None) => Ok(PublicArgs::Listed(true)),
        (Some("off"), None) => Ok(PublicArgs::Listed(false)),
        (Some("title"), Some(text)) => {
            if text.chars().count() > MAX_TITLE {
                return Err(ParseError::Invalid(format!(
                    "a public title is at most {MAX_TITLE} characters"
                )));
            }
            Ok(PublicArgs::Title(text.to_owned()))
        }
        _ => Err(args::usage(&INFO)),
    }
}

/// The longest public title: a heading on the page and in feed readers.
const MAX_TITLE: usize = 120;

/// `!inc public off|on|title`: whether and how the status page shows the incident.
pub fn decide(record: &IncidentRecord, args: PublicArgs) -> Result<Decided, Refusal> {
    let listed = match args {
        PublicArgs::Listed(listed) => listed,
        PublicArgs::Title(title) => {
            let mut next = record.clone();
            if !next.incident.set_public_title(&title)? {
                return Err(Refusal::new("the status page calls it that already"));
            }
            let answer = format!("The status page calls this incident “{title}”");
            return Ok(Decided::new(next, answer));
        }
    };
    let mut next = record.clone();
    if !next.incident.set_listed(listed)? {
        return Err(Refusal::new(if listed {
            "the incident is listed on the status page already"
        } else {
            "the incident is off the status page already"
        }));
    }
    let answer = match (listed, next.incident.published()) {
        (false, _) => "The incident is off the status page; `!inc public on` lists it again",
        (true, true) => "The incident is on the status page again",
        (true, false) => {
            "The incident is listed again; the status page shows it once it affects a component (`!inc affects`) or has a public update (`!inc update --public`)"
        }
    };
    Ok(Decided::new(next, answer))
}

#[cfg(test)]
mod tests {
    use brigade_core::{incident::Severity, status::Impact, testing};
    use matrix_sdk::ruma::user_id;

    use super::*;

    #[test]
    fn an_incident_is_hidden_and_listed_again() {
        let mut record = testing::record(1, "DNS", Severity::Sev2, 1_000);
        record
            .incident
            .affect(
                "Checkout",
                Some(Impact::Major),
                2_000,
                user_id!("@a:example.org"),
            )
            .expect("affected");
        let hidden = decide(&record, PublicArgs::Listed(false)).expect("hidden");
        assert!(!hidden.next.incident.published());
        assert!(decide(&hidden.next, PublicArgs::Listed(false)).is_err());
        let listed = decide(&hidden.next, PublicArgs::Listed(true)).expect("listed");
        assert_eq!(listed.answer, "The incident is on the status page again");
        assert_eq!(parse(" OFF "), Ok(PublicArgs::Listed(false)));
        assert!(parse("maybe").is_err());
        assert!(parse("on please").is_err());
    }

    #[test]
    fn the_page_names_an_incident_by_what_it_does_until_given_a_public_title() {
        let mut record = testing::record(1, "db-3 down after Bob's deploy", Severity::Sev2, 1_000);
        record
            .incident
            .affect(
                "Checkout",
                Some(Impact::Partial),
                2_000,
                user_id!("@a:example.org"),
            )
            .expect("affected");
        assert_eq!(record.incident.page_title(), "Partial outage of Checkout");
        let named = decide(
            &record,
            parse("title Payments fail for some customers").expect("parsed"),
        )
        .expect("named");
        assert_eq!(
            named.next.incident.page_title(),
            "Payments fail for some customers"
        );
        assert!(parse("title").is_err());
        assert!(parse(&format!("title {}", "x".repeat(121))).is_err());
    }
}
