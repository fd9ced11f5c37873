//! The timeline and the postmortem (SPEC §3, §11), rendered as Markdown from the stored record.
//! Pure, like [`crate::render`]: the same record always reads the same.

use std::collections::BTreeMap;

use brigade_core::{
    followup::Followup,
    record::IncidentRecord,
    timeline::{Entry, Flag, Happening, Line},
};
use matrix_sdk::ruma::{OwnedUserId, RoomId, ServerName, UserId};

use crate::{
    names::Names,
    render::{self, date_time, escape, format_utc, status_mark},
};

/// Where the links of a report point: the incident's room, reached through `via`.
#[derive(Debug, Clone, Copy)]
pub struct Links<'a> {
    /// The incident room.
    pub room: &'a RoomId,
    /// A server that is in the room.
    pub via: &'a ServerName,
}

impl Links<'_> {
    /// A `matrix.to` link to one event of the room.
    pub fn event(&self, event_id: &str) -> String {
        format!(
            "https://matrix.to/#/{}/{event_id}?via={}",
            self.room, self.via
        )
    }
}

/// `45s`, `3m`, `1h 02m`, `2d 03h`.
pub fn duration(millis: u64) -> String {
    let seconds = millis / 1000;
    let (days, hours, minutes) = (seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60);
    if days > 0 {
        format!("{days}d {hours:02}h")
    } else if hours > 0 {
        format!("{hours}h {minutes:02}m")
    } else if minutes > 0 {
        format!("{minutes}m")
    } else {
        format!("{seconds}s")
    }
}

/// `!inc timeline`: every line with its time (and date, when the incident spans days), then
/// the key moments with the time between them.
/// People are named by `names`.
pub fn timeline(record: &IncidentRecord, links: Links<'_>, names: &Names) -> String {
    let incident = &record.incident;
    let mut text = format!(
        "**Timeline of {} · {}**\n\n",
        incident.number,
        escape(&incident.title)
    );
    text.push_str(&lines(record, links, names));
    text.push_str("\n\n");
    text.push_str(&key_moments(record));
    text
}

/// The timeline's lines, a Markdown list.
fn lines(record: &IncidentRecord, links: Links<'_>, names: &Names) -> String {
    let timeline = record.timeline();
    let days = timeline
        .iter()
        .map(|line| format_utc(line.at(), "%Y-%m-%d"))
        .chain(
            record
                .incident
                .timestamps
                .started
                .map(|at| format_utc(at, "%Y-%m-%d")),
        )
        .collect::<std::collections::BTreeSet<_>>();
    let format = if days.len() > 1 {
        "%Y-%m-%d %H:%M"
    } else {
        "%H:%M"
    };
    let mut text = String::new();
    if let Some(started) = record.incident.timestamps.started {
        text.push_str(&format!(
            "- {} ⏮ Started (as the declarer says)\n",
            format_utc(started, format)
        ));
    }
    for line in &timeline {
        let when = format_utc(line.at(), format);
        let what = match line {
            Line::Entry(entry) => entry_text(entry, names),
            Line::Flag(flag) => flag_text(flag, links, names),
        };
        text.push_str(&format!("- {when} {what}\n"));
    }
    text.trim_end().to_owned()
}

