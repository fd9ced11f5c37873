//! `!inc page`: whoever the targets name is invited (if not in the room yet) and mentioned in one
//! `m.text` message (`m.notice` never notifies), which 👀 acknowledges. Users of other servers
//! are invited from the background queue (see `partners`), never while the worker waits.

use brigade_core::{record::IncidentRecord, timeline::Happening};
use matrix_sdk::ruma::{events::room::member::MembershipState, OwnedUserId};
use tracing::warn;

use super::super::{
    change::Change,
    error::{self, ActionError},
    names, partners,
    reply::{mentioning, transaction_id},
};
use crate::{
    commands::{decide, Answer, PageTarget, Paged},
    oncall, render,
};

/// Pages whom `targets` name.
pub async fn run(
    change: &Change<'_>,
    record: IncidentRecord,
    targets: &[PageTarget],
) -> Result<Answer, ActionError> {
    let now = oncall::timestamp(change.bot.clock.now_millis());
    let people = decide::page(targets, &change.bot.config, now)?;
    let text = page(change, record, &people, "page").await?;
    Ok(Answer::done(text))
}

/// Invites `people` who are not in the room and mentions them all; stores the page in the
/// timeline with the change. `purpose` keeps the message's transaction ID apart from other pages
/// the same event causes. Returns the answer.
pub async fn page(
    change: &Change<'_>,
    mut next: IncidentRecord,
    people: &[Paged],
    purpose: &str,
) -> Result<String, ActionError> {
    let room = change.room;
    let own = change.bot.config.matrix.user_id.server_name();
    let mut not_invited = Vec::new();
    let mut queued = Vec::new();
    for (user, _) in people {
        let member = room.get_member(user).await?;
        let present = member.is_some_and(|member| {
            matches!(
                member.membership(),
                MembershipState::Join | MembershipState::Invite
            )
        });
        if present {
            continue;
        }
        // Another server may take its time or never answer: its invitations wait in the
        // background queue, so that nothing else waits for them.
        if user.server_name() != own {
            queued.push(user.clone());
            continue;
        }
        if let Err(refused) = room.invite_user_by_id(user).await {
            if !error::for_good(&refused) {
                return Err(refused.into());
            }
            warn!(%user, error = %refused, "could not invite a paged user");
            not_invited.push(user.clone());
        }
    }
    partners::queue_invites(change.bot, room.room_id(), &queued).await?;
    let incident = &next.incident;
    let names = names::of_anyone(room, people.iter().map(|(user, _)| user.as_ref())).await;
    let named_people = people
        .iter()
        .map(|(user, group)| match group {
            Some(group) => format!("{} ({group})", names.pill(user)),
            None => names.pill(user),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let text = format!(
        "📟 **{}**: {} needs you: {named_people}. React 👀 when you are on it.",
        incident.number,
        render::escape(&incident.title),
    );
    let content = mentioning(&text, people.iter().map(|(user, _)| user.clone()));
    let sent = room
        .send(content)
        .with_transaction_id(transaction_id(change.cause, purpose))
        .await?;
    if !next.pages.contains(&sent.response.event_id) {
        next.pages.push(sent.response.event_id);
    }
    let paged = Happening::Paged {
        people: people.iter().map(|(user, _)| user.clone()).collect(),
    };
    next.incident.log(change.sent, change.sender, paged);
    let named = |users: &[OwnedUserId]| {
        let named: Vec<String> = users.iter().map(|user| names.pill(user)).collect();
        named.join(", ")
    };
    let mut text = format!("Paged {named_people}");
    if !not_invited.is_empty() {
        text.push_str(&format!(
            "; could not invite {} (their server refused)",
            named(&not_invited)
        ));
    }
    if !queued.is_empty() {
        text.push_str(&format!(
            "; the invitation of {} is sent in the background (their server may be slow or down; the bot keeps trying)",
            named(&queued)
        ));
    }
    change.commit(next, Some(text.clone())).await?;
    Ok(text)
}
