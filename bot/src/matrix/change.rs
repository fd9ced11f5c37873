//! One change to one incident, caused by one event (a command, a reaction, an alert's message):
//! carried out, then stored as a new version of the record that remembers the event and its
//! answer, so that a change a crash interrupted is answered the same and not made twice.

use brigade_core::{incident::Incident, record::IncidentRecord};
use matrix_sdk::{
    ruma::{
        events::{
            reaction::OriginalSyncReactionEvent,
            room::message::{OriginalSyncRoomMessageEvent, Relation},
        },
        EventId, OwnedUserId, UserId,
    },
    Room,
};

use super::{
    bot::Bot,
    error::ActionError,
    names,
    reply::{notice, transaction_id},
    room_state::level_of,
};
use crate::{
    commands::{Answer, Asked, Decided},
    render,
};

/// A change to one incident, caused by one event.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    /// The bot.
    pub bot: &'a Bot,
    /// The room the event is in.
    pub room: &'a Room,
    /// The event that causes the change: transaction IDs derive from it.
    pub cause: &'a EventId,
    /// Who caused it.
    pub sender: &'a UserId,
    /// When, by the homeserver's clock (milliseconds since the Unix epoch).
    pub sent: u64,
    /// The message the event is about: the one a reply answers or a thread hangs from, the
    /// one a reaction is on.
    pub about: Option<&'a EventId>,
}

impl<'a> Change<'a> {
    /// The change a message (a command, or talk) causes.
    pub fn for_message(
        bot: &'a Bot,
        room: &'a Room,
        message: &'a OriginalSyncRoomMessageEvent,
    ) -> Self {
        Self {
            bot,
            room,
            cause: &message.event_id,
            sender: &message.sender,
            sent: u64::from(message.origin_server_ts.get()),
            about: match &message.content.relates_to {
                Some(Relation::Reply(reply)) => Some(&reply.in_reply_to.event_id),
                Some(Relation::Thread(thread)) => Some(&thread.event_id),
                _ => None,
            },
        }
    }

    /// The change a reaction causes.
    pub fn for_reaction(
        bot: &'a Bot,
        room: &'a Room,
        reaction: &'a OriginalSyncReactionEvent,
    ) -> Self {
        Self {
            bot,
            room,
            cause: &reaction.event_id,
            sender: &reaction.sender,
            sent: u64::from(reaction.origin_server_ts.get()),
            about: Some(&reaction.content.relates_to.event_id),
        }
    }

    /// The change an alert's message `cause` in `room`, sent at `sent`, causes: made by Brigade.
    pub fn for_alert(bot: &'a Bot, room: &'a Room, cause: &'a EventId, sent: u64) -> Self {
        Self {
            bot,
            room,
            cause,
            sender: &bot.config.matrix.user_id,
            sent,
            about: None,
        }
    }

    /// The same cause, acted on by Brigade itself (a suggestion, a page on a keyword).
    pub fn by_brigade(self) -> Self {
        Self {
            sender: &self.bot.config.matrix.user_id,
            ..self
        }
    }

    /// Who asked, and when, for the commands' decisions.
    pub fn asked(&self) -> Asked<'a> {
        Asked {
            by: self.sender,
            at: self.sent,
        }
    }

    /// Carries out a decided change: posts its update, sets the levels its roles give, stores
    /// it with its answer. The caller has the room published after answering.
    pub async fn carry_out(&self, decided: Decided) -> Result<Answer, ActionError> {
        if let Some(update) = &decided.update {
            let names = names::of(self.room, [update.author.as_ref()]).await;
            let heading = if decided.public {
                "🌐 **Public update on"
            } else {
                "📣 **Update on"
            };
            let message = format!(
                "{heading} {}** ({}, {}): {}",
                decided.next.incident.number,
                render::clock(update.at),
                names.pill(&update.author),
                render::escape(&update.text)
            );
            self.room
                .send(notice(&message))
                .with_transaction_id(transaction_id(self.cause, "update"))
                .await?;
        }
        if !decided.levels.is_empty() {
            self.set_levels(&decided.next.incident, &decided.levels)
                .await?;
        }
        self.commit(decided.next, Some(decided.answer.clone()))
            .await?;
        Ok(Answer::done(decided.answer))
    }

    /// Sets the power level of each of `users` to what their roles give them (§6).
    pub async fn set_levels(
        &self,
        incident: &Incident,
        users: &[OwnedUserId],
    ) -> Result<(), ActionError> {
        let updates = users
            .iter()
            .map(|user| (user.as_ref(), level_of(incident, user)))
            .collect();
        self.room.update_power_levels(updates).await?;
        Ok(())
    }

    /// Stores `next` as a new version holding this change and its `answer`. The caller has
    /// the room published once it has answered, so the answer does not queue behind the
    /// room's updates at the homeserver.
    pub async fn commit(
        &self,
        mut next: IncidentRecord,
        answer: Option<String>,
    ) -> Result<(), ActionError> {
        next.next_version(self.cause, answer);
        self.bot.store.save_incident(&next).await?;
        // The status page follows the store at once, whatever the homeserver does next.
        self.bot.status.changed();
        self.bot.owes_notices(&next);
        Ok(())
    }
}
