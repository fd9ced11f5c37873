//! `!inc public off|on`

use brigade_core::record::IncidentRecord;

use super::{
    args,
    decision::{Decided, Refusal},
    info::{CommandInfo, ParseError, Scope, Who},
};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "public",
    arguments: "off|on",
    summary: "take the incident off the status page, or list it again",
    scope: Scope::Incident,
    who: Who::Spokespeople,
    in_shared_room: false,
};

pub(super) fn parse(rest: &str) -> Result<bool, ParseError> {
    match rest.trim().to_ascii_lowercase().as_str() {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(args::usage(&INFO)),
    }
}

/// `!inc public off|on`: whether the status page lists the incident.
pub fn decide(record: &IncidentRecord, listed: bool) -> Result<Decided, Refusal> {
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
        let hidden = decide(&record, false).expect("hidden");
        assert!(!hidden.next.incident.published());
        assert!(decide(&hidden.next, false).is_err());
        let listed = decide(&hidden.next, true).expect("listed");
        assert_eq!(listed.answer, "The incident is on the status page again");
        assert_eq!(parse(" OFF "), Ok(false));
        assert!(parse("maybe").is_err());
    }
}
