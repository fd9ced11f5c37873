//! `!inc transcript` (SPEC §16): the room's history up to the command, read back page by page,
//! posted as a Markdown and an HTML file. In an encrypted room matrix-sdk encrypts the files
//! before they are uploaded, so they stay readable in the room only. Each file's transaction
//! ID derives from the command, so a transcript a crash interrupted is posted once.

use std::collections::BTreeSet;

use brigade_core::record::IncidentRecord;
use matrix_sdk::{
    attachment::AttachmentConfig,
    ruma::{OwnedUserId, UserId},
};
use serde_json::Value;

use super::super::{change::Change, error::ActionError, names, rebuild, reply::transaction_id};
use crate::{
    commands::Answer,
    report::Links,
    transcript::{file_names, transcript},
};

/// Posts the transcript of `record`'s room.
pub async fn run(change: &Change<'_>, record: &IncidentRecord) -> Result<Answer, ActionError> {
    let bot = change.bot;
    let mut events: Vec<Value> = Vec::new();
    for raw in rebuild::history(change.room).await? {
        let Ok(event) = raw.deserialize_as::<Value>() else {
            continue;
        };
        // Up to the command: a transcript tried again is the same.
        let asked = event["event_id"] == change.cause.as_str();
        events.push(event);
        if asked {
            break;
        }
    }
    let authors: BTreeSet<OwnedUserId> = events
        .iter()
        .filter_map(|event| event["sender"].as_str())
        .filter_map(|sender| UserId::parse(sender).ok())
        .collect();
    let names = names::of(change.room, authors.iter().map(|user| &**user)).await;
    let links = Links {
        room: &record.room_id,
        via: bot.config.matrix.user_id.server_name(),
    };
    let transcript = transcript(record, &events, links, &names);
    let (markdown, html) = file_names(record);
    let kinds = [
        (
            &markdown,
            "text/markdown; charset=utf-8",
            transcript.markdown,
            "transcript-md",
        ),
        (
            &html,
            "text/html; charset=utf-8",
            transcript.html,
            "transcript-html",
        ),
    ];
    for (name, kind, text, purpose) in kinds {
        let mime: mime::Mime = kind.parse().unwrap_or(mime::TEXT_PLAIN_UTF_8);
        let config = AttachmentConfig::new().txn_id(transaction_id(change.cause, purpose));
        change
            .room
            .send_attachment(name, &mime, text.into_bytes(), config)
            .await?;
    }
    Ok(Answer::done(format!(
        "The transcript of {} messages is posted below, as {markdown} and {html}",
        transcript.messages
    )))
}
