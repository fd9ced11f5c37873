//! A report of a problem, filed through the report form (SPEC §10): what it says, the checks
//! it passes before anything is posted, and the triage message and the reporter's DM it
//! becomes. Pure: where it is posted is the Matrix layer's business ([`crate::desk::Desk`]).

use std::fmt;

use matrix_sdk::ruma::{OwnedEventId, OwnedRoomId, OwnedUserId, UserId};
use serde::{Deserialize, Serialize};

use crate::{
    config::IncidentsConfig,
    render::{html_escape, pill_named},
};

/// The event content key that carries a report's fields, for clients and bots that read them.
/// Brigade itself declares a report from what it recorded when it filed it (`keys::report`):
/// anyone can post content with these fields.
pub const REPORT_KEY: &str = "org.brigade.report";
/// A summary longer than this is not a summary.
pub const MAX_SUMMARY: usize = 200;
/// Details longer than this belong in the incident room.
pub const MAX_DETAILS: usize = 4_000;

/// How soon the reporter thinks someone must look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// `< 1 hour`
    Hour,
    /// `< 24 hours`
    Day,
    /// `this week`
    Week,
}

impl Urgency {
    /// Every urgency, most urgent first, as the form lists them.
    pub const ALL: [Self; 3] = [Self::Hour, Self::Day, Self::Week];

    /// The form's value.
    pub fn value(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Week => "week",
        }
    }

    /// What people read.
    pub fn label(self) -> &'static str {
        match self {
            Self::Hour => "< 1 hour",
            Self::Day => "< 24 hours",
            Self::Week => "this week",
        }
    }
}

impl fmt::Display for Urgency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A checked report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// One of the configured incident types.
    #[serde(rename = "type")]
    pub kind: String,
    /// One line: what is wrong.
    pub summary: String,
    /// How soon someone must look.
    pub urgency: Urgency,
    /// Anything else, possibly several lines.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub details: String,
    /// Who reported it (verified, never taken from the form).
    pub reporter: OwnedUserId,
}

/// A form field that was refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The form field's name.
    pub field: &'static str,
    /// What would work.
    pub reason: String,
}

/// What a person typed into the form, before it is checked.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Draft {
    /// The incident type.
    #[serde(default, rename = "type")]
    pub kind: String,
    /// The summary.
    #[serde(default)]
    pub summary: String,
    /// `hour`, `day` or `week`.
    #[serde(default)]
    pub urgency: String,
    /// The details.
    #[serde(default)]
    pub details: String,
}

impl Draft {
    /// The report this draft makes for `reporter`, or the first field that is wrong.
    pub fn check(
        &self,
        reporter: &UserId,
        incidents: &IncidentsConfig,
    ) -> Result<Report, FieldError> {
        let refuse = |field, reason: String| FieldError { field, reason };
        let kind = incidents.find_type(self.kind.trim()).ok_or_else(|| {
            refuse(
                "type",
                format!("choose one of: {}", incidents.types.join(", ")),
            )
        })?;
        let summary = self
            .summary
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if summary.is_empty() {
            return Err(refuse(
                "summary",
                "say in one line what is wrong".to_owned(),
            ));
        }
        if summary.chars().count() > MAX_SUMMARY {
            return Err(refuse(
                "summary",
                format!("at most {MAX_SUMMARY} characters; put the rest in the details"),
            ));
        }
        let urgency = Urgency::ALL
            .into_iter()
            .find(|urgency| urgency.value() == self.urgency.trim())
            .ok_or_else(|| {
                refuse(
                    "urgency",
                    "choose < 1 hour, < 24 hours or this week".to_owned(),
                )
            })?;
        let details = self.details.trim().replace("\r\n", "\n");
        if details.chars().count() > MAX_DETAILS {
            return Err(refuse(
                "details",
                format!("at most {MAX_DETAILS} characters; add more in the incident room"),
            ));
        }
        Ok(Report {
            kind: kind.to_owned(),
            summary,
            urgency,
            details,
            reporter: reporter.to_owned(),
        })
    }
}

impl Report {
    /// Whether it goes to the private triage room (its type is private by default).
    pub fn private(&self, incidents: &IncidentsConfig) -> bool {
        incidents.private_types.contains(&self.kind)
    }

    /// The triage message: plain text and HTML, the reporter named by `name` (their display
    /// name) and pilled, not notified: they hear back in their DM.
    pub fn triage_message(&self, name: &str) -> (String, String) {
        let mut plain = format!(
            "📝 Report from {name}: {}\nType: {} · Urgency: {}",
            self.summary, self.kind, self.urgency
        );
        let mut html = format!(
            "📝 Report from {}: <strong>{}</strong><br>Type: {} · Urgency: {}",
            pill_named(&self.reporter, name),
            html_escape(&self.summary),
            html_escape(&self.kind),
            html_escape(self.urgency.label()),
        );
        if !self.details.is_empty() {
            plain.push_str(&format!("\n\n{}", self.details));
            html.push_str(&format!(
                "<blockquote>{}</blockquote>",
                html_escape(&self.details).replace('\n', "<br>")
            ));
        }
        let next =
            "React 🚑 to declare an incident from it, or reply `!inc declare --from-report`.";
        plain.push_str(&format!("\n\n{next}"));
        html.push_str(
            "<p>React 🚑 to declare an incident from it, or reply \
             <code>!inc declare --from-report</code>.</p>",
        );
        (plain, html)
    }

