//! `[[oncall]]` rotations and `[[routes]]` keyword routing (SPEC §12).

use std::path::PathBuf;

use brigade_core::oncall::{Override, Rotation};
use jiff::{tz::TimeZone, Timestamp};
use matrix_sdk::ruma::{OwnedRoomOrAliasId, OwnedUserId};
use serde::Deserialize;

use super::{error::ConfigError, sections::Group};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOnCall {
    team: String,
    #[serde(default)]
    members: Vec<OwnedUserId>,
    start: Option<String>,
    shift_hours: Option<u32>,
    timezone: Option<String>,
    ical: Option<PathBuf>,
    handoff_room: Option<OwnedRoomOrAliasId>,
    escalation: Option<String>,
    #[serde(default)]
    overrides: Vec<RawOverride>,
}

/// The escalation policy a team's page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamPolicy {
    /// The team.
    pub team: String,
    /// The `[[escalation]]` policy paging `oncall:<team>` starts.
    pub policy: String,
}

/// Where a team's handoffs are announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handoff {
    /// The team.
    pub team: String,
    /// The room (by ID or alias) the bot posts in when the team's on-call changes.
    pub room: OwnedRoomOrAliasId,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    who: OwnedUserId,
    from: String,
    until: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    keywords: Vec<String>,
    group: Option<String>,
    oncall: Option<String>,
    escalation: Option<String>,
    #[serde(default)]
    page: bool,
}

/// Who a route points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteTarget {
    /// A `[[groups]]` entry.
    Group(String),
    /// Whoever is on call for a team.
    OnCall(String),
    /// An `[[escalation]]` policy.
    Escalation(String),
}

/// `[[routes]]`: words that call for specialists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Lower-case words or phrases; any one matches.
    pub keywords: Vec<String>,
    /// Who to page.
    pub target: RouteTarget,
    /// Page at once instead of suggesting it.
    pub page: bool,
}

impl Route {
    /// The `!inc page` argument that reaches this route's people.
    pub fn page_argument(&self) -> String {
        match &self.target {
            RouteTarget::Group(name) | RouteTarget::Escalation(name) => name.clone(),
            RouteTarget::OnCall(team) => format!("oncall:{team}"),
        }
    }

    /// The first keyword `text` mentions as a whole word (any case), if any.
    pub fn matches(&self, text: &str) -> Option<&str> {
        let text = text.to_lowercase();
        self.keywords
            .iter()
            .find(|keyword| {
                text.match_indices(keyword.as_str()).any(|(at, found)| {
                    let before = text[..at].chars().next_back();
                    let after = text[at + found.len()..].chars().next();
                    !before.is_some_and(char::is_alphanumeric)
                        && !after.is_some_and(char::is_alphanumeric)
                })
            })
            .map(String::as_str)
    }
}

fn invalid(team: &str, reason: impl std::fmt::Display) -> ConfigError {
    ConfigError::OnCall(format!("team `{team}`: {reason}"))
}

/// The rotations, where their handoffs are announced, and the policies their pages start.
pub(super) type OnCallSection = (Vec<Rotation>, Vec<Handoff>, Vec<TeamPolicy>);

pub(super) fn validate_oncall(raw: Vec<RawOnCall>) -> Result<OnCallSection, ConfigError> {
    let mut rotations: Vec<Rotation> = Vec::with_capacity(raw.len());
    let mut handoffs = Vec::new();
    let mut policies = Vec::new();
    for team in raw {
        let name = team.team.as_str();
        if rotations
            .iter()
            .any(|known| known.team().eq_ignore_ascii_case(name))
        {
            return Err(invalid(name, "is defined twice"));
        }
        let timestamp = |key: &str, text: &str| {
            text.parse::<Timestamp>().map_err(|error| {
                invalid(
                    name,
                    format!("{key} `{text}` is not an RFC 3339 time: {error}"),
                )
            })
        };
        let zone = match &team.timezone {
            Some(zone) => TimeZone::get(zone)
                .map_err(|error| invalid(name, format!("unknown timezone `{zone}`: {error}")))?,
            None => TimeZone::UTC,
        };
        let overrides = team
            .overrides
            .into_iter()
            .map(|raw| {
                Ok(Override {
                    who: raw.who,
                    from: timestamp("override from", &raw.from)?,
                    until: timestamp("override until", &raw.until)?,
                })
            })
            .collect::<Result<Vec<_>, ConfigError>>()?;
        let rotation = match &team.ical {
            Some(path) => {
                if !team.members.is_empty() || team.start.is_some() || team.shift_hours.is_some() {
                    return Err(invalid(
                        name,
                        "`ical` replaces members, start and shift_hours: set one or the other",
                    ));
                }
                let shifts = read_calendar(path, &zone).map_err(|reason| {
                    invalid(name, format!("ical {}: {reason}", path.display()))
                })?;
                Rotation::listed(name, shifts, zone, overrides)
            }
            None => {
                let start = timestamp(
                    "start",
                    team.start.as_deref().ok_or_else(|| {
                        invalid(name, "needs `start`, its first handoff (RFC 3339)")
                    })?,
                )?;
                let hours = team.shift_hours.unwrap_or(DEFAULT_SHIFT_HOURS);
                Rotation::new(name, team.members, start, hours, zone, overrides)
            }
        }
        .map_err(|error| ConfigError::OnCall(error.to_string()))?;
        if let Some(room) = team.handoff_room {
            handoffs.push(Handoff {
                team: team.team.clone(),
                room,
            });
        }
        if let Some(policy) = team.escalation {
            policies.push(TeamPolicy {
                team: team.team.clone(),
                policy,
            });
        }
        rotations.push(rotation);
    }
    Ok((rotations, handoffs, policies))
}

