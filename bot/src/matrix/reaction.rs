//! Reactions on an incident's messages (SPEC §8): 👀 on the summary or a page acknowledges the
//! incident (the first one only); 🚑 on the summary makes the reactor commander, if allowed.
//! 🚑 on a report in triage declares an incident from it (`exec::declare`).

use brigade_core::{
    record::IncidentRecord,
    store::{Outcome, StoreError},
};
use matrix_sdk::{
    ruma::{
        events::{reaction::OriginalSyncReactionEvent, relation::Reply, room::message::Relation},
        EventId, OwnedUserId, UserId,
    },
    Room,
};
use tracing::{debug, info, instrument, warn};

use super::{
    bot::Bot,
    change::Change,
    error::ActionError,
    exec::declare,
    names,
    once::{self, Claim},
    reply::{notice, transaction_id},
};
use crate::{
    commands::{Answer, DeclareArgs},
    config::TakeCommand,
    keys::FiledReport,
    names::Names,
    render,
};

/// "I'm looking into it."
pub const ACKNOWLEDGE: &str = "👀";
/// "I take command."
pub const TAKE_COMMAND: &str = "🚑";

/// Why a reaction could not be finished; it is taken up again at the next start.
#[derive(Debug, thiserror::Error)]
pub enum ReactionError {
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The change could not be made.
    #[error(transparent)]
    Action(#[from] ActionError),
}

/// Acts on `reaction` in `room` if it means something there and was not acted on yet.
#[instrument(skip_all, fields(room = %room.room_id(), event_id = %reaction.event_id, sender = %reaction.sender))]
pub async fn handle(
    bot: &Bot,
    room: &Room,
    reaction: &OriginalSyncReactionEvent,
) -> Result<(), ReactionError> {
    let annotation = &reaction.content.relates_to;
    // Clients may add a variation selector to the emoji.
    let key = annotation.key.trim_end_matches('\u{fe0f}');
    if key != ACKNOWLEDGE && key != TAKE_COMMAND {
        return Ok(());
    }
    if !bot.config.access.allows(&reaction.sender) {
        debug!("reaction by a user of a server that is not allowed: ignored");
        return Ok(());
    }
    if key == TAKE_COMMAND {
        if let Some(filed) = declare::filed_report(bot, room, &annotation.event_id).await? {
            return on_report(bot, room, reaction, filed).await;
        }
    }
    let Some(record) = bot.store.incident(room.room_id()).await? else {
        return Ok(());
    };
    let on_summary = record.summary_event.as_ref() == Some(&annotation.event_id);
    let meaningful = if key == ACKNOWLEDGE {
        record.acknowledges(&annotation.event_id)
    } else {
        on_summary
    };
    if !meaningful || !claimed(bot, reaction).await? {
        return Ok(());
    }

    let outcome = match act(bot, room, record, key, reaction).await {
        Ok(()) => Outcome::Done,
        Err(error) => match error.refusal() {
            Some(refusal) => {
                warn!(%error, %refusal, "the reaction is not acted on");
                Outcome::Refused
            }
            None => return Err(error.into()),
        },
    };
    once::record(bot, &reaction.event_id, reaction.origin_server_ts, outcome).await?;
    Ok(())
}

/// Whether `reaction` is to be acted on now: not handled yet, and not too old.
async fn claimed(bot: &Bot, reaction: &OriginalSyncReactionEvent) -> Result<bool, StoreError> {
    Ok(
        match once::claim(bot, &reaction.event_id, reaction.origin_server_ts).await? {
            Claim::Run { .. } => true,
            Claim::Handled => false,
            Claim::Stale { age } => {
                info!(
                    age_seconds = age.as_secs(),
                    "reaction older than commands.max_age: not acted on"
                );
                false
            }
        },
    )
}

/// 🚑 on `report` in a triage room: an incident is declared from it, with the reactor in
/// command; the answer goes in reply to the report.
async fn on_report(
    bot: &Bot,
    room: &Room,
    reaction: &OriginalSyncReactionEvent,
    filed: FiledReport,
) -> Result<(), ReactionError> {
    if !claimed(bot, reaction).await? {
        return Ok(());
    }
    let change = Change::for_reaction(bot, room, reaction);
    let report_event = &reaction.content.relates_to.event_id;
    let (said, outcome) =
        match declare::from_report(&change, report_event, filed, DeclareArgs::default()).await {
            Ok(Answer::Done(said)) => (said, Outcome::Done),
            Ok(Answer::Refused(refusal)) => (Some(refusal.text), Outcome::Refused),
            Err(error) => match error.refusal() {
                Some(refusal) => (Some(refusal.text), Outcome::Refused),
                None => return Err(error.into()),
            },
        };
    if let Some(said) = said {
        let mut content = notice(&said);
        content.relates_to = Some(Relation::Reply(Reply::with_event_id(report_event.clone())));
        room.send(content)
            .with_transaction_id(transaction_id(&reaction.event_id, "reaction"))
            .await
            .map_err(ActionError::from)?;
    }
    once::record(bot, &reaction.event_id, reaction.origin_server_ts, outcome).await?;
    Ok(())
}

async fn act(
    bot: &Bot,
    room: &Room,
    record: IncidentRecord,
    key: &str,
    reaction: &OriginalSyncReactionEvent,
) -> Result<(), ActionError> {
    let change = Change::for_reaction(bot, room, reaction);
    let said = match act_as(&change, record, key).await? {
        Reaction::Changed(said) | Reaction::Refused(said) => Some(said),
        Reaction::Nothing => None,
    };
    say(bot, room, reaction, said).await
}

/// What 👀 or 🚑 (`key`) did when `change.sender` gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reaction {
    /// The incident changed; what the bot says about it.
    Changed(String),
    /// Not allowed; why.
    Refused(String),
    /// It was so already (acknowledged; the commander already).
    Nothing,
}

