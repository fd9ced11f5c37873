//! The status page's public room (`status.room`), for subscribers in Matrix: what the page
//! tells of an incident, as it changes: each public update, each change to what it does to a
//! component, and its resolution. Only incidents the page shows (or showed, until its last
//! component is operational again), and only what it shows: the public title, never the
//! room's title, an internal update or who wrote anything.
//!
//! Announced by the publisher with the rest of an incident's room. How far the room was told
//! is stored per incident ([`keys::status_room_told`]), after each message, so nothing is told
//! twice however long a publication keeps failing; each message's transaction ID names the
//! incident and the entry, so a crash between a message and its mark posts nothing twice
//! either.

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
use crate::{
    keys::{self, StatusRoomTold},
    render::escape,
    status::status_word,
};

/// Posts in the status room what `record` adds to the page since the room was last told of
/// it; `before` is what was last published, for an incident older than the status room.
pub async fn announce(
    bot: &Bot,
    before: Option<&Incident>,
    record: &IncidentRecord,
) -> Result<(), ActionError> {
    let Some(room_id) = &bot.rooms.status else {
        return Ok(());
    };
    let incident = &record.incident;
    // Private, or hidden for now: nothing is told, and what comes meanwhile waits; listed
    // again, the page shows it and the room tells it.
    if incident.private || incident.unlisted {
        return Ok(());
    }
    let store = bot.store.as_ref();
    let key = keys::status_room_told(&record.room_id);
    let mut told = key
        .get_to_change(store)
        .await?
        .unwrap_or_else(|| StatusRoomTold {
            seen: before.map_or(0, |before| before.timeline.len()),
            told: before.is_some_and(Incident::published),
        });
    let end = incident.timeline.len();
    if !incident.published() && !told.told {
        // Nothing the page has shown: what came so far (internal updates, the resolution of
        // an incident never listed) is never told.
        let passed = StatusRoomTold {
            seen: end,
            told: false,
        };
        if passed != told {
            key.set(store, &passed).await?;
        }
        return Ok(());
    }
    let Some(room) = bot.client.get_room(room_id) else {
        warn!(%room_id, "the bot is not in the status room: nothing announced");
        return Ok(());
    };
    let page = format!(
        "{}status/#inc-{}",
        bot.config.web.public_url, incident.number.0
    );
    // Each update is announced with the status it was posted in, as the page shows it.
    let mut status = Status::Investigating;
    for (index, entry) in incident.timeline.iter().enumerate() {
        if let Happening::Status { to, .. } = &entry.what {
            status = *to;
        }
        if index < told.seen {
            continue;
        }
        if let Some(text) = announcement(incident, entry, status, &page) {
            let source = format!("{}\u{0}{index}", record.room_id);
            room.send(notice(&text))
                .with_transaction_id(transaction_id(&source, "status-room"))
                .await?;
            told = StatusRoomTold {
                seen: index + 1,
                told: true,
            };
            key.set(store, &told).await?;
        }
    }
    let all = StatusRoomTold {
        seen: end,
        told: true,
    };
    if told != all {
        key.set(store, &all).await?;
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