    /// The reporter's DM: what was filed, where, and what happens next.
    pub fn receipt(&self, filed: &Filed) -> (String, String) {
        let place = if filed.private {
            "the private triage room, which only the people handling security reports see"
        } else {
            "the triage room"
        };
        let plain = format!(
            "Thanks: your report \"{}\" ({}, urgency {}) is in {place}: {}\n\
             Someone there looks at it and either declares an incident, which invites you to \
             its room, or answers you here.",
            self.summary, self.kind, self.urgency, filed.link
        );
        let html = format!(
            "Thanks: your report <strong>{}</strong> ({}, urgency {}) is in \
             <a href=\"{}\">{place}</a>.<br>Someone there looks at it and either declares an \
             incident, which invites you to its room, or answers you here.",
            html_escape(&self.summary),
            html_escape(&self.kind),
            html_escape(self.urgency.label()),
            html_escape(&filed.link),
        );
        (plain, html)
    }
}

/// Where a report landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filed {
    /// The triage room it is in.
    pub room_id: OwnedRoomId,
    /// Its message there.
    pub event_id: OwnedEventId,
    /// A `matrix.to` link to the message.
    pub link: String,
    /// Whether that is the private triage room.
    pub private: bool,
}

#[cfg(test)]
mod tests {
    use matrix_sdk::ruma::user_id;

    use super::*;
    use crate::config::Config;

    fn draft(kind: &str, summary: &str, urgency: &str, details: &str) -> Draft {
        Draft {
            kind: kind.to_owned(),
            summary: summary.to_owned(),
            urgency: urgency.to_owned(),
            details: details.to_owned(),
        }
    }

    fn check(draft: &Draft) -> Result<Report, FieldError> {
        let config = Config::for_tests("");
        draft.check(user_id!("@ana:example.org"), &config.incidents)
    }

    #[test]
    fn a_good_draft_becomes_a_report() {
        let report = check(&draft(
            "Operations",
            "  Checkout\n is slow ",
            "hour",
            "EU only\r\n",
        ))
        .expect("valid");
        assert_eq!(report.kind, "operations");
        assert_eq!(report.summary, "Checkout is slow");
        assert_eq!(report.urgency, Urgency::Hour);
        assert_eq!(report.details, "EU only");
        assert_eq!(report.reporter, "@ana:example.org");
    }

    #[test]
    fn each_bad_field_is_named() {
        let long_summary = "x".repeat(MAX_SUMMARY + 1);
        let long_details = "y".repeat(MAX_DETAILS + 1);
        for (draft, field) in [
            (draft("weather", "a", "hour", ""), "type"),
            (draft("", "a", "hour", ""), "type"),
            (draft("security", " \n ", "hour", ""), "summary"),
            (draft("security", &long_summary, "hour", ""), "summary"),
            (draft("security", "a", "soon", ""), "urgency"),
            (draft("security", "a", "week", &long_details), "details"),
        ] {
            assert_eq!(
                check(&draft).expect_err("refused").field,
                field,
                "{draft:?}"
            );
        }
    }

    #[test]
    fn security_reports_are_private() {
        let config = Config::for_tests("");
        let report = check(&draft("security", "a leaked key", "hour", "")).expect("valid");
        assert!(report.private(&config.incidents));
        let report = check(&draft("product", "a typo", "week", "")).expect("valid");
        assert!(!report.private(&config.incidents));
    }

    #[test]
    fn the_triage_message_names_the_reporter_and_escapes_what_was_typed() {
        let report =
            check(&draft("operations", "<b>down</b>", "day", "line 1\nline 2")).expect("valid");
        let (plain, html) = report.triage_message("Ana <3");
        assert!(
            plain.starts_with(
                "📝 Report from Ana <3: <b>down</b>\nType: operations · Urgency: < 24 hours"
            ),
            "{plain}"
        );
        assert!(
            html.contains("<a href=\"https://matrix.to/#/@ana:example.org\">Ana &lt;3</a>"),
            "{html}"
        );
        assert!(html.contains("&lt;b&gt;down&lt;/b&gt;"), "{html}");
        assert!(html.contains("line 1<br>line 2"), "{html}");
    }

    #[test]
    fn a_report_round_trips_through_its_event_content() {
        let report = check(&draft("facilities", "the lift", "week", "")).expect("valid");
        let value = serde_json::to_value(&report).expect("serialise");
        assert_eq!(value["type"], "facilities");
        assert_eq!(value["urgency"], "week");
        assert!(value.get("details").is_none());
        let back: Report = serde_json::from_value(value).expect("deserialise");
        assert_eq!(back, report);
    }
}
