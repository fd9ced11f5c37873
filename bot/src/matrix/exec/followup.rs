//! `!inc followup` (SPEC §16): the follow-up is recorded and, where the bot has a bridge, the
//! bridge is asked for its ticket by an `org.brigade.followup` event in the incident room (the
//! bridge is invited first; it reads what it missed when it joins). The event goes before the
//! follow-up is stored, under a transaction ID of the command's: a command carried out again
//! after a crash sends the same event, which the homeserver takes once.

use brigade_core::{
    events::{FollowupContent, FOLLOWUP_KEY},
    record::IncidentRecord,
};
use matrix_sdk::ruma::{events::room::member::MembershipState, UserId};
use serde_json::json;
use tracing::{info, warn};

use super::super::{change::Change, error::ActionError, names, reply::transaction_id};
use crate::commands::{decide, Answer, FollowupArgs};

/// Records the follow-up `args` in `record`'s room and asks the bridge for its ticket.
pub async fn run(
    change: &Change<'_>,
    record: &IncidentRecord,
    args: FollowupArgs,
) -> Result<Answer, ActionError> {
    let bot = change.bot;
    let bridge = bot
        .config
        .alerts
        .bridge
        .as_ref()
        .map(|bridge| bridge.sender());
    let names = names::of_anyone(change.room, args.owner.as_deref()).await;
    let mut followup = decide::followup(
        record,
        args.clone(),
        (change.asked(), &names),
        bridge.is_some(),
    )?;
    if let (Some(tracker), Some(bridge)) = (followup.ask_bridge, bridge) {
        if let Err(error) = invite(change, bridge).await {
            if !super::super::error::for_good(&error) {
                return Err(error.into());
            }
            // Refused for good: the follow-up is recorded all the same, without its ticket.
            warn!(%error, "the bridge cannot be invited to the incident room");
            followup.decided.answer.push_str(&format!(
                "

Its ticket cannot be asked for: the bridge cannot be invited here ({error})."
            ));
            return change.carry_out(followup.decided).await;
        }
        let incident = &record.incident;
        let room = change.room.room_id();
        let content = FollowupContent {
            incident: incident.number.to_string(),
            title: incident.title.clone(),
            kind: incident.kind.clone(),
            severity: incident.severity,
            number: followup.number,
            text: args.text,
            owner: args.owner,
            due: args.due,
            tracker,
            room_link: format!(
                "https://matrix.to/#/{room}?via={}",
                bot.config.matrix.user_id.server_name()
            ),
            page: bot
                .config
                .web
                .public_url
                .join(&format!("incident/{room}"))
                .ok()
                .map(String::from),
        };
        change
            .room
            .send_raw(FOLLOWUP_KEY, json!(content))
            .with_transaction_id(&transaction_id(change.cause, "followup"))
            .await?;
        info!(incident = %incident.number, followup = followup.number, "asked the bridge for a ticket");
    }
    change.carry_out(followup.decided).await
}

/// Invites the bridge's user to the room, unless it is in or invited already.
async fn invite(change: &Change<'_>, bridge: &UserId) -> Result<(), matrix_sdk::Error> {
    let member = change.room.get_member_no_sync(bridge).await?;
    let present = member.is_some_and(|member| {
        matches!(
            member.membership(),
            MembershipState::Join | MembershipState::Invite
        )
    });
    if !present {
        change.room.invite_user_by_id(bridge).await?;
    }
    Ok(())
}
