//! `!inc close` (SPEC §4, §11): only once resolved. The final postmortem goes in the room, in
//! `#postmortems` (not for a private incident) and, for the partners' part, in the shared room;
//! it is kept as owed to `[postmortems] git` (not for a private incident either); then the
//! incident is stored as closed, the publisher makes the room read-only and moves it to the
//! archive (retrying until both hold), and the postmortem is committed. Every message carries
//! a transaction ID derived from the command, so a close a crash interrupted posts nothing
//! twice.

use brigade_core::record::IncidentRecord;
use tracing::{info, warn};

use super::{
    super::{
        change::Change,
        error::ActionError,
        reply::{notice, transaction_id},
    },
    postmortem::{post, render, timeline},
};
use crate::{
    commands::{decide, Answer},
    keys::OwedPostmortem,
    postmortem_repo,
    report::{Edition, Links},
};

/// Closes `record`'s incident.
pub async fn run(change: &Change<'_>, record: &IncidentRecord) -> Result<Answer, ActionError> {
    let next = decide::close(record, change.asked())?;
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
            timeline(bot, &shared, &next.shared_view()).await
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
    // Owed before the close is stored, so that a crash in between loses nothing: the
    // committer waits for the close.
    let committed = bot.config.postmortems.git.is_some() && !private;
    if committed {
        let links = Links {
            room: &next.room_id,
            via: bot.config.matrix.user_id.server_name(),
        };
        let postmortem = OwedPostmortem {
            number: next.incident.number.to_string(),
            path: postmortem_repo::path(&next, &bot.config.postmortems.directory),
            document: postmortem_repo::document(&next, &crate::names::linked(&text), links),
            failure_told: false,
        };
        bot.postmortem_repo
            .keep(bot.store.as_ref(), &next.room_id, postmortem)
            .await?;
    }
    let posted = match (private, committed) {
        (true, _) => "here only (a private incident's report stays in its encrypted room)",
        (false, true) => "here and in #postmortems, and goes to the postmortem repository",
        (false, false) => "here and in #postmortems",
    };
    let answer = format!(
        "Closed {}: the postmortem is posted {posted}; the room is read-only now, its history kept",
        next.incident.number
    );
    change.commit(next, Some(answer.clone())).await?;
    bot.postmortem_repo.wake();
    info!(incident = %record.incident.number, "incident closed");
    Ok(Answer::done(answer))
}
