//! `!inc list`: the incidents, with a private one shown only to its members.

use matrix_sdk::ruma::UserId;

use super::super::{bot::Bot, error::ActionError, lookup};
use crate::commands::{decide, Answer};

/// Lists the open incidents (or `all`) to `asker`.
pub async fn run(bot: &Bot, asker: &UserId, all: bool) -> Result<Answer, ActionError> {
    let records = bot.store.incidents().await?;
    // Who is a member of which listed private incident, read before deciding.
    let mut members = Vec::new();
    let listed = |record: &&brigade_core::record::IncidentRecord| {
        record.incident.private && (all || record.incident.status.is_open())
    };
    for record in records.iter().filter(listed) {
        let member = match bot.client.get_room(&record.room_id) {
            Some(room) => lookup::is_joined(&room, asker).await?,
            None => false,
        };
        if member {
            members.push(record.room_id.clone());
        }
    }
    Ok(Answer::done(decide::list(&records, all, |record| {
        members.contains(&record.room_id)
    })))
}
