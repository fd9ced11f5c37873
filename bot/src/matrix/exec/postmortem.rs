//! `!inc timeline` and `!inc postmortem` (SPEC §4, §11), and how reports are posted.
//!
//! The postmortem is rendered from the stored record and posted as a message (Markdown, HTML
//! in Matrix) and as an `.md` file. Every message carries a transaction ID derived from the
//! command, so a post a crash interrupted is finished without posting anything twice.

use brigade_core::record::IncidentRecord;
use matrix_sdk::{attachment::AttachmentConfig, ruma::OwnedUserId, Room, RoomMemberships};

use super::super::{
    bot::Bot,
    change::Change,
    error::ActionError,
    names,
    reply::{notice, transaction_id},
};
use crate::{
    commands::Answer,
    report::{self, Edition, Links},
};

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

/// `!inc timeline`, people named as they are in `room`.
pub async fn timeline(bot: &Bot, room: &Room, record: &IncidentRecord) -> String {
    let names = names::of_incident(room, record, []).await;
    report::timeline(record, links(bot, record), &names)
}

/// `!inc postmortem`: posts the draft in the room; returns the answer.
pub async fn draft(change: &Change<'_>, record: &IncidentRecord) -> Result<Answer, ActionError> {
    let text = render(change, record, Edition::Draft).await?;
    post(change.room, record, &text, change.cause, "postmortem").await?;
    Ok(Answer::done(format!(
        "The postmortem draft is posted below, and as the file {}",
        report::file_name(record)
    )))
}

/// The report of `record` as `edition`, with everyone who was in the room.
pub async fn render(
    change: &Change<'_>,
    record: &IncidentRecord,
    edition: Edition,
) -> Result<String, ActionError> {
    let people = participants(change.bot, change.room).await?;
    let names = names::of_incident(change.room, record, people.iter().map(|user| &**user)).await;
    Ok(report::postmortem(
        record,
        &people,
        edition,
        links(change.bot, record),
        &names,
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
pub async fn post(
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
    let document = crate::names::linked(text);
    room.send_attachment(file, &markdown, document.into_bytes(), config)
        .await?;
    Ok(())
}
