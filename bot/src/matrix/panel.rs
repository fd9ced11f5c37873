//! The incident panel's buttons (SPEC §10), carried out as the signed-in person: each goes
//! through the same decision as the command or reaction it stands for (`dispatch::run`,
//! `reaction::act_as`), so it is refused exactly when that would be. The room learns what was
//! done from a notice naming the person, as a command's answer would.
//!
//! A button press has no Matrix event to be caused by, so it gets a stable stand-in: an event
//! ID derived from the person, the room and the form's key. A press sent twice is then one
//! change, and the notice one transaction.

use matrix_sdk::ruma::{
    events::room::member::MembershipState, EventId, OwnedEventId, RoomId, UserId,
};
use sha2::{Digest, Sha256};

use super::{
    bot::Bot,
    change::Change,
    dispatch,
    error::ActionError,
    names,
    reaction::{self, Reaction},
    reply::{notice, transaction_id},
};
use crate::{
    commands::{Answer, Command},
    desk::{Acted, Action, DeskError},
};

/// A failure to tell the page about (the details are in the bot's log where it is logged).
pub(super) fn failed(error: impl std::fmt::Display) -> DeskError {
    DeskError::Matrix(error.to_string())
}

/// The stand-in cause of a press of the panel's button `key` by `user_id` in `room_id`.
fn cause(user_id: &UserId, room_id: &RoomId, key: &str) -> Result<OwnedEventId, DeskError> {
    let digest = Sha256::digest(format!("{user_id}\u{0}{room_id}\u{0}{key}"));
    EventId::parse(format!("$brigade-panel-{}", hex::encode(&digest[..16]))).map_err(failed)
}

/// Where a press comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin<'a> {
    /// The incident panel: its people, joined to the room.
    Panel,
    /// An acknowledge link in a notification about the page `0`: someone the bot paged, who
    /// may only be invited; it acknowledges as 👀 on that page would.
    Link(&'a EventId),
}

/// Carries out `action` in `room_id` as `user_id`, pressed from `origin`.
pub async fn act(
    bot: &Bot,
    room_id: &RoomId,
    user_id: &UserId,
    action: &Action,
    (key, origin): (&str, Origin<'_>),
) -> Result<Acted, DeskError> {
    let Some(room) = bot.client.get_room(room_id) else {
        return Ok(Acted::Refused("Brigade is not in this room".to_owned()));
    };
    let member = room.get_member(user_id).await.map_err(failed)?;
    let membership = member.as_ref().map(|member| member.membership());
    let allowed = match origin {
        Origin::Panel => membership == Some(&MembershipState::Join),
        Origin::Link(_) => matches!(
            membership,
            Some(MembershipState::Join | MembershipState::Invite)
        ),
    };
    if !allowed {
        return Ok(Acted::Refused(
            match origin {
                Origin::Panel => {
                    "only people in the incident's room act on it: join it in Element first"
                }
                Origin::Link(_) => {
                    "you are no longer in the incident's room, so Brigade did nothing"
                }
            }
            .to_owned(),
        ));
    }
    // Like the worker's commands and reactions: one change to the records at a time.
    let _records = bot.records.lock().await;
    let Some(record) = bot.store.incident(room_id).await.map_err(failed)? else {
        return Ok(Acted::Refused("this room holds no incident".to_owned()));
    };
    let cause = cause(user_id, room_id, key)?;
    let change = Change {
        bot,
        room: &room,
        cause: &cause,
        sender: user_id,
        sent: bot.clock.now_millis(),
        about: match origin {
            Origin::Panel => None,
            Origin::Link(page) => Some(page),
        },
    };
    let command = |command: Command| dispatch::run(&change, Ok(command));
    let answer = match action {
        Action::Acknowledge | Action::TakeCommand => {
            let key = if *action == Action::Acknowledge {
                reaction::ACKNOWLEDGE
            } else {
                reaction::TAKE_COMMAND
            };
            match reaction::act_as(&change, record, key).await {
                Ok(Reaction::Changed(said)) => Ok(Answer::done(said)),
                Ok(Reaction::Refused(why)) => Ok(Answer::refused(why)),
                Ok(Reaction::Nothing) => Ok(Answer::refused(if key == reaction::ACKNOWLEDGE {
                    "the incident is acknowledged already"
                } else {
                    "you are its commander already"
                })),
                Err(error) => Err(error),
            }
        }
        Action::Status { to, note } => {
            command(Command::Status {
                to: *to,
                note: note.clone(),
            })
            .await
        }
        Action::Severity(severity) => command(Command::Sev(*severity)).await,
        Action::Update(text) => command(Command::Update(text.clone())).await,
    };
    let answer = match answer {
        Ok(answer) => answer,
        Err(ActionError::Refused(refusal)) => Answer::Refused(refusal),
        Err(error) => match error.refusal() {
            Some(refusal) => Answer::Refused(refusal),
            None => return Err(failed(error)),
        },
    };
    match answer {
        Answer::Done(said) => {
            let said = said.unwrap_or_else(|| "Done".to_owned());
            let names = names::of(&room, [user_id]).await;
            let from = match origin {
                Origin::Panel => "the incident panel",
                Origin::Link(_) => "an acknowledge link in a notification",
            };
            let text = format!("{said}\n\n(from {from}, by {})", names.pill(user_id));
            room.send(notice(&text))
                .with_transaction_id(transaction_id(&cause, "panel"))
                .await
                .map_err(failed)?;
            bot.publisher.publish(room_id);
            // The page shows text: people by name, no Markdown marks.
            Ok(Acted::Done(crate::markdown::text(&said)))
        }
        Answer::Refused(refusal) => Ok(Acted::Refused(crate::markdown::text(&refusal.text))),
    }
}
