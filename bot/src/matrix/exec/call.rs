//! `!inc call` (SPEC §16): a Jitsi conference in the room's top bar (an `m.jitsi` widget beside
//! the panel), or Element Call for the room itself, its link posted for everyone. The call's
//! start is a timeline entry holding its conference; asked again, the call the record holds is
//! put back and posted again, not replaced. Element Call needs responders to announce their
//! membership: rooms are created letting them, and an older room is changed to.

use brigade_core::{events::CALL_MEMBER, levels::RESPONDER_LEVEL, record::IncidentRecord};
use matrix_sdk::{
    ruma::{events::room::power_levels::RoomPowerLevelsEventContent, Int},
    Room,
};

use super::super::{
    change::Change,
    error::ActionError,
    reply::{notice, transaction_id},
    widgets,
};
use crate::{
    ack_link,
    commands::{decide, Answer, Call},
    keys::{self, KeyError},
};

/// Puts a call in `record`'s room.
pub async fn run(change: &Change<'_>, record: &IncidentRecord) -> Result<Answer, ActionError> {
    let bot = change.bot;
    let room = (
        change.room.room_id(),
        bot.config.matrix.user_id.server_name(),
    );
    // The bot's own secret, made at its start (`ack_link::ensure_key`): never a name anyone
    // could work out, so its absence is an error, not an empty key.
    let secret = ack_link::key(bot.store.as_ref())
        .await?
        .ok_or_else(|| KeyError::Unreadable(keys::ack_key().name().to_owned()))?;
    let call = decide::call(record, &bot.config.calls, room, (change.cause, &secret))?;
    let number = &record.incident.number;
    let link = call.link();
    let text = match &call {
        Call::Jitsi { domain, conference } => {
            let name = format!("Call · {number}");
            widgets::put_jitsi(bot, change.room, domain, conference, &name).await?;
            format!(
                "📞 **Call for {number}**: [join it on Jitsi]({link}), or in the widget at the \
                 top of this room."
            )
        }
        Call::ElementCall { .. } => {
            let_responders_join(change.room).await?;
            format!("📞 **Call for {number}**: [join it in Element Call]({link}).")
        }
    };
    change
        .room
        .send(notice(&text))
        .with_transaction_id(transaction_id(change.cause, "call"))
        .await?;
    let answer = format!(
        "The call is on {}: its link is posted in this room.",
        call.service()
    );
    if let Some(next) = decide::call_started(record, &call, change.asked()) {
        change.commit(next, Some(answer.clone())).await?;
    }
    Ok(Answer::done(answer))
}

/// Lets everyone in `room` say they are in its call, unless they may already.
async fn let_responders_join(room: &Room) -> Result<(), ActionError> {
    let mut levels = room.power_levels().await.map_err(matrix_sdk::Error::from)?;
    let responder = Int::from(RESPONDER_LEVEL as i32);
    let needed = levels
        .events
        .get(&CALL_MEMBER.into())
        .copied()
        .unwrap_or(levels.state_default);
    if needed <= responder {
        return Ok(());
    }
    levels.events.insert(CALL_MEMBER.into(), responder);
    room.send_state_event(
        RoomPowerLevelsEventContent::try_from(levels).map_err(matrix_sdk::Error::from)?,
    )
    .await?;
    Ok(())
}
