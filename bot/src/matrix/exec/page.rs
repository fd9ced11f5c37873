//! `!inc page`: whoever the targets name is invited (if not in the room yet) and mentioned in one
//! `m.text` message (`m.notice` never notifies), which 👀 acknowledges. A target that names an
//! escalation policy starts it (`super::super::escalation` pages its next levels). Users of other
//! servers are invited from the background queue (see `partners`), never while the worker waits.

use brigade_core::clock::millis;
use brigade_core::{
    record::{Escalation, IncidentRecord},
    timeline::{Happening, Step},
};
use matrix_sdk::ruma::{events::room::member::MembershipState, OwnedEventId, OwnedUserId};
use tracing::warn;

use super::super::{
    change::Change,
    error::{self, ActionError},
    names, partners,
    reply::{mentioning, transaction_id},
};
use crate::{
    commands::{decide, Answer, PageTarget, Paged, Paging},
    oncall, render, report,
};

/// Pages whom `targets` name.
pub async fn run(
    change: &Change<'_>,
    record: IncidentRecord,
    targets: &[PageTarget],
) -> Result<Answer, ActionError> {
    let now = oncall::timestamp(change.bot.clock.now_millis());
    let paging = decide::page(targets, &change.bot.config, now)?;
    let text = page(change, record, &paging, "page").await?;
    Ok(Answer::done(text))
}

/// Pages whom `paging` reaches and starts its escalation policies (one already running for the
/// incident goes on as it is); stores the page in the timeline with the change. `purpose` keeps
/// the message's transaction ID apart from other pages the same event causes. Returns the answer.
pub async fn page(
    change: &Change<'_>,
    mut next: IncidentRecord,
    paging: &Paging,
    purpose: &str,
) -> Result<String, ActionError> {
    let bot = change.bot;
    let now = bot.clock.now_millis();
    let (starting, running): (Vec<&String>, Vec<&String>) =
        paging.policies.iter().partition(|policy| {
            !next
                .escalations
                .iter()
                .any(|escalation| escalation.policy.eq_ignore_ascii_case(policy))
        });
    let mut notes = Vec::new();
    for name in &starting {
        let Some(policy) = bot.config.policy(name) else {
            continue;
        };
        let wait = report::duration(millis(policy.level(0).wait));
        notes.push(if policy.levels.len() > 1 || policy.repeat > 0 {
            format!(
                "Escalation **{}**: the next level is paged in {wait} unless someone reacts 👀.",
                policy.name
            )
        } else {
            format!(
                "Escalation **{}**: paged again in {wait} unless someone reacts 👀.",
                policy.name
            )
        });
    }
    let sent = send(change, &next, &paging.people, purpose, &notes.join(" ")).await?;
    if !next.pages.contains(&sent.event_id) {
        next.pages.push(sent.event_id.clone());
    }
    // A policy paged again while it runs goes on as it is; 👀 on this page stops it too.
    for escalation in &mut next.escalations {
        let again = running
            .iter()
            .any(|policy| escalation.policy.eq_ignore_ascii_case(policy));
        if again && !escalation.pages.contains(&sent.event_id) {
            escalation.pages.push(sent.event_id.clone());
        }
    }
    let mut steps = Vec::with_capacity(starting.len());
    for name in &starting {
        let Some(policy) = bot.config.policy(name) else {
            continue;
        };
        // Mailed, if nobody acknowledges, are the people of the policy's level, not everyone
        // the page reached.
        let level = decide::level_targets(policy.level(0), &bot.config)
            .and_then(|targets| decide::page_people(&targets, &bot.config, oncall::timestamp(now)));
        let notices = super::super::notify::owed(bot, &level.unwrap_or_default()).await?;
        next.escalations.push(Escalation {
            policy: policy.name.clone(),
            cause: change.cause.to_owned(),
            level: 0,
            repeats: 0,
            steps: 1,
            due: now.saturating_add(millis(policy.level(0).wait)),
            pages: vec![sent.event_id.clone()],
            hurried_by: None,
            notify_at: Some(now.saturating_add(millis(policy.level(0).notify_after))),
            notices,
        });
        steps.push(Step {
            policy: policy.name.clone(),
            level: 1,
        });
    }
    let paged = Happening::Paged {
        people: paging.people.iter().map(|(user, _)| user.clone()).collect(),
        escalations: steps,
    };
    next.incident.log(change.sent, change.sender, paged);
    let mut text = sent.said;
    for policy in &starting {
        text.push_str(&format!("; escalation **{policy}** started"));
    }
    for policy in &running {
        text.push_str(&format!(
            "; escalation **{policy}** was running already and goes on"
        ));
    }
    change.commit(next, Some(text.clone())).await?;
    Ok(text)
}

/// A page sent.
pub struct Sent {
    /// Its message: 👀 on it acknowledges.
    pub event_id: OwnedEventId,
    /// What to answer: who was paged, and who could not be invited or is invited later.
    pub said: String,
}

/// Invites `people` who are not in the room and mentions them all in one message, `note` after
/// the call; stores nothing.
pub async fn send(
    change: &Change<'_>,
    record: &IncidentRecord,
    people: &[Paged],
    purpose: &str,
    note: &str,
) -> Result<Sent, ActionError> {
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
    let incident = &record.incident;
    let names = names::of_anyone(room, people.iter().map(|(user, _)| user.as_ref())).await;
    let named_people = people
        .iter()
        .map(|(user, group)| match group {
            Some(group) => format!("{} ({group})", names.pill(user)),
            None => names.pill(user),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut text = format!(
        "📟 **{}**: {} needs you: {named_people}. React 👀 when you are on it.",
        incident.number,
        render::escape(&incident.title),
    );
    if !note.is_empty() {
        text.push(' ');
        text.push_str(note);
    }
    let content = mentioning(&text, people.iter().map(|(user, _)| user.clone()));
    let sent = room
        .send(content)
        .with_transaction_id(transaction_id(change.cause, purpose))
        .await?;
    let named = |users: &[OwnedUserId]| {
        let named: Vec<String> = users.iter().map(|user| names.pill(user)).collect();
        named.join(", ")
    };
    let mut said = format!("Paged {named_people}");
    if !not_invited.is_empty() {
        said.push_str(&format!(
            "; could not invite {} (their server refused)",
            named(&not_invited)
        ));
    }
    if !queued.is_empty() {
        said.push_str(&format!(
            "; the invitation of {} is sent in the background (their server may be slow or down; the bot keeps trying)",
            named(&queued)
        ));
    }
    Ok(Sent {
        event_id: sent.response.event_id,
        said,
    })
}
