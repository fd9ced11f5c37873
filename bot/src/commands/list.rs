//! `!inc list [--all]`

use brigade_core::record::IncidentRecord;

use super::{
    args,
    info::{CommandInfo, ParseError, Scope, Who},
};
use crate::{names::Names, render};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "list",
    arguments: "[--all]",
    summary: "the open incidents (or all of them), with links",
    scope: Scope::Anywhere,
    who: Who::Anyone,
    in_shared_room: false,
};

pub(super) fn parse(rest: &str) -> Result<bool, ParseError> {
    match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
        [] => Ok(false),
        ["--all"] => Ok(true),
        _ => Err(args::usage(&INFO)),
    }
}

/// `!inc list`: the lines to show, newest first, of `records` (in number order). A private
/// incident is listed only to its members (`member` says whether the asker is one), and
/// without its title. Commanders are named by `names`.
pub fn shown(
    records: &[IncidentRecord],
    all: bool,
    member: impl Fn(&IncidentRecord) -> bool,
    names: &Names,
) -> String {
    let shown: Vec<String> = records
        .iter()
        .rev()
        .filter(|record| all || record.incident.status.is_open())
        .filter(|record| !record.incident.private || member(record))
        .map(|record| render::list_line(record, names))
        .collect();
    if shown.is_empty() {
        return if all {
            "No incidents yet."
        } else {
            "No open incidents. `!inc list --all` shows resolved and closed ones too."
        }
        .to_owned();
    }
    let heading = if all {
        "All incidents"
    } else {
        "Open incidents"
    };
    format!("**{heading}**\n\n{}", shown.join("\n"))
}

#[cfg(test)]
mod tests {
    use brigade_core::{
        incident::{Severity, Status},
        testing,
    };
    use matrix_sdk::ruma::user_id;

    use super::*;

    #[test]
    fn open_incidents_newest_first_and_private_ones_to_members_only() {
        let mut resolved = testing::record(1, "Disk full", Severity::Sev3, 1_000);
        resolved
            .incident
            .set_status(Status::Resolved, 2_000, user_id!("@alice:example.org"))
            .expect("resolved");
        let open = testing::record(2, "Checkout latency", Severity::Sev2, 3_000);
        let mut secret = testing::record(3, "Leaked key", Severity::Sev1, 4_000);
        secret.incident.private = true;
        let records = [resolved, open, secret];

        let text = shown(&records, false, |_| false, &Names::new());
        assert!(
            text.contains("Checkout latency") && !text.contains("Disk full"),
            "{text}"
        );
        assert!(!text.contains("INC-3"), "not a member: {text}");
        let text = shown(&records, true, |_| true, &Names::new());
        let first = text
            .find("INC-3")
            .expect("a member sees the private incident");
        let last = text
            .find("INC-1")
            .expect("--all lists the resolved incident");
        assert!(first < last, "newest first: {text}");
        assert!(
            !text.contains("Leaked key"),
            "a private title is never listed: {text}"
        );
        assert!(shown(&[], false, |_| true, &Names::new()).starts_with("No open incidents"));
    }
}