/// The shifts of an iCalendar file: one event per shift, from `DTSTART` to `DTEND`, the
/// person on call named by a Matrix ID in its `SUMMARY` ("On call: @dan:example.org"). Times
/// without a zone are read in the team's `zone`; recurring events are refused.
fn read_calendar(path: &std::path::Path, zone: &TimeZone) -> Result<Vec<Override>, String> {
    use icalendar::Component;
    let text = std::fs::read_to_string(path).map_err(|error| format!("cannot read it: {error}"))?;
    let calendar: icalendar::Calendar = text
        .parse()
        .map_err(|error| format!("not an iCalendar file: {error}"))?;
    let mut shifts = Vec::new();
    for component in &calendar.components {
        let icalendar::CalendarComponent::Event(event) = component else {
            continue;
        };
        let summary = event.get_summary().unwrap_or_default();
        let what = || format!("event `{summary}`");
        if event.property_value("RRULE").is_some() {
            return Err(format!(
                "{} repeats (RRULE): list each shift as its own event",
                what()
            ));
        }
        let who = summary
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .find_map(|word| OwnedUserId::try_from(word).ok())
            .ok_or_else(|| {
                format!(
                    "{} names no Matrix user (@name:server) in its SUMMARY",
                    what()
                )
            })?;
        let from = event
            .get_start()
            .and_then(|start| instant(&start, zone))
            .ok_or_else(|| format!("{} has no usable DTSTART", what()))?;
        let until = event
            .get_end()
            .and_then(|end| instant(&end, zone))
            .ok_or_else(|| format!("{} has no usable DTEND", what()))?;
        shifts.push(Override { who, from, until });
    }
    if shifts.is_empty() {
        return Err("it holds no events".to_owned());
    }
    Ok(shifts)
}

/// A `DTSTART` or `DTEND` as an instant: UTC as is, a `TZID` in its zone, a floating time or a
/// date in the team's zone.
fn instant(when: &icalendar::DatePerhapsTime, zone: &TimeZone) -> Option<Timestamp> {
    use icalendar::{CalendarDateTime, DatePerhapsTime};
    let civil = |text: String, zone: &TimeZone| {
        text.parse::<jiff::civil::DateTime>()
            .ok()?
            .to_zoned_datetime(zone.clone())
            .ok()
            .map(|zoned| zoned.timestamp())
    };
    match when {
        DatePerhapsTime::DateTime(CalendarDateTime::Utc(utc)) => {
            Timestamp::from_millisecond(utc.timestamp_millis()).ok()
        }
        DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { date_time, tzid }) => {
            let zone = TimeZone::get(tzid).ok()?;
            civil(date_time.format("%Y-%m-%dT%H:%M:%S").to_string(), &zone)
        }
        DatePerhapsTime::DateTime(CalendarDateTime::Floating(date_time)) => {
            civil(date_time.format("%Y-%m-%dT%H:%M:%S").to_string(), zone)
        }
        DatePerhapsTime::Date(date) => civil(format!("{}T00:00:00", date.format("%Y-%m-%d")), zone),
    }
}

/// A week.
const DEFAULT_SHIFT_HOURS: u32 = 168;