fn entry_text(entry: &Entry, names: &Names) -> String {
    let who = |user: &UserId| names.pill(user);
    let by = who(&entry.by);
    match &entry.what {
        Happening::Declared { severity } => format!("🔥 Declared as {severity} by {by}"),
        Happening::Acknowledged => format!("👀 Acknowledged by {by}"),
        Happening::Status { from, to } => format!("🔄 Status {from} → **{to}** ({by})"),
        Happening::Severity { from, to } => {
            format!("{} Severity {from} → **{to}** ({by})", to.emoji())
        }
        Happening::Commander {
            from: Some(from),
            to,
        } => {
            format!(
                "🚑 Command passed from {} to **{}** ({by})",
                who(from),
                who(to)
            )
        }
        Happening::Commander { from: None, to } => {
            format!("🚑 **{}** took command ({by})", who(to))
        }
        Happening::Role { role, to } => format!("🎭 Role {role} to {} ({by})", who(to)),
        Happening::Paged {
            people,
            escalations,
        } => {
            let people: Vec<String> = people.iter().map(|person| who(person)).collect();
            let steps: Vec<String> = escalations
                .iter()
                .map(|step| format!("escalation {}, level {}", escape(&step.policy), step.level))
                .collect();
            let how = if steps.is_empty() {
                String::new()
            } else {
                format!(": {}", steps.join("; "))
            };
            format!("📟 Paged {} ({by}{how})", people.join(", "))
        }
        Happening::Notified { person, channel } => {
            format!(
                "📧 Notified {} by {channel}, their page unacknowledged",
                who(person)
            )
        }
        Happening::EscalationEnded {
            policy,
            acknowledged: true,
        } => format!("🛑 Escalation {} stopped by {by}", escape(policy)),
        Happening::EscalationEnded {
            policy,
            acknowledged: false,
        } => format!(
            "🛑 Escalation {} ended: nobody acknowledged",
            escape(policy)
        ),
        Happening::Update {
            text,
            public: false,
        } => format!("📣 Update by {by}: {}", escape(text)),
        Happening::Update { text, public: true } => {
            format!("🌐 Public update by {by}: {}", escape(text))
        }
        Happening::Affects {
            component,
            impact: Some(impact),
        } => format!(
            "🚧 Affects {}: {} ({by})",
            escape(component),
            impact.label().to_lowercase()
        ),
        Happening::Affects {
            component,
            impact: None,
        } => format!("🟢 No longer affects {} ({by})", escape(component)),
        Happening::Shared { server } => {
            format!("🤝 Shared with {} ({by})", escape(server.as_str()))
        }
        Happening::Call { service, .. } => {
            format!("📞 Call on {} started by {by}", escape(service))
        }
        Happening::CallJoined => format!("📞 {by} joined the call"),
        Happening::Followup { text, owner, due } => {
            let mut line = format!("📝 Follow-up: {}", escape(text));
            match (owner, due) {
                (Some(owner), Some(due)) => {
                    line.push_str(&format!(" (owner {}, due {due})", who(owner)));
                }
                (Some(owner), None) => line.push_str(&format!(" (owner {})", who(owner))),
                (None, Some(due)) => line.push_str(&format!(" (due {due})")),
                (None, None) => {}
            }
            line
        }
        Happening::Ticket {
            followup,
            tracker,
            key,
            url,
        } => format!(
            "🎫 Follow-up {followup} is ticket {} in {}",
            crate::markdown::link(key, url),
            escape(tracker)
        ),
        Happening::TicketState {
            followup,
            closed,
            by_name,
        } => {
            let by_name = by_name
                .as_deref()
                .map(|name| format!(" by {}", escape(name)))
                .unwrap_or_default();
            if *closed {
                format!("✅ Follow-up {followup}'s ticket was closed{by_name}")
            } else {
                format!("🔁 Follow-up {followup}'s ticket was reopened{by_name}")
            }
        }
    }
}

/// A follow-up as the postmortem lists it: a box ticked once its ticket is closed, what,
/// whose, by when, and its ticket's link.
pub fn followup_line(followup: &Followup<'_>, names: &Names) -> String {
    let mut line = format!(
        "[{}] {}",
        if followup.done() { "x" } else { " " },
        escape(followup.text)
    );
    match followup.owner {
        Some(owner) => line.push_str(&format!(" (owner {}", names.pill(owner))),
        None => line.push_str(" (no owner yet"),
    }
    if let Some(due) = followup.due {
        line.push_str(&format!(", due {due}"));
    }
    line.push(')');
    if let Some(ticket) = &followup.ticket {
        line.push_str(&format!(
            " · 🎫 {}{}",
            crate::markdown::link(ticket.key, ticket.url),
            if ticket.closed { " (closed)" } else { "" }
        ));
    }
    line
}

fn flag_text(flag: &Flag, links: Links<'_>, names: &Names) -> String {
    let links = Links {
        room: flag.room.as_deref().unwrap_or(links.room),
        ..links
    };
    let link = links.event(flag.event_id.as_str());
    // Said in the shared room: the author's server is named.
    let author = match &flag.room {
        Some(_) => format!(
            "{} (🤝 {})",
            names.pill(&flag.author),
            escape(flag.author.server_name().as_str())
        ),
        None => names.pill(&flag.author),
    };
    match &flag.media {
        Some(_) => format!("📎 {author}: [{}]({link})", escape(&flag.body)),
        None => {
            // One quoted line: a flagged message is evidence, not formatting.
            let body = flag.body.split_whitespace().collect::<Vec<_>>().join(" ");
            format!("📌 {author}: “{}” ([link]({link}))", escape(&body))
        }
    }
}

