//! `!inc declare <title> [--sev N] [--type T] [--private] [--started HH:MM]`, and
//! `!inc declare --from-report` in reply to a report in triage (or 🚑 on it).

use brigade_core::incident::{Declaration, IncidentError, Severity};

use super::{
    args,
    decision::{Asked, Refusal},
    info::{CommandInfo, ParseError, Scope, Who},
};
use crate::{config::IncidentsConfig, filing::Report};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "declare",
    arguments: "<title> [--sev N] [--type T] [--started HH:MM] | --from-report [--sev N]",
    summary: "open an incident: its own room, you in command, a headline in announcements (--started is UTC); --from-report, in reply to a report in triage, takes its summary and type",
    scope: Scope::Anywhere,
    who: Who::Anyone,
    in_shared_room: false,
};

/// What `!inc declare` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclareArgs {
    /// The title, as typed.
    pub title: String,
    /// `--sev`, when given.
    pub severity: Option<Severity>,
    /// `--type`, when given (checked against the configuration when run).
    pub kind: Option<String>,
    /// `--private`.
    pub private: bool,
    /// `--started HH:MM` (UTC), as hours and minutes.
    pub started: Option<(u8, u8)>,
    /// `--from-report`: the report the command replies to says what is declared.
    pub from_report: bool,
}

pub(super) fn parse(rest: &str) -> Result<DeclareArgs, ParseError> {
    let mut args = DeclareArgs::default();
    let mut title = Vec::new();
    let mut words = rest.split_whitespace();
    while let Some(word) = words.next() {
        let (flag, inline) = match word.split_once('=') {
            Some((flag, value)) if word.starts_with("--") => (flag, Some(value)),
            _ => (word, None),
        };
        let mut value = |name: &str| {
            inline
                .or_else(|| words.next())
                .filter(|value| !value.is_empty())
                .ok_or_else(|| ParseError::Invalid(format!("`{name}` needs a value")))
        };
        match flag.to_ascii_lowercase().as_str() {
            "--sev" | "--severity" => {
                args.severity = Some(value("--sev")?.parse().map_err(args::invalid)?);
            }
            "--type" => args.kind = Some(value("--type")?.to_ascii_lowercase()),
            "--started" => args.started = Some(clock_time(value("--started")?)?),
            "--private" if inline.is_none() => args.private = true,
            "--from-report" if inline.is_none() => args.from_report = true,
            other if other.starts_with("--") => {
                return Err(ParseError::Invalid(format!(
                    "unknown option `{flag}`; usage: `{}`",
                    INFO.usage()
                )))
            }
            _ => title.push(word),
        }
    }
    args.title = title.join(" ");
    if args.title.is_empty() && !args.from_report {
        return Err(args::invalid(IncidentError::EmptyTitle));
    }
    Ok(args)
}

fn clock_time(text: &str) -> Result<(u8, u8), ParseError> {
    let invalid =
        || ParseError::Invalid(format!("`--started {text}`: use HH:MM (UTC), e.g. 09:40"));
    let (hours, minutes) = text.split_once(':').ok_or_else(invalid)?;
    let hours: u8 = hours.parse().map_err(|_| invalid())?;
    let minutes: u8 = minutes.parse().map_err(|_| invalid())?;
    if hours > 23 || minutes > 59 || text.len() > 5 {
        return Err(invalid());
    }
    Ok((hours, minutes))
}

const DAY_MILLIS: u64 = 24 * 60 * 60 * 1000;

/// `!inc declare`: what is declared, with the configured defaults; an unknown type is refused.
/// `--started HH:MM` is that time on the day of the command, or the day before if it is still
/// to come.
pub fn decide(
    args: DeclareArgs,
    config: &IncidentsConfig,
    asked: Asked<'_>,
) -> Result<Declaration, Refusal> {
    let kind = match &args.kind {
        Some(kind) => config.find_type(kind).map(str::to_owned).ok_or_else(|| {
            Refusal::new(format!(
                "unknown type `{kind}`: use {}",
                config.types.join(", ")
            ))
        })?,
        None => config.types[0].clone(),
    };
    let sent = asked.at;
    let started = args.started.map(|(hours, minutes)| {
        let day = sent - sent % DAY_MILLIS;
        let at = day + (u64::from(hours) * 60 + u64::from(minutes)) * 60_000;
        if at > sent {
            at - DAY_MILLIS
        } else {
            at
        }
    });
    Ok(Declaration {
        title: args.title,
        severity: args.severity.unwrap_or(config.default_severity),
        private: args.private || config.private_types.contains(&kind),
        kind,
        declarer: asked.by.to_owned(),
        commander: Some(asked.by.to_owned()),
        started,
        alert: None,
        affects: None,
    })
}

