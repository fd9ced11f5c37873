//! `!inc followup <text> [--owner @user] [--due YYYY-MM-DD] [--ticket <tracker>|none]`

use brigade_core::record::IncidentRecord;
use matrix_sdk::ruma::{OwnedUserId, ServerName};

use super::{
    args,
    decision::{Asked, Decided, Refusal},
    info::{CommandInfo, ParseError, Scope, Who},
};
use crate::{names::Names, render};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "followup",
    arguments: "<text> [--owner @user] [--due YYYY-MM-DD] [--ticket <tracker>|none]",
    summary: "record an action item for after the incident, with its ticket in a tracker; the postmortem lists it",
    scope: Scope::Incident,
    who: Who::Anyone,
    in_shared_room: false,
};

/// What `!inc followup` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowupArgs {
    /// What is to be done.
    pub text: String,
    /// Who will do it.
    pub owner: Option<OwnedUserId>,
    /// By when.
    pub due: Option<jiff::civil::Date>,
    /// Which tracker gets its ticket.
    pub ticket: TicketAsked,
}

/// Which tracker a follow-up's ticket is asked of (`--ticket`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TicketAsked {
    /// The bridge's default for the incident's type, if it has one.
    #[default]
    Default,
    /// The tracker the bridge's configuration names so.
    Tracker(String),
    /// None (`--ticket none`).
    None,
}

pub(super) fn parse(rest: &str, server: &ServerName) -> Result<FollowupArgs, ParseError> {
    let mut words = Vec::new();
    let mut owner = None;
    let mut due = None;
    let mut ticket = TicketAsked::Default;
    let mut rest = rest.split_whitespace();
    while let Some(word) = rest.next() {
        let (option, inline) = match word.split_once('=') {
            Some((option, value)) if option.starts_with("--") => (option, Some(value)),
            _ => (word, None),
        };
        if !option.starts_with("--") {
            words.push(word);
            continue;
        }
        let mut value = |needs: &str| {
            inline.or_else(|| rest.next()).ok_or_else(|| {
                ParseError::Invalid(format!("`{option}` needs {needs}: `{option} {needs}`"))
            })
        };
        match option {
            "--owner" => owner = Some(args::user(value("@user")?, server)?),
            "--due" => due = Some(due_date(value("YYYY-MM-DD")?)?),
            "--ticket" => ticket = tracker(value("<tracker>")?)?,
            _ => {
                return Err(ParseError::Invalid(format!(
                    "unknown option `{word}`: `{}`",
                    INFO.usage()
                )))
            }
        }
    }
    if words.is_empty() {
        return Err(args::usage(&INFO));
    }
    let text = words.join(" ");
    args::not_too_long(&text)?;
    Ok(FollowupArgs {
        text,
        owner,
        due,
        ticket,
    })
}

fn due_date(word: &str) -> Result<jiff::civil::Date, ParseError> {
    let well_formed = word.len() == 10 && word.as_bytes()[4] == b'-' && word.as_bytes()[7] == b'-';
    word.parse::<jiff::civil::Date>()
        .ok()
        .filter(|_| well_formed)
        .ok_or_else(|| {
            ParseError::Invalid(format!(
                "`{word}` is not a date: give the day as YYYY-MM-DD, such as `--due 2026-12-15`"
            ))
        })
}

fn tracker(word: &str) -> Result<TicketAsked, ParseError> {
    if word == "none" {
        return Ok(TicketAsked::None);
    }
    if !brigade_core::events::is_tracker_name(word) {
        return Err(ParseError::Invalid(format!(
            "`{word}` is not a tracker's name: give one of the bridge's trackers (such as `github`) or `none`"
        )));
    }
    Ok(TicketAsked::Tracker(word.to_owned()))
}

/// A follow-up decided: the change, its number, and the tracker its ticket is asked of (none
/// for the bridge's default for the type), when the bridge is asked at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowupDecided {
    /// The change and the answer.
    pub decided: Decided,
    /// The follow-up's number in the incident.
    pub number: usize,
    /// `Some` when the bridge is asked for its ticket: the tracker named, if any.
    pub ask_bridge: Option<Option<String>>,
}