/// The core moments in order, each with the time since the one before, and the durations.
fn key_moments(record: &IncidentRecord) -> String {
    let stamps = &record.incident.timestamps;
    let mut parts = Vec::new();
    let mut previous: Option<u64> = None;
    for (name, at) in stamps.moments() {
        let Some(at) = at else { continue };
        match previous {
            Some(before) => parts.push(format!(
                "{name} {} (+{})",
                date_time(at),
                duration(at.saturating_sub(before))
            )),
            None => parts.push(format!("{name} {}", date_time(at))),
        }
        previous = Some(at);
    }
    let durations = stamps.durations();
    let mut text = format!("**Key moments:** {}", parts.join(" → "));
    let measured: Vec<String> = [
        ("acknowledge", durations.to_acknowledge),
        ("mitigate", durations.to_mitigate),
        ("resolve", durations.to_resolve),
    ]
    .into_iter()
    .filter_map(|(name, took)| took.map(|took| format!("to {name} {}", duration(took))))
    .collect();
    if !measured.is_empty() {
        text.push_str(&format!("  \n**Time** {}", measured.join(" · ")));
    }
    text
}

/// Whether a postmortem is the draft of `!inc postmortem` or the final one of `!inc close`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edition {
    /// Rebuilt on demand while the incident runs.
    Draft,
    /// Posted at close.
    Final,
}

/// The postmortem of SPEC §11; `participants` are everyone who was in the room (but the bot),
/// and people are named by `names`.
pub fn postmortem(
    record: &IncidentRecord,
    participants: &[OwnedUserId],
    edition: Edition,
    links: Links<'_>,
    names: &Names,
) -> String {
    let incident = &record.incident;
    let heading = match edition {
        Edition::Draft => "Postmortem draft",
        Edition::Final => "Postmortem",
    };
    let mut text = format!(
        "# {heading}: {} · {}\n\n",
        incident.number,
        escape(&incident.title)
    );
    text.push_str(&format!(
        "{} **Severity** {} · **Type** {} · **Status** {}  \n",
        status_mark(incident.status),
        incident.severity,
        incident.kind,
        incident.status
    ));
    let mut roles = vec![format!(
        "**Commander** {}",
        render::commander(incident, names)
    )];
    for (role, holder) in &incident.roles {
        roles.push(format!("**{role}** {}", names.pill(holder)));
    }
    text.push_str(&roles.join(" · "));

    text.push_str("\n\n## Impact and summary\n\n");
    if incident.summary.is_empty() {
        text.push_str("_Not written yet: `!inc summary <text>` sets it._");
    } else {
        text.push_str(&escape(&incident.summary));
    }

    text.push_str("\n\n## Timestamps and durations\n\n");
    text.push_str(&key_moments(record));

    text.push_str("\n\n## Timeline\n\n");
    text.push_str(&lines(record, links, names));

    text.push_str("\n\n## Follow-ups\n\n");
    let followups: Vec<String> = record
        .followups()
        .iter()
        .map(|followup| format!("- {}", followup_line(followup, names)))
        .collect();
    if followups.is_empty() {
        text.push_str("None recorded: `!inc followup <text> [--owner @user]` adds one.");
    } else {
        text.push_str(&followups.join("\n"));
    }

    text.push_str("\n\n## Participants\n\n");
    let people: Vec<String> = participants.iter().map(|user| names.pill(user)).collect();
    text.push_str(&if people.is_empty() {
        "—".to_owned()
    } else {
        people.join(", ")
    });

    text.push_str("\n\n## Thanks\n\n");
    let mut thanked: BTreeMap<&OwnedUserId, Vec<&OwnedUserId>> = BTreeMap::new();
    for thanks in &record.thanks {
        let by = thanked.entry(&thanks.to).or_default();
        if !by.contains(&&thanks.by) {
            by.push(&thanks.by);
        }
    }
    if thanked.is_empty() {
        text.push_str("Nobody was thanked with 🙏 or 🎉 in the room yet.");
    } else {
        let lines: Vec<String> = thanked
            .iter()
            .map(|(to, by)| {
                let by: Vec<String> = by.iter().map(|user| names.pill(user)).collect();
                format!("- {}, thanked by {}", names.pill(to), by.join(", "))
            })
            .collect();
        text.push_str(&lines.join("\n"));
    }
    text
}

/// The file name of an incident's postmortem: `INC-7-postmortem.md`.
pub fn file_name(record: &IncidentRecord) -> String {
    format!("{}-postmortem.md", record.incident.number)
}

#[cfg(test)]
mod tests {
    use brigade_core::{
        incident::{Severity, Status},
        testing,
        timeline::{Message, Thanks},
    };
    use matrix_sdk::ruma::{owned_event_id, owned_room_id, owned_user_id, server_name};

    use super::*;

    /// 2026-11-28 09:30:00 UTC.
    const DECLARED: u64 = 1_795_858_200_000;
    const MINUTE: u64 = 60_000;

    /// Alice and Bob by name.
    fn names() -> Names {
        let mut names = Names::new();
        names.insert(owned_user_id!("@alice:example.org"), "Alice", false);
        names.insert(owned_user_id!("@bob:example.org"), "Bob", false);
        names
    }

