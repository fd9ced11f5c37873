//! What people read about an incident: the pinned summary, the announcements headline and the
//! lines of `!inc list`, rendered as Markdown from the stored record. Pure, so every change to
//! an incident renders the same way wherever it is shown.

use brigade_core::{
    incident::{Incident, Role, Status},
    record::IncidentRecord,
};
use matrix_sdk::ruma::RoomAliasId;

use crate::names::Names;

/// A `matrix.to` link to a room alias (public, so every client opens it).
pub fn permalink(alias: &RoomAliasId) -> String {
    format!("https://matrix.to/#/{alias}")
}

/// `2026-11-28 09:30 UTC`.
pub fn date_time(millis: u64) -> String {
    format_utc(millis, "%Y-%m-%d %H:%M UTC")
}

/// `09:30 UTC`.
pub fn clock(millis: u64) -> String {
    format_utc(millis, "%H:%M UTC")
}

/// `20261128`, the date in incident room aliases.
pub fn alias_date(millis: u64) -> String {
    format_utc(millis, "%Y%m%d")
}

/// `millis` in UTC, in a `strftime` `format`.
pub fn format_utc(millis: u64, format: &str) -> String {
    crate::oncall::timestamp(millis)
        .strftime(format)
        .to_string()
}

pub use crate::markdown::escape;
pub use brigade_core::html::escape as html_escape;

/// A mention pill for `user` that reads `name` (their display name).
pub fn pill_named(user: &matrix_sdk::ruma::UserId, name: &str) -> String {
    format!(
        "<a href=\"https://matrix.to/#/{}\">{}</a>",
        html_escape(user.as_str()),
        html_escape(name)
    )
}

/// 🔥 while open, 💧 once resolved, ✅ once closed: the headline's status mark (Monzo Response's
/// manner, which people know).
pub fn status_mark(status: Status) -> &'static str {
    match status {
        Status::Investigating | Status::Identified | Status::Monitoring => "🔥",
        Status::Resolved => "💧",
        Status::Closed => "✅",
    }
}

fn holder(incident: &Incident, role: Role, names: &Names) -> String {
    incident
        .roles
        .get(&role)
        .map_or_else(|| "—".to_owned(), |user| names.pill(user))
}

/// The pinned summary: everything about the incident at a glance, edited in place; people
/// by their `names`.
pub fn summary(record: &IncidentRecord, names: &Names) -> String {
    let incident = &record.incident;
    let stamps = &incident.timestamps;
    let mut text = format!(
        "### {} {} · {}\n\n",
        status_mark(incident.status),
        incident.number,
        escape(&incident.title)
    );
    text.push_str(&format!(
        "**Severity** {} {} · **Status** {} · **Type** {}  \n",
        incident.severity,
        incident.severity.emoji(),
        incident.status,
        incident.kind
    ));
    text.push_str(&format!(
        "**Commander** 🚑 {} · **Comms** {} · **Scribe** {} · **Liaison** {}  \n",
        match &incident.commander {
            Some(commander) => names.pill(commander),
            None => format!("{NOBODY}: react 🚑 to take command"),
        },
        holder(incident, Role::Comms, names),
        holder(incident, Role::Scribe, names),
        holder(incident, Role::Liaison, names)
    ));
    let mut moments = vec![format!("**Declared** {}", date_time(stamps.declared))];
    let optional = [
        ("Started", stamps.started),
        ("Acknowledged", stamps.acknowledged),
        ("Mitigated", stamps.mitigated),
        ("Resolved", stamps.resolved),
        ("Closed", stamps.closed),
    ];
    for (name, at) in optional {
        if let Some(at) = at {
            moments.push(format!("**{name}** {}", date_time(at)));
        }
    }
    text.push_str(&moments.join(" · "));
    text.push_str("\n\n**Current understanding:** ");
    if incident.summary.is_empty() {
        text.push_str("not known yet; set it with `!inc summary <text>`.");
    } else {
        text.push_str(&escape(&incident.summary));
    }
    if let Some(origin) = &incident.alert {
        text.push_str(&format!(
            "\n\n🚨 **Declared for an alert:** [{}](https://matrix.to/#/{}/{})",
            escape(&origin.alert),
            origin.room_id,
            origin.event_id
        ));
    }
    if let Some(update) = incident.updates().last() {
        text.push_str(&format!(
            "\n\n**Latest update** ({}, {}): {}",
            clock(update.at),
            names.pill(&update.author),
            escape(&update.text)
        ));
    }
    let followups = record.followups();
    if !followups.is_empty() {
        let done = followups.iter().filter(|followup| followup.done()).count();
        text.push_str(&format!(
            "\n\n📝 **Follow-ups** {} ({done} done)",
            followups.len()
        ));
        for followup in &followups {
            if let Some(ticket) = &followup.ticket {
                text.push_str(&format!(
                    " · 🎫 {}{}",
                    crate::markdown::link(ticket.key, ticket.url),
                    if ticket.closed { " ✅" } else { "" }
                ));
            }
        }
    }
    if let Some(shared) = &incident.shared {
        let servers: Vec<String> = shared.servers.iter().map(ToString::to_string).collect();
        text.push_str(&format!(
            "\n\n🤝 **Shared with** {} in [the shared room](https://matrix.to/#/{}?via={}); 📤 on a message forwards it there.",
            servers.join(", "),
            shared.room_id,
            record.alias.server_name()
        ));
    }
    if let Some(private) = &incident.continued_in {
        text.push_str(&format!(
            "\n\n🔒 **Continued in a private room:** {private}. Members of it see only what is said after they join; ask the commander for an invitation."
        ));
    } else if incident.status.is_open() {
        text.push_str("\n\nReact 👀 if you are looking into it, 🚑 to take command.");
    }
    text
}