/// `!inc followup`: the follow-up is recorded, with its owner if named (by `names`) and its
/// due date; the bridge (when the bot has one: `bridge`) is asked for its ticket, except in a
/// private incident, whose words never go to a tracker.
pub fn decide(
    record: &IncidentRecord,
    args: FollowupArgs,
    (asked, names): (Asked<'_>, &Names),
    bridge: bool,
) -> Result<FollowupDecided, Refusal> {
    let private = record.incident.private;
    let ask_bridge = match args.ticket {
        TicketAsked::Tracker(_) if private => {
            return Err(Refusal::new(
                "a private incident's follow-ups get no ticket: the tracker would hold what this room keeps private; record it with `--ticket none`",
            ))
        }
        TicketAsked::Tracker(_) if !bridge => {
            return Err(Refusal::new(
                "tickets are opened by brigade-bridge, and the bot has none: set `[alerts] bridge_registration`, or record it with `--ticket none`",
            ))
        }
        TicketAsked::Tracker(name) => Some(Some(name)),
        TicketAsked::Default if bridge && !private => Some(None),
        TicketAsked::Default | TicketAsked::None => None,
    };
    if let Some(due) = args.due {
        let today = crate::oncall::timestamp(asked.at)
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .date();
        if due < today {
            return Err(Refusal::new(format!(
                "`--due {due}` is in the past (today is {today} UTC): give a day from today on"
            )));
        }
    }
    let mut details = Vec::new();
    if let Some(owner) = &args.owner {
        details.push(format!("owner {}", names.pill(owner)));
    }
    if let Some(due) = args.due {
        details.push(format!("due {due}"));
    }
    let mut next = record.clone();
    let text = render::escape(&args.text);
    let number = next
        .incident
        .add_followup((args.text, args.owner, args.due), asked.at, asked.by);
    let details = if details.is_empty() {
        String::new()
    } else {
        format!(" ({})", details.join(", "))
    };
    let ticket = match &ask_bridge {
        Some(Some(tracker)) => format!("\n\nIts ticket is asked of the bridge, in `{tracker}`."),
        _ => String::new(),
    };
    let answer = format!("Follow-up {number} recorded{details}: {text}{ticket}");
    Ok(FollowupDecided {
        decided: Decided::new(next, answer),
        number,
        ask_bridge,
    })
}

#[cfg(test)]
mod tests {
    use brigade_core::incident::Severity;
    use matrix_sdk::ruma::{server_name, user_id};

    use super::*;

    const DAY: u64 = 24 * 60 * 60 * 1000;
    /// 2026-12-01 00:00 UTC.
    const DECEMBER_1: u64 = 1_796_083_200_000;

    fn parsed(text: &str) -> Result<FollowupArgs, String> {
        parse(text, server_name!("example.org")).map_err(|error| error.to_string())
    }

    fn asked() -> Asked<'static> {
        Asked {
            by: user_id!("@alice:example.org"),
            at: DECEMBER_1 + DAY / 2,
        }
    }

    #[test]
    fn a_follow_up_is_recorded_with_its_owner_and_due_date() {
        let record = brigade_core::testing::record(1, "DNS", Severity::Sev2, 1_000);
        let args = parsed("add a <disk> alert --owner @bob --due=2026-12-15").expect("parsed");
        assert_eq!(args.due, Some(jiff::civil::date(2026, 12, 15)));
        let decided = decide(&record, args, (asked(), &Names::new()), false).expect("recorded");
        assert_eq!(decided.number, 1);
        assert_eq!(decided.ask_bridge, None, "no bridge");
        assert_eq!(decided.decided.next.followups().len(), 1);
        let answer = crate::names::plain(&decided.decided.answer);
        assert!(
            answer.starts_with("Follow-up 1 recorded (owner @bob:example.org, due 2026-12-15): "),
            "{answer}"
        );
        assert!(!answer.contains("<disk>"), "escaped: {answer}");
    }

    #[test]
    fn the_bridge_is_asked_for_a_ticket_unless_none_is_wanted_or_the_incident_is_private() {
        let record = brigade_core::testing::record(1, "DNS", Severity::Sev2, 1_000);
        let ask = |text: &str, record: &IncidentRecord, bridge: bool| {
            decide(
                record,
                parsed(text).expect("parsed"),
                (asked(), &Names::new()),
                bridge,
            )
            .map(|decided| decided.ask_bridge)
            .map_err(|refusal| refusal.text)
        };
        assert_eq!(
            ask("x", &record, true),
            Ok(Some(None)),
            "the type's default"
        );
        assert_eq!(
            ask("x --ticket github", &record, true),
            Ok(Some(Some("github".to_owned())))
        );
        assert_eq!(ask("x --ticket none", &record, true), Ok(None));
        assert!(ask("x --ticket github", &record, false)
            .expect_err("no bridge")
            .contains("`[alerts] bridge_registration`"));
        let mut private = record.clone();
        private.incident.private = true;
        assert_eq!(ask("x", &private, true), Ok(None), "never by default");
        assert!(ask("x --ticket github", &private, true)
            .expect_err("private")
            .starts_with("a private incident's follow-ups get no ticket"));
        assert!(ask("x --due 2026-11-30", &record, true)
            .expect_err("past")
            .starts_with("`--due 2026-11-30` is in the past (today is 2026-12-01 UTC)"));
        assert!(
            ask("x --due 2026-12-01", &record, true).is_ok(),
            "today is fine"
        );
    }

    #[test]
    fn malformed_options_are_named() {
        for (text, expected) in [
            ("x --due", "`--due` needs YYYY-MM-DD"),
            ("x --due 15/12/2026", "`15/12/2026` is not a date"),
            ("x --due 2026-02-30", "`2026-02-30` is not a date"),
            ("x --due 2026-1-5", "`2026-1-5` is not a date"),
            ("x --ticket", "`--ticket` needs <tracker>"),
            ("x --ticket GitHub!", "`GitHub!` is not a tracker's name"),
            ("x --owner", "`--owner` needs @user"),
            ("x --owner bob", "`bob` is not a user"),
            ("x --priority high", "unknown option `--priority`"),
        ] {
            let error = parsed(text).expect_err(text);
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