    fn links() -> Links<'static> {
        Links {
            room: matrix_sdk::ruma::room_id!("!room:example.org"),
            via: server_name!("example.org"),
        }
    }

    #[test]
    fn user_ids_in_the_timeline_never_become_markup() {
        // Historical user IDs may hold `<`; the panel shows the timeline as HTML.
        let odd = UserId::parse("@<b>x:example.org").expect("a historical ID");
        let mut record = testing::record(7, "Disk full", Severity::Sev2, DECLARED);
        record
            .incident
            .set_commander(odd.clone(), DECLARED + MINUTE, &odd)
            .expect("a new commander");
        let markdown = timeline(&record, links(), &Names::new());
        let html = matrix_sdk::ruma::events::room::message::FormattedBody::markdown(&markdown)
            .expect("some markup")
            .body;
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("&lt;b&gt;x:example.org"), "{html}");
    }

    fn incident() -> IncidentRecord {
        let alice = owned_user_id!("@alice:example.org");
        let bob = owned_user_id!("@bob:example.org");
        let mut record = testing::record(7, "Disk full", Severity::Sev2, DECLARED);
        record.room_id = owned_room_id!("!room:example.org");
        record.incident.acknowledge(DECLARED + 3 * MINUTE, &bob);
        record.flag(
            Message {
                event_id: owned_event_id!("$m1"),
                at: DECLARED + 4 * MINUTE,
                author: bob.clone(),
                body: "disk at\n100%".to_owned(),
                media: None,
                room: None,
            },
            owned_event_id!("$r1"),
        );
        record
            .incident
            .set_status(Status::Monitoring, DECLARED + 30 * MINUTE, &alice)
            .expect("a legal change");
        record.incident.add_followup(
            ("alert at 90%".to_owned(), Some(bob.clone()), None),
            DECLARED + 31 * MINUTE,
            &alice,
        );
        record
            .incident
            .set_status(Status::Resolved, DECLARED + 62 * MINUTE, &alice)
            .expect("a legal change");
        record.thank(Thanks {
            reaction: owned_event_id!("$t"),
            to: bob,
            by: alice,
        });
        record
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(45_000), "45s");
        assert_eq!(duration(3 * MINUTE), "3m");
        assert_eq!(duration(62 * MINUTE), "1h 02m");
        assert_eq!(duration(51 * 60 * MINUTE), "2d 03h");
    }

    #[test]
    fn the_timeline_is_in_order_with_the_gaps_between_key_moments() {
        let text = crate::names::plain(&timeline(&incident(), links(), &names()));
        let lines: Vec<&str> = text.lines().filter(|line| line.starts_with("- ")).collect();
        assert_eq!(lines.len(), 6, "{text}");
        assert!(
            lines[0].starts_with("- 09:30 🔥 Declared as SEV2"),
            "{text}"
        );
        assert!(
            lines[1].starts_with("- 09:33 👀 Acknowledged by Bob"),
            "{text}"
        );
        assert_eq!(
            lines[2],
            "- 09:34 📌 Bob: “disk at 100%” ([link](https://matrix.to/#/!room:example.org/$m1?via=example.org))"
        );
        assert!(lines[3].contains("monitoring"), "{text}");
        assert!(
            text.contains("acknowledged 2026-11-28 09:33 UTC (+3m)"),
            "{text}"
        );
        assert!(
            text.contains("**Time** to acknowledge 3m · to mitigate 30m · to resolve 1h 02m"),
            "{text}"
        );
    }

    #[test]
    fn an_incident_over_days_shows_dates() {
        let mut record = incident();
        record.incident.timestamps.started = Some(DECLARED - 24 * 60 * MINUTE);
        let text = timeline(&record, links(), &Names::new());
        assert!(text.contains("- 2026-11-27 09:30 ⏮ Started"), "{text}");
        assert!(text.contains("- 2026-11-28 09:30 🔥 Declared"), "{text}");
    }

    #[test]
    fn the_postmortem_has_every_section_of_the_spec() {
        let participants = [
            owned_user_id!("@alice:example.org"),
            owned_user_id!("@bob:example.org"),
        ];
        let text = crate::names::plain(&postmortem(
            &incident(),
            &participants,
            Edition::Final,
            links(),
            &names(),
        ));
        for section in [
            "# Postmortem: INC-7 · Disk full",
            "**Severity** SEV2",
            "**Commander** Alice",
            "## Impact and summary",
            "## Timestamps and durations",
            "## Timeline",
            "## Follow-ups\n\n- [ ] alert at 90% (owner Bob)",
            "## Participants\n\nAlice, Bob",
            "## Thanks\n\n- Bob, thanked by Alice",
        ] {
            assert!(text.contains(section), "{section} missing from:\n{text}");
        }
    }
}
