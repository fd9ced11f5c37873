//! `!inc timeline`, `!inc postmortem` and `!inc close` (SPEC §4, §11).
//!
//! The postmortem is rendered from the stored record and posted as a message (Markdown, HTML
//! in Matrix) and as an `.md` file. Closing posts the final one in the room and in
//! `#postmortems` and stores the incident as closed; the publisher then makes the room
//! read-only for everyone but the bot and moves it to the archive (retrying until both hold). Every message carries a transaction ID derived from the command,
//! so a close a crash interrupted is finished without posting anything twice.

use brigade_core::incident::{IncidentError, IncidentRecord, Status};
use matrix_sdk::{attachment::AttachmentConfig, ruma::OwnedUserId, Room, RoomMemberships};
use tracing::{info, warn};

use super::{
    incident::{ActionError, Change},
    reply::{notice, transaction_id},
    Bot,
};
use crate::report::{self, Edition, Links};

/// A postmortem message longer than this leaves the timeline to its file: an event holds at
/// most 64 KiB, and the message carries the text twice (Markdown and HTML).
const MESSAGE_LIMIT: usize = 24_000;

/// Where a report's links point.
fn links<'a>(bot: &'a Bot, record: &'a IncidentRecord) -> Links<'a> {
    Links {
        room: &record.room_id,
        via: bot.config.matrix.user_id.server_name(),
    }
}

/// `!inc timeline`.
pub fn timeline(bot: &Bot, record: &IncidentRecord) -> String {
    report::timeline(record, links(bot, record))
}

/// `!inc postmortem`: posts the draft in the room; returns the answer.
pub async fn draft(change: &Change<'_>, record: &IncidentRecord) -> Result<String, ActionError> {
    let text = render(change, record, Edition::Draft).await?;
    post(change.room, record, &text, change.cause, "postmortem").await?;
    Ok(format!(
        "The postmortem draft is posted below, and as the file {}",
        report::file_name(record)
    ))
}

/// `!inc close`: refused unless resolved. Returns the answer, or why nothing changed.
pub async fn close(
    change: &Change<'_>,
    record: IncidentRecord,
) -> Result<Result<String, String>, ActionError> {
    let mut next = record.clone();
    if let Err(error) = next
        .incident
        .set_status(Status::Closed, change.sent, change.sender)
    {
        return Ok(Err(match error {
            IncidentError::IllegalTransition { .. } => format!(
                "only a resolved incident can be closed; {} is {}: `!inc status resolved` first",
                record.incident.number, record.incident.status
            ),
            other => other.to_string(),
        }));
    }
    let bot = change.bot;
    let text = render(change, &next, Edition::Final).await?;
    post(change.room, &next, &text, change.cause, "postmortem-final").await?;
    let shared = next
        .incident
        .shared
        .as_ref()
        .and_then(|shared| bot.client.get_room(&shared.room_id));
    if let Some(shared) = shared {
        // What concerns the partners: the moments, the updates and what was said with them.
        let closing = format!(
            "**{} is closed.** This room is read-only now, its history kept.\n\n{}",
            next.incident.number,
            timeline(bot, &next.shared_view())
        );
        shared
            .send(notice(&closing))
            .with_transaction_id(transaction_id(change.cause, "postmortem-shared"))
            .await?;
    }
    let private = next.incident.private;
    match bot.client.get_room(&bot.rooms.postmortems) {
        // A private incident's report stays in its encrypted room.
        _ if private => {}
        Some(postmortems) => {
            post(
                &postmortems,
                &next,
                &text,
                change.cause,
                "postmortem-archive",
            )
            .await?;
        }
        None => {
            warn!("the bot is not in the postmortems room: the report is only in the incident room")
        }
    }
    let posted = if private {
        "here only (a private incident's report stays in its encrypted room)"
    } else {
        "here and in #postmortems"
    };
    let answer = format!(
        "Closed {}: the postmortem is posted {posted}; the room is read-only now, its history kept",
        next.incident.number
    );
    change.commit(next, Some(answer.clone())).await?;
    info!(incident = %record.incident.number, "incident closed");
    Ok(Ok(answer))
}

async fn render(
    change: &Change<'_>,
    record: &IncidentRecord,
    edition: Edition,
) -> Result<String, ActionError> {
    let people = participants(change.bot, change.room).await?;
    Ok(report::postmortem(
        record,
        &people,
        edition,
        links(change.bot, record),
    ))
}

/// Everyone who was in the room, but the bot.
async fn participants(bot: &Bot, room: &Room) -> Result<Vec<OwnedUserId>, ActionError> {
    let members = room
        .members(RoomMemberships::JOIN | RoomMemberships::LEAVE)
        .await?;
    let mut people: Vec<OwnedUserId> = members
        .iter()
        .map(|member| member.user_id().to_owned())
        .filter(|user| *user != bot.config.matrix.user_id)
        .collect();
    people.sort();
    Ok(people)
}

/// Posts a report as a message and as an `.md` file.
async fn post(
    room: &Room,
    record: &IncidentRecord,
    text: &str,
    cause: &matrix_sdk::ruma::EventId,
    purpose: &str,
) -> Result<(), ActionError> {
    let file = report::file_name(record);
    let message = if text.len() > MESSAGE_LIMIT {
        let head = text.split("\n## Timeline").next().unwrap_or(text);
        format!("{head}\n\n_The timeline and the rest are in the attached file {file}._")
    } else {
        text.to_owned()
    };
    room.send(notice(&message))
        .with_transaction_id(transaction_id(cause, purpose))
        .await?;
    let config = AttachmentConfig::new().txn_id(transaction_id(cause, &format!("{purpose}-file")));
    let markdown: mime::Mime = "text/markdown; charset=utf-8"
        .parse()
        .unwrap_or(mime::TEXT_PLAIN_UTF_8);
    room.send_attachment(file, &markdown, text.as_bytes().to_vec(), config)
        .await?;
    Ok(())
}
