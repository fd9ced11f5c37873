//! `!inc declare`: the declaration decided, the incident opened, specialists suggested.

use super::super::{ask, change::Change, error::ActionError, open::open};
use crate::{
    commands::{decide, Answer, DeclareArgs},
    render,
};

/// Declares the incident `args` ask for; the declarer is in command.
pub async fn run(change: &Change<'_>, args: DeclareArgs) -> Result<Answer, ActionError> {
    let declaration = decide::declare(args, &change.bot.config.incidents, change.asked())?;
    let (record, room) = open(change, declaration).await?;
    // A title that calls for specialists: the suggestion is in the room when the declarer comes.
    let in_room = Change {
        room: &room,
        ..*change
    };
    ask::route(&in_room, &record.incident.title).await?;
    let private = if record.incident.private {
        " It is private: end-to-end encrypted, on this server only, invitation only; its title and summary stay inside it."
    } else {
        ""
    };
    Ok(Answer::done(format!(
        "Declared **{}**: [{}]({}). You are in command and invited to the room.{private}",
        record.incident.number,
        record.alias,
        render::permalink(&record.alias)
    )))
}