pub(super) fn validate_routes(
    raw: Vec<RawRoute>,
    groups: &[Group],
    rotations: &[Rotation],
    policies: &[super::escalation::Policy],
) -> Result<Vec<Route>, ConfigError> {
    raw.into_iter()
        .map(|route| {
            let keywords: Vec<String> = route
                .keywords
                .iter()
                .map(|keyword| keyword.trim().to_lowercase())
                .collect();
            if keywords.is_empty() || keywords.iter().any(String::is_empty) {
                return Err(ConfigError::Route(
                    "keywords must list at least one word, none empty".to_owned(),
                ));
            }
            let target = match (route.group, route.oncall, route.escalation) {
                (None, None, Some(policy)) => {
                    super::escalation::check_reference(policies, &policy)
                        .map_err(|reason| ConfigError::Route(format!("escalation: {reason}")))?;
                    RouteTarget::Escalation(policy)
                }
                (Some(group), None, None) => {
                    if !groups
                        .iter()
                        .any(|known| known.name.eq_ignore_ascii_case(&group))
                    {
                        return Err(ConfigError::Route(format!(
                            "no [[groups]] entry named `{group}`"
                        )));
                    }
                    RouteTarget::Group(group)
                }
                (None, Some(team), None) => {
                    if !rotations
                        .iter()
                        .any(|known| known.team().eq_ignore_ascii_case(&team))
                    {
                        return Err(ConfigError::Route(format!(
                            "no [[oncall]] team named `{team}`"
                        )));
                    }
                    RouteTarget::OnCall(team)
                }
                _ => {
                    return Err(ConfigError::Route(format!(
                        "route for {} needs one of `group`, `oncall` and `escalation`",
                        keywords.join(", ")
                    )))
                }
            };
            Ok(Route {
                keywords,
                target,
                page: route.page,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calendar(events: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().expect("a temporary file");
        let text = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{events}END:VCALENDAR\r\n"
        );
        std::fs::write(file.path(), text).expect("written");
        file
    }

    fn event(summary: &str, start: &str, end: &str) -> String {
        format!(
            "BEGIN:VEVENT\r\nUID:{start}\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:{summary}\r\n{start}\r\n{end}\r\nEND:VEVENT\r\n"
        )
    }

    #[test]
    fn an_icalendar_rota_lists_shifts_in_utc_in_a_zone_or_floating() {
        let paris = TimeZone::get("Europe/Paris").expect("zone");
        let file = calendar(&format!(
            "{}{}",
            event(
                "On call: @dan:example.org",
                "DTSTART:20260105T080000Z",
                "DTEND;TZID=Europe/Paris:20260112T090000"
            ),
            event(
                "@dora:example.org",
                "DTSTART;TZID=Europe/Paris:20260112T090000",
                "DTEND:20260119T090000"
            ),
        ));
        let shifts = read_calendar(file.path(), &paris).expect("readable");
        assert_eq!(shifts.len(), 2);
        assert_eq!(shifts[0].who.as_str(), "@dan:example.org");
        let at = |text: &str| text.parse::<Timestamp>().expect("time");
        assert_eq!(shifts[0].until, at("2026-01-12T08:00:00Z"));
        assert_eq!(shifts[1].from, at("2026-01-12T08:00:00Z"));
        assert_eq!(
            shifts[1].until,
            at("2026-01-19T08:00:00Z"),
            "floating: the team's zone"
        );
    }

    #[test]
    fn unusable_icalendar_rotas_say_why() {
        let paris = TimeZone::get("Europe/Paris").expect("zone");
        let refused =
            |events: &str| read_calendar(calendar(events).path(), &paris).expect_err("refused");
        assert!(refused("").contains("no events"));
        assert!(refused(&event(
            "Dan",
            "DTSTART:20260105T080000Z",
            "DTEND:20260106T080000Z"
        ))
        .contains("names no Matrix user"));
        assert!(refused(&event(
            "@dan:example.org",
            "DTSTART:20260105T080000Z\r\nRRULE:FREQ=WEEKLY",
            "DTEND:20260106T080000Z"
        ))
        .contains("repeats (RRULE)"));
        assert!(
            read_calendar(std::path::Path::new("/nonexistent/db.ics"), &paris)
                .expect_err("unreadable")
                .contains("cannot read it")
        );
        let garbage = tempfile::NamedTempFile::new().expect("file");
        std::fs::write(garbage.path(), "not a calendar").expect("written");
        assert!(read_calendar(garbage.path(), &paris).is_err());
    }

    #[test]
    fn keywords_match_whole_words_in_any_case() {
        let route = Route {
            keywords: vec!["postgres".to_owned(), "dns".to_owned()],
            target: RouteTarget::Group("dba".to_owned()),
            page: false,
        };
        assert_eq!(route.matches("Postgres is down"), Some("postgres"));
        assert_eq!(route.matches("the DNS, again"), Some("dns"));
        assert_eq!(route.matches("postgresql replicas"), None);
        assert_eq!(route.matches("nothing here"), None);
        assert_eq!(route.page_argument(), "dba");
    }
}
