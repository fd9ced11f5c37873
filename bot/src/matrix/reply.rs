//! Answers to commands: a ✅ or ❓ reaction on the command and the text in a thread on it.
//!
//! Each message carries a transaction ID derived from the command's event ID, so if the bot
//! crashes after sending but before recording the command as handled, the resend is the same
//! transaction and the homeserver does not post it twice.

use matrix_sdk::{
    ruma::{
        events::{
            reaction::ReactionEventContent,
            relation::{Annotation, Thread},
            room::message::{
                AddMentions, ForwardThread, MessageType, OriginalSyncRoomMessageEvent, Relation,
                ReplyWithinThread, RoomMessageEventContent,
            },
            Mentions,
        },
        OwnedTransactionId, OwnedUserId,
    },
    Room,
};
use sha2::{Digest, Sha256};

use crate::commands::Answer;

/// The reaction for a command carried out.
pub const DONE: &str = "✅";
/// The reaction for a command refused or malformed.
pub const REFUSED: &str = "❓";

/// A transaction ID that is the same every time the bot acts on `source` (an event ID, or
/// another stable name of what caused the message) for `purpose`.
pub fn transaction_id(source: &(impl AsRef<str> + ?Sized), purpose: &str) -> OwnedTransactionId {
    let digest = Sha256::digest(format!("{}\u{0}{purpose}", source.as_ref()));
    format!("brigade-{}", hex::encode(&digest[..16])).into()
}

/// A notice from Markdown that mentions nobody: text people typed (`@room`, a name) and the
/// people it names never notify anyone. Its HTML shows people as pills
/// ([`Names::pill`](crate::names::Names::pill)), its plain body their names.
pub fn notice(markdown: &str) -> RoomMessageEventContent {
    by_name(RoomMessageEventContent::notice_markdown(markdown)).add_mentions(Mentions::new())
}

/// A message from Markdown that notifies `people`, and only them: a reminder, a handoff, a
/// page. Like [`notice`], its HTML shows people as pills and its plain body their names.
pub fn mentioning(
    markdown: &str,
    people: impl IntoIterator<Item = OwnedUserId>,
) -> RoomMessageEventContent {
    by_name(RoomMessageEventContent::text_markdown(markdown))
        .add_mentions(Mentions::with_user_ids(people))
}

/// A message from Markdown that notifies everyone in the room (`@room`): for what nobody in
/// particular answers for, such as an escalation that ran out in an incident nobody commands.
pub fn mentioning_the_room(markdown: &str) -> RoomMessageEventContent {
    by_name(RoomMessageEventContent::text_markdown(markdown))
        .add_mentions(Mentions::with_room_mention())
}

/// `content` with people in its plain body by the names its pills read.
fn by_name(mut content: RoomMessageEventContent) -> RoomMessageEventContent {
    match &mut content.msgtype {
        MessageType::Notice(message) => message.body = crate::names::plain(&message.body),
        MessageType::Text(message) => message.body = crate::names::plain(&message.body),
        _ => {}
    }
    content
}

/// Sends `answer` to `command`: the reaction, then the text.
pub async fn answer(
    room: &Room,
    command: &OriginalSyncRoomMessageEvent,
    answer: &Answer,
    threads: bool,
) -> Result<(), matrix_sdk::Error> {
    let (key, text) = match answer {
        Answer::Done(text) => (DONE, text.as_deref()),
        Answer::Refused(refusal) => (REFUSED, Some(refusal.text.as_str())),
    };
    let event_id = &command.event_id;
    room.send(ReactionEventContent::new(Annotation::new(
        event_id.clone(),
        key.to_owned(),
    )))
    .with_transaction_id(transaction_id(event_id, "reaction"))
    .await?;
    if let Some(text) = text {
        let content = notice(text);
        let content = if threads {
            // In a thread already: answer there, as a reply; otherwise open one on the command.
            let in_thread = matches!(
                command.content.relates_to,
                Some(Relation::Thread(Thread { .. }))
            );
            let within = if in_thread {
                ReplyWithinThread::Yes
            } else {
                ReplyWithinThread::No
            };
            content.make_for_thread(command, within, AddMentions::No)
        } else {
            content.make_reply_to(command, ForwardThread::Yes, AddMentions::No)
        };
        room.send(content)
            .with_transaction_id(transaction_id(event_id, "answer"))
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use matrix_sdk::ruma::event_id;

    use super::*;

    #[test]
    fn transaction_ids_are_stable_and_distinct_per_purpose() {
        let event = event_id!("$command");
        assert_eq!(
            transaction_id(event, "reaction"),
            transaction_id(event, "reaction")
        );
        assert_ne!(
            transaction_id(event, "reaction"),
            transaction_id(event, "answer")
        );
        assert_ne!(
            transaction_id(event, "answer"),
            transaction_id(event_id!("$other"), "answer")
        );
    }
}