/// `!inc declare --from-report` (or 🚑) on `report`: its summary is the title unless one is
/// typed, its type the type unless `--type` says otherwise (a report of a private type stays
/// private), and the declarer is in command.
pub fn from_report(
    report: &Report,
    args: DeclareArgs,
    config: &IncidentsConfig,
    asked: Asked<'_>,
) -> Result<Declaration, Refusal> {
    let title = if args.title.is_empty() {
        report.summary.clone()
    } else {
        args.title
    };
    let kind = args.kind.unwrap_or_else(|| report.kind.clone());
    // A report of a private type stays private, whatever type it is declared as.
    let private = args.private || report.private(config);
    let args = DeclareArgs {
        title,
        kind: Some(kind),
        private,
        ..args
    };
    decide(args, config, asked)
}

#[cfg(test)]
mod tests {
    use matrix_sdk::ruma::user_id;

    use super::*;

    #[test]
    fn a_declaration_takes_the_configured_defaults_and_a_start_before_the_command() {
        let config = crate::config::Config::for_tests("");
        let asked = Asked {
            by: user_id!("@alice:example.org"),
            // 2025-12-01 10:00 UTC.
            at: 1_764_583_200_000,
        };
        let args = |text: &str| parse(text).expect("parsed");
        let plain = decide(args("DNS down"), &config.incidents, asked).expect("declared");
        assert_eq!(plain.kind, config.incidents.types[0]);
        assert_eq!(plain.severity, config.incidents.default_severity);
        assert!(!plain.private);
        let security =
            decide(args("Key leak --type Security"), &config.incidents, asked).expect("declared");
        assert!(security.private, "security is private by default");
        let earlier =
            decide(args("x --started 09:30"), &config.incidents, asked).expect("declared");
        assert_eq!(earlier.started, Some(asked.at - 30 * 60_000));
        let yesterday =
            decide(args("x --started 11:00"), &config.incidents, asked).expect("declared");
        assert_eq!(yesterday.started, Some(asked.at + 60 * 60_000 - DAY_MILLIS));
        let report = Report {
            kind: "security".to_owned(),
            summary: "Key in a public bucket".to_owned(),
            urgency: crate::filing::Urgency::Hour,
            details: String::new(),
            reporter: user_id!("@rita:example.org").to_owned(),
        };
        let reported = from_report(
            &report,
            args("--from-report --sev 1"),
            &config.incidents,
            asked,
        )
        .expect("declared");
        assert_eq!(
            (
                reported.title.as_str(),
                reported.kind.as_str(),
                reported.severity
            ),
            ("Key in a public bucket", "security", Severity::Sev1)
        );
        assert!(reported.private, "a security report is a private incident");
        assert_eq!(reported.declarer, asked.by, "the triager is in command");
        let retitled = from_report(
            &report,
            args("--from-report Leaked key"),
            &config.incidents,
            asked,
        )
        .expect("declared");
        assert_eq!(retitled.title, "Leaked key");
        let retyped = from_report(
            &report,
            args("--from-report --type operations"),
            &config.incidents,
            asked,
        )
        .expect("declared");
        assert!(
            retyped.private,
            "a private report stays private as another type"
        );
        assert!(
            parse("").is_err(),
            "a declaration needs a title or a report"
        );
        let unknown =
            decide(args("x --type weather"), &config.incidents, asked).expect_err("unknown");
        assert!(
            unknown
                .text
                .contains("unknown type `weather`: use operations, security"),
            "{unknown}"
        );
    }
}