/// Does what 👀 or 🚑 (`key`) by `change.sender` does to `record`, as a reaction on the summary
/// would, and stores it (the incident panel's buttons come here too). What it says is not
/// posted: the caller says it where it is answered.
pub async fn act_as(
    change: &Change<'_>,
    record: IncidentRecord,
    key: &str,
) -> Result<Reaction, ActionError> {
    // Finishing a change a crash interrupted: it is stored; say it again.
    if let Some(applied) = record.applied(change.cause) {
        return Ok(applied
            .answer
            .clone()
            .map_or(Reaction::Nothing, Reaction::Changed));
    }
    let refused = refused_command(change.bot, change.sender);
    let names = names::of_incident(change.room, &record, [change.sender]).await;
    let reacted = decide(
        &record,
        key,
        (change.sender, change.sent, change.about),
        refused,
        &names,
    );
    let Some(next) = reacted.next else {
        return Ok(reacted.said.map_or(Reaction::Nothing, Reaction::Refused));
    };
    if !reacted.levels.is_empty() {
        change.set_levels(&next.incident, &reacted.levels).await?;
    }
    change.commit(next, reacted.said.clone()).await?;
    Ok(reacted.said.map_or(Reaction::Nothing, Reaction::Changed))
}

/// What a reaction does: the record it leaves (none when nothing changes), what the bot says,
/// and whose levels follow.
#[derive(Debug, PartialEq, Eq)]
struct Reacted {
    next: Option<IncidentRecord>,
    said: Option<String>,
    levels: Vec<OwnedUserId>,
}

/// What `key` (👀 or 🚑) by `by` at `at` does to `record`: the first 👀 acknowledges; 🚑 makes
/// `by` the commander unless they are not in `refused_group`, the group that alone may. People
/// are named by `names`.
fn decide(
    record: &IncidentRecord,
    key: &str,
    (by, at, on): (&UserId, u64, Option<&EventId>),
    refused_group: Option<&str>,
    names: &Names,
) -> Reacted {
    let who = names.pill(by);
    let mut next = record.clone();
    let number = next.incident.number;
    let nothing = Reacted {
        next: None,
        said: None,
        levels: Vec::new(),
    };
    if key == ACKNOWLEDGE {
        let acknowledged = next.acknowledge(at, by, on);
        if !acknowledged.changed() {
            debug!("already acknowledged");
            return nothing;
        }
        let mut said = if acknowledged.first {
            format!(
                "👀 {who} is looking into it: {number} acknowledged at {}",
                render::clock(at)
            )
        } else {
            format!("👀 {who} is on it")
        };
        if !acknowledged.stopped.is_empty() {
            said.push_str(&format!(
                "; {}",
                crate::commands::decide::escalations_stopped(&acknowledged.stopped)
            ));
        }
        return Reacted {
            next: Some(next),
            said: Some(said),
            levels: Vec::new(),
        };
    }
    if let Some(group) = refused_group {
        let said = format!(
            "{who}: only members of the group `{group}` may take command with 🚑; the commander can hand over with `!inc lead`"
        );
        return Reacted {
            said: Some(said),
            ..nothing
        };
    }
    match next.incident.set_commander(by.to_owned(), at, by) {
        Ok(previous) => Reacted {
            next: Some(next),
            said: Some(match &previous {
                Some(previous) => format!(
                    "🚑 {who} takes command of {number} (was {})",
                    names.pill(previous)
                ),
                None => format!("🚑 {who} takes command of {number}"),
            }),
            levels: std::iter::once(by.to_owned()).chain(previous).collect(),
        },
        Err(error) => {
            debug!(%error, "take command changes nothing");
            nothing
        }
    }
}

/// Posts what the bot says about `reaction`, if anything, and has the room published.
async fn say(
    bot: &Bot,
    room: &Room,
    reaction: &OriginalSyncReactionEvent,
    said: Option<String>,
) -> Result<(), ActionError> {
    if let Some(text) = said {
        room.send(notice(&text))
            .with_transaction_id(transaction_id(&reaction.event_id, "reaction"))
            .await?;
    }
    bot.publisher.publish(room.room_id());
    Ok(())
}

/// The group `user` would have to be in to take command, when they are not in it.
fn refused_command<'a>(bot: &'a Bot, user: &UserId) -> Option<&'a str> {
    let TakeCommand::Group(name) = &bot.config.incidents.take_command else {
        return None;
    };
    let member = bot
        .config
        .group(name)
        .is_some_and(|group| group.members.iter().any(|member| member == user));
    (!member).then_some(name.as_str())
}

