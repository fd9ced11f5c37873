//! `!inc list`: the incidents, with a private one shown only to its members.

use matrix_sdk::ruma::UserId;

use super::super::{bot::Bot, error::ActionError, lookup, names};
use crate::{
    commands::{decide, Answer},
    names::Names,
};

/// Lists the open incidents (or `all`) to `asker`.
pub async fn run(bot: &Bot, asker: &UserId, all: bool) -> Result<Answer, ActionError> {
    let records = bot.store.incidents().await?;
    // Who is a member of which listed private incident, and each commander's name in their
    // incident's room, read before deciding.
    let mut members = Vec::new();
    let mut names = Names::new();
    let listed =
        |record: &&brigade_core::record::IncidentRecord| all || record.incident.status.is_open();
    for record in records.iter().filter(listed) {
        let Some(room) = bot.client.get_room(&record.room_id) else {
            continue;
        };
        if record.incident.private {
            if !lookup::is_joined(&room, asker).await? {
                continue;
            }
            members.push(record.room_id.clone());
        }
        names.merge(names::of(&room, record.incident.commander.as_deref()).await);
    }
    Ok(Answer::done(decide::list(
        &records,
        all,
        |record| members.contains(&record.room_id),
        &names,
    )))
}
