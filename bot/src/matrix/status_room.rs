//! The status page's public room (`status.room`), for subscribers in Matrix: what the page
//! tells of an incident, as it changes: each public update, each change to what it does to a
//! component, and its resolution. Only incidents the page shows, and only what it shows: the
//! public title, never the room's title, an internal update or who wrote anything.
//!
//! Announced by the publisher with the rest of an incident's room, for the timeline entries
//! added since it last published it; each message's transaction ID names the incident and
//! the entry, so a retry (or a restart before the publication is recorded) posts nothing twice.

use brigade_core::{
    incident::{Incident, Status},
    record::IncidentRecord,
    timeline::{Entry, Happening},
};
use tracing::warn;

use super::{
    bot::Bot,
    error::ActionError,
    reply::{notice, transaction_id},
};
use crate::{render::escape, status::status_word};

/// Posts in the status room what `record` adds to the page since `before` was published.
pub async fn announce(
    bot: &Bot,
    before: Option<&Incident>,
    record: &IncidentRecord,
) -> Result<(), ActionError> {
    let Some(room_id) = &bot.rooms.status else {
        return Ok(());
    };
    let incident = &record.incident;
    // Hidden or private now: what was added meanwhile is never announced.
    if !incident.published() {
        return Ok(());
    }
    let seen = before.map_or(0, |before| before.timeline.len());
    let page = format!(
        "{}status/#inc-{}",
        bot.config.web.public_url, incident.number.0
    );
    // Each update is announced with the status it was posted in, as the page shows it.
    let mut status = Status::Investigating;
    let mut new: Vec<(usize, String)> = Vec::new();
    for (index, entry) in incident.timeline.iter().enumerate() {
        if let Happening::Status { to, .. } = &entry.what {
            status = *to;
        }
        if index >= seen {
            if let Some(text) = announcement(incident, entry, status, &page) {
                new.push((index, text));
            }
        }
    }
    if new.is_empty() {
        return Ok(());
    }
    let Some(room) = bot.client.get_room(room_id) else {
        warn!(%room_id, "the bot is not in the status room: nothing announced");
        return Ok(());
    };
    for (index, text) in new {
        let source = format!("{}\u{0}{index}", record.room_id);
        room.send(notice(&text))
            .with_transaction_id(transaction_id(&source, "status-room"))
            .await?;
    }
    Ok(())
}

/// What the status room says of `entry`, if it is something the page shows.
fn announcement(incident: &Incident, entry: &Entry, status: Status, page: &str) -> Option<String> {
    let title = escape(&incident.page_title());
    match &entry.what {
        Happening::Update { text, public: true } => Some(format!(
            "🌐 **{title}** · {}\n\n{}\n\n{page}",
            status_word(status),
            escape(text)
        )),
        Happening::Affects {
            component,
            impact: Some(impact),
        } => Some(format!(
            "🚧 **{title}**: {} · {}\n\n{page}",
            escape(component),
            impact.label()
        )),
        Happening::Affects {
            component,
            impact: None,
        } => Some(format!(
            "🟢 **{title}**: {} is operational again\n\n{page}",
            escape(component)
        )),
        Happening::Status {
            to: Status::Resolved,
            ..
        } => Some(format!("✅ **{title}** is resolved\n\n{page}")),
        _ => None,
    }
}