#[cfg(test)]
mod tests {
    use brigade_core::{incident::Severity, testing, timeline::Happening};
    use matrix_sdk::ruma::user_id;

    use super::*;

    #[test]
    fn the_first_eyes_acknowledge_and_later_ones_change_nothing() {
        let record = testing::record(1, "DNS", Severity::Sev2, 1_000);
        let bob = user_id!("@bob:example.org");
        let first = decide(
            &record,
            ACKNOWLEDGE,
            (bob, 2_000, None),
            None,
            &Names::new(),
        );
        let next = first.next.expect("acknowledged");
        assert_eq!(next.incident.timestamps.acknowledged, Some(2_000));
        assert!(first
            .said
            .is_some_and(|said| crate::names::plain(&said)
                .starts_with("👀 @bob:example.org is looking into it")));
        let again = decide(
            &next,
            ACKNOWLEDGE,
            (user_id!("@carol:example.org"), 3_000, None),
            None,
            &Names::new(),
        );
        assert_eq!(
            again,
            Reacted {
                next: None,
                said: None,
                levels: Vec::new()
            }
        );
    }

    #[test]
    fn eyes_on_an_escalations_page_stop_it_though_the_incident_was_acknowledged() {
        let mut record = testing::record(1, "DNS", Severity::Sev2, 1_000);
        record
            .incident
            .acknowledge(1_500, user_id!("@dan:example.org"));
        let page =
            |n: u32| matrix_sdk::ruma::OwnedEventId::try_from(format!("$page{n}:example.org"));
        let (db, web) = (page(1).expect("id"), page(2).expect("id"));
        for (policy, page) in [("db", &db), ("web", &web)] {
            record.escalations.push(brigade_core::record::Escalation {
                policy: policy.to_owned(),
                cause: page.clone(),
                level: 0,
                repeats: 0,
                steps: 1,
                due: 10_000,
                pages: vec![page.clone()],
                hurried_by: None,
                notify_at: None,
                notices: Vec::new(),
            });
            record.pages.push(page.clone());
        }
        let bob = user_id!("@bob:example.org");
        let reacted = decide(
            &record,
            ACKNOWLEDGE,
            (bob, 2_000, Some(&db)),
            None,
            &Names::new(),
        );
        let next = reacted.next.expect("the db escalation stopped");
        let running: Vec<&str> = next.escalations.iter().map(|e| e.policy.as_str()).collect();
        assert_eq!(running, ["web"], "the other policy pages on");
        assert_eq!(
            next.incident.timestamps.acknowledged,
            Some(1_500),
            "the first stays"
        );
        let said = crate::names::plain(&reacted.said.expect("said"));
        assert_eq!(
            said,
            "👀 @bob:example.org is on it; escalation **db** stopped"
        );
        assert!(matches!(
            &next.incident.timeline.last().expect("logged").what,
            Happening::EscalationEnded { policy, acknowledged: true } if policy == "db"
        ));
        let again = decide(
            &next,
            ACKNOWLEDGE,
            (bob, 3_000, Some(&db)),
            None,
            &Names::new(),
        );
        assert_eq!(again.next, None, "stopped once");
    }

    #[test]
    fn an_ambulance_takes_command_unless_the_group_says_no() {
        let record = testing::record(1, "DNS", Severity::Sev2, 1_000);
        let carol = user_id!("@carol:example.org");
        let taken = decide(
            &record,
            TAKE_COMMAND,
            (carol, 2_000, None),
            None,
            &Names::new(),
        );
        assert_eq!(
            taken.next.map(|next| next.incident.commander),
            Some(Some(carol.to_owned()))
        );
        let alice = record.incident.commander.clone().expect("a commander");
        assert_eq!(taken.levels, [carol.to_owned(), alice.clone()]);
        let refused = decide(
            &record,
            TAKE_COMMAND,
            (carol, 2_000, None),
            Some("sre"),
            &Names::new(),
        );
        assert!(refused.next.is_none());
        assert!(refused
            .said
            .is_some_and(|said| said.contains("only members of the group `sre`")));
        let already = decide(
            &record,
            TAKE_COMMAND,
            (&alice, 2_000, None),
            None,
            &Names::new(),
        );
        assert_eq!(
            already.next, None,
            "the commander taking command changes nothing"
        );
    }

    #[test]
    fn an_ambulance_takes_an_incident_nobody_commands() {
        let mut record = testing::record(1, "Disk full", Severity::Sev1, 1_000);
        record.incident.commander = None;
        let carol = user_id!("@carol:example.org");
        let taken = decide(
            &record,
            TAKE_COMMAND,
            (carol, 2_000, None),
            None,
            &Names::new(),
        );
        let next = taken.next.expect("taken");
        assert!(next.incident.commanded_by(carol));
        assert_eq!(taken.levels, [carol.to_owned()], "nobody else's level");
        assert!(taken
            .said
            .is_some_and(|said| said.ends_with("takes command of INC-1")));
    }
}