/// The summary pinned in the shared partner room: what partners are told, without the roles,
/// the timeline or anything said only inside.
pub fn shared_summary(record: &IncidentRecord, names: &Names) -> String {
    let incident = &record.incident;
    let mut text = format!(
        "### 🤝 {} {} · {}\n\n",
        status_mark(incident.status),
        incident.number,
        escape(&incident.title)
    );
    text.push_str(&format!(
        "**Severity** {} {} · **Status** {} · **Commander** {}  \n**Declared** {}",
        incident.severity,
        incident.severity.emoji(),
        incident.status,
        commander(incident, names),
        date_time(incident.timestamps.declared)
    ));
    if let Some(resolved) = incident.timestamps.resolved {
        text.push_str(&format!(" · **Resolved** {}", date_time(resolved)));
    }
    if !incident.summary.is_empty() {
        text.push_str(&format!(
            "\n\n**Current understanding:** {}",
            escape(&incident.summary)
        ));
    }
    if let Some(update) = incident.updates().last() {
        text.push_str(&format!(
            "\n\n**Latest update** ({}): {}",
            clock(update.at),
            escape(&update.text)
        ));
    }
    text.push_str("\n\nThis room is shared between our organisations; only what is said here is shared. 📌 on a message puts it in the incident's timeline; `!inc timeline` shows it.");
    text
}

/// How many of the latest updates the headline carries under its line.
const HEADLINE_UPDATES: usize = 3;

/// The headline in the announcements room: one line per incident, edited in place, with the
/// latest updates appended under it, oldest first.
pub fn headline(record: &IncidentRecord, names: &Names) -> String {
    let incident = &record.incident;
    if incident.private {
        // No title, no link, no names, no updates: announcements are read by everyone.
        return format!(
            "{} Private incident {} declared ({})",
            status_mark(incident.status),
            incident.number,
            incident.severity
        );
    }
    let mut text = format!(
        "{} {} **[{} · {} · {}]({})** · {} · 🚑 {}",
        status_mark(incident.status),
        incident.severity.emoji(),
        incident.number,
        incident.severity,
        escape(&incident.title),
        permalink(&record.alias),
        incident.status,
        commander(incident, names)
    );
    let updates = incident.updates();
    let shown = updates.len().saturating_sub(HEADLINE_UPDATES);
    for update in &updates[shown..] {
        text.push_str(&format!(
            "  \n{}: {}",
            clock(update.at),
            escape(&update.text)
        ));
    }
    text
}

