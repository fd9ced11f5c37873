//! What a follow-up's ticket says in its tracker, and what the bridge says of it in the room.

use brigade_core::html::escape;
use serde_json::{json, Value};

use super::model::NewTicket;
use crate::{
    config::Tracker,
    store::tickets::{Ticket, TicketRecord},
};

/// The longest title trackers take comfortably (GitHub takes 256 characters).
const TITLE_CHARS: usize = 200;

/// What a room is told: its plain text and its HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    /// For clients that show text.
    pub plain: String,
    /// For clients that show HTML.
    pub html: String,
}

/// The marker a follow-up's ticket carries in its body, hidden where Markdown is rendered: the
/// ticket is found by it after a lost answer.
pub fn marker(followup_event: &str) -> String {
    format!("<!-- brigade-followup: {followup_event} -->")
}

/// The follow-up event the marker in `body` names, if it has one.
pub fn marked(body: &str) -> Option<String> {
    let (_, after) = body.split_once("<!-- brigade-followup: ")?;
    let (event, _) = after.split_once(" -->")?;
    ruma::EventId::parse(event)
        .ok()
        .map(|event| event.to_string())
}

/// The ticket for `record` in `tracker`, ending with `marker`.
pub fn ticket(record: &TicketRecord, tracker: &Tracker, marker: &str) -> NewTicket {
    let followup = &record.followup;
    let mut title = format!("{}: {}", followup.incident, followup.text);
    if let Some((at, _)) = title.char_indices().nth(TITLE_CHARS) {
        title.truncate(at);
        title.push('…');
    }
    let mut body = format!(
        "Follow-up {} of **{} · {} · {}**, recorded in Matrix.\n\n> {}\n\n",
        followup.number,
        followup.incident,
        followup.severity,
        markdown_text(&followup.title),
        markdown_text(&followup.text),
    );
    if let Some(owner) = &followup.owner {
        body.push_str(&format!("- Owner: `{owner}` (Matrix)\n"));
    }
    if let Some(due) = followup.due {
        body.push_str(&format!("- Due: {due}\n"));
    }
    body.push_str(&format!("- Incident room: {}\n", followup.room_link));
    if let Some(page) = &followup.page {
        body.push_str(&format!("- Timeline and postmortem: {page}\n"));
    }
    body.push('\n');
    body.push_str(marker);
    body.push('\n');
    NewTicket {
        title,
        body,
        assignee: followup
            .owner
            .as_ref()
            .and_then(|owner| tracker.assignees.get(owner).cloned()),
    }
}

/// `text` as Markdown that renders as typed: its marks escaped.
fn markdown_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_punctuation() {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The ticket was made (or found), or the room learns of it for the first time.
pub fn opened(record: &TicketRecord, ticket: &Ticket, kind: &str) -> Said {
    let followup = &record.followup;
    let state = if ticket.closed { " (closed)" } else { "" };
    Said {
        plain: format!(
            "🎫 Follow-up {} of {} is {} in {kind}{state}: {}",
            followup.number, followup.incident, ticket.key, ticket.url
        ),
        html: format!(
            "🎫 Follow-up {} of {} is <a href=\"{}\">{}</a> in {kind}{state}",
            followup.number,
            escape(&followup.incident),
            escape(&ticket.url),
            escape(&ticket.key)
        ),
    }
}

/// The ticket was closed or reopened in its tracker.
pub fn changed(record: &TicketRecord, ticket: &Ticket) -> Said {
    let followup = &record.followup;
    let by = ticket
        .by_name
        .as_deref()
        .map(|name| format!(" by {name}"))
        .unwrap_or_default();
    let (mark, what) = if ticket.closed {
        ("✅", "closed")
    } else {
        ("🔁", "reopened")
    };
    Said {
        plain: format!(
            "{mark} {} was {what}{by}: follow-up {} of {} is {}.",
            ticket.key,
            followup.number,
            followup.incident,
            if ticket.closed { "done" } else { "open again" }
        ),
        html: format!(
            "{mark} <a href=\"{}\">{}</a> was {what}{}: follow-up {} of {} is {}.",
            escape(&ticket.url),
            escape(&ticket.key),
            escape(&by),
            followup.number,
            escape(&followup.incident),
            if ticket.closed { "done" } else { "open again" }
        ),
    }
}

/// The tracker failed; the bridge tries again.
pub fn retrying(record: &TicketRecord, tracker: &Tracker, why: &str) -> Said {
    let plain = format!(
        "⏳ The ticket of follow-up {} of {} is not made yet: {why}. The bridge tries again until {} takes it.",
        record.followup.number,
        record.followup.incident,
        tracker.kind.display()
    );
    Said {
        html: escape(&plain),
        plain,
    }
}

/// No ticket is made, for good.
pub fn refused(record: &TicketRecord, why: &str) -> Said {
    let plain = format!(
        "⚠️ No ticket for follow-up {} of {}: {why}. The follow-up stays recorded; fix the bridge's `[[trackers]]` and record it again to have its ticket.",
        record.followup.number, record.followup.incident
    );
    Said {
        html: escape(&plain),
        plain,
    }
}

/// An `m.notice` saying `said`.
pub fn notice(said: &Said) -> Value {
    json!({
        "msgtype": "m.notice",
        "body": said.plain,
        "format": "org.matrix.custom.html",
        "formatted_body": said.html,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_names_its_follow_up_and_nothing_else() {
        let event = "$7UiOvJ81E7kpcRl0ORpmizc2xCJUZC0bPTJAEEDWFZw";
        let body = format!("Follow-up 1 …\n\n{}\n", marker(event));
        assert_eq!(marked(&body).as_deref(), Some(event));
        assert_eq!(marked("no marker"), None);
        assert_eq!(marked("<!-- brigade-followup: not an event -->"), None);
    }
}