/// One line of `!inc list`.
pub fn list_line(record: &IncidentRecord, names: &Names) -> String {
    let incident = &record.incident;
    if incident.private {
        return format!(
            "- {} {} 🔒 [{}]({}) · {} · {} · 🚑 {}",
            status_mark(incident.status),
            incident.severity.emoji(),
            incident.number,
            permalink(&record.alias),
            incident.severity,
            incident.status,
            commander(incident, names)
        );
    }
    format!(
        "- {} {} [{}]({}) · {} · {} · {} · 🚑 {}",
        status_mark(incident.status),
        incident.severity.emoji(),
        incident.number,
        permalink(&record.alias),
        incident.severity,
        escape(&incident.title),
        incident.status,
        commander(incident, names)
    )
}

/// Who commands an incident that nobody commands.
pub const NOBODY: &str = "nobody yet";

/// Whom the bot addresses, instead of the commander, in an incident nobody commands.
pub const NOBODY_IN_COMMAND: &str = "Nobody is in command (🚑 on the summary takes it)";

/// The commander's pill, or [`NOBODY`].
pub fn commander(incident: &Incident, names: &Names) -> String {
    incident
        .commander
        .as_deref()
        .map_or_else(|| NOBODY.to_owned(), |user| names.pill(user))
}

/// The incident room's topic, the commander by name.
pub fn topic(incident: &Incident, names: &Names) -> String {
    match &incident.commander {
        Some(commander) => incident.topic(&names.name(commander)),
        None => incident.topic("nobody in command"),
    }
}

#[cfg(test)]
mod tests {
    use brigade_core::{
        incident::{Severity, Update},
        testing,
    };
    use matrix_sdk::ruma::{owned_room_alias_id, owned_user_id};

    use super::*;

    /// 2026-11-28 09:30:00 UTC.
    const DECLARED: u64 = 1_795_858_200_000;

    fn record() -> IncidentRecord {
        let mut record = testing::record(7, "Checkout *latency*", Severity::Sev2, DECLARED);
        record.alias = owned_room_alias_id!("#inc-20261128-7-checkout-latency:example.org");
        record
    }

    #[test]
    fn times_are_utc() {
        assert_eq!(date_time(DECLARED), "2026-11-28 09:30 UTC");
        assert_eq!(clock(DECLARED), "09:30 UTC");
        assert_eq!(alias_date(DECLARED), "20261128");
    }

    #[test]
    fn the_headline_links_the_room_and_follows_status_and_updates() {
        let mut record = record();
        let mut names = Names::new();
        names.insert(owned_user_id!("@alice:example.org"), "Alice", false);
        assert_eq!(
            headline(&record, &names),
            "🔥 🌧️ **[INC-7 · SEV2 · Checkout \\*latency\\*](https://matrix.to/#/#inc-20261128-7-checkout-latency:example.org)** · investigating · 🚑 <a href=\"https://matrix.to/#/@alice:example.org\">Alice</a>"
        );
        assert_eq!(
            topic(&record.incident, &names),
            "🚑 Alice · SEV2 · investigating"
        );
        record
            .incident
            .add_update(Update {
                at: DECLARED + 60_000,
                author: owned_user_id!("@alice:example.org"),
                text: "rolled back".to_owned(),
            })
            .expect("update");
        record
            .incident
            .set_status(
                Status::Resolved,
                DECLARED + 120_000,
                &owned_user_id!("@alice:example.org"),
            )
            .expect("resolved");
        let text = headline(&record, &Names::new());
        assert!(text.starts_with("💧 🌧️ "), "{text}");
        assert!(text.ends_with("  \n09:31 UTC: rolled back"), "{text}");
    }

    #[test]
    fn the_summary_shows_roles_moments_and_understanding() {
        let mut record = record();
        let text = crate::names::plain(&summary(&record, &Names::new()));
        assert!(
            text.contains("**Commander** 🚑 @alice:example.org · **Comms** —"),
            "{text}"
        );
        assert!(text.contains("**Declared** 2026-11-28 09:30 UTC"), "{text}");
        assert!(text.contains("not known yet"), "{text}");
        record.incident.summary = "a bad deploy".to_owned();
        record
            .incident
            .acknowledge(DECLARED + 5 * 60_000, &owned_user_id!("@bob:example.org"));
        let text = summary(&record, &Names::new());
        assert!(
            text.contains("**Acknowledged** 2026-11-28 09:35 UTC"),
            "{text}"
        );
        assert!(
            text.contains("**Current understanding:** a bad deploy"),
            "{text}"
        );
    }
}
