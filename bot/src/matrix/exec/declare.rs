//! `!inc declare`: the declaration decided, the incident opened, specialists suggested. A
//! report in triage is declared the same way, by 🚑 on it or `!inc declare --from-report` in
//! reply to it: once, whoever asks first, with the reporter told where it went.

use brigade_core::record::IncidentRecord;
use matrix_sdk::{
    ruma::{events::AnySyncTimelineEvent, EventId},
    Room,
};
use serde_json::Value;
use tracing::{info, warn};

use super::super::{
    ask,
    bot::Bot,
    change::Change,
    error::ActionError,
    names,
    open::open,
    reply::{notice, transaction_id},
};
use crate::{
    commands::{decide, Answer, DeclareArgs, Refusal},
    filing::{Report, REPORT_KEY},
    keys, render,
};

/// Declares the incident `args` ask for; the declarer is in command.
pub async fn run(change: &Change<'_>, args: DeclareArgs) -> Result<Answer, ActionError> {
    if args.from_report {
        let Some(about) = change.about else {
            return Ok(Answer::refused(
                "`--from-report` answers a report: reply to the report in triage with `!inc declare --from-report`",
            ));
        };
        let Some(report) = report_in(change.bot, change.room, about).await? else {
            return Ok(Answer::refused(
                "the message this answers is not a report Brigade filed; `--from-report` works in reply to one",
            ));
        };
        return from_report(change, about, &report, args).await;
    }
    let declaration = decide::declare(args, &change.bot.config.incidents, change.asked())?;
    let (record, room) = open(change, declaration).await?;
    suggest(change, &record, &room).await?;
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

/// A title that calls for specialists: the suggestion is in the room when the declarer comes.
async fn suggest(
    change: &Change<'_>,
    record: &IncidentRecord,
    room: &Room,
) -> Result<(), ActionError> {
    let in_room = Change { room, ..*change };
    ask::route(&in_room, &record.incident.title).await
}

/// The report `event_id` in `room` holds, when it is one the bot filed in a triage room: a
/// report in anyone else's message is not believed (its reporter could be anyone).
pub async fn report_in(
    bot: &Bot,
    room: &Room,
    event_id: &EventId,
) -> Result<Option<Report>, ActionError> {
    let rooms = &bot.rooms;
    if room.room_id() != rooms.triage && room.room_id() != rooms.private_triage {
        return Ok(None);
    }
    let event = match room.event(event_id, None).await {
        Ok(event) => event,
        Err(error) => {
            warn!(%error, %event_id, "cannot read the message a declaration answers");
            return Ok(None);
        }
    };
    let Ok(AnySyncTimelineEvent::MessageLike(message)) = event.raw().deserialize() else {
        return Ok(None);
    };
    if message.sender() != bot.config.matrix.user_id {
        return Ok(None);
    }
    let content: Value = event
        .raw()
        .get_field("content")
        .ok()
        .flatten()
        .unwrap_or_default();
    Ok(serde_json::from_value(content[REPORT_KEY].clone()).ok())
}

/// Declares an incident from `report`, the message `report_event`, as `change` asks (🚑 on it,
/// or `!inc declare --from-report` in reply): the first to ask declares it; anyone after is
/// told which incident it is. The reporter is invited (unless the incident is private: its
/// commander invites) and told in their DM.
pub async fn from_report(
    change: &Change<'_>,
    report_event: &EventId,
    report: &Report,
    args: DeclareArgs,
) -> Result<Answer, ActionError> {
    let bot = change.bot;
    let store = bot.store.as_ref();
    let declaration = decide::from_report(report, args, &bot.config.incidents, change.asked())?;
    let first = keys::report_declared(report_event);
    match first.get(store).await? {
        // Finishing the declaration a crash interrupted, or a first one.
        Some(cause) if cause == change.cause => {}
        None => first.set(store, &change.cause.to_owned()).await?,
        Some(cause) => {
            let number = keys::declared(&cause).get(store).await?;
            return Err(Refusal::new(match number {
                Some(number) => {
                    format!("this report is INC-{number} already; `!inc list` links it")
                }
                None => "this report is being declared already".to_owned(),
            })
            .into());
        }
    }
    let (record, room) = open(change, declaration).await?;
    suggest(change, &record, &room).await?;
    let reporter = &report.reporter;
    if !record.incident.private && reporter != change.sender {
        if let Err(error) = room.invite_user_by_id(reporter).await {
            // Already invited or joined (a retry), or their server said no: the DM says where.
            warn!(%error, %reporter, "could not invite the reporter");
        }
    }
    let names = names::of(change.room, [reporter.as_ref(), change.sender]).await;
    tell_reporter(change, &record, report, &names).await;
    info!(incident = %record.incident.number, %report_event, "incident declared from a report");
    Ok(Answer::done(format!(
        "Declared **{}** from the report by {}: [{}]({}). {} is in command and invited to the room.",
        record.incident.number,
        names.pill(reporter),
        record.alias,
        render::permalink(&record.alias),
        names.pill(change.sender)
    )))
}

/// Tells the reporter, in the DM their receipt went to, which incident their report is now.
/// Without that DM (the report's receipt failed) they learn it from the invitation.
async fn tell_reporter(
    change: &Change<'_>,
    record: &IncidentRecord,
    report: &Report,
    names: &crate::names::Names,
) {
    let bot = change.bot;
    let dm = match keys::dm(&report.reporter).get(bot.store.as_ref()).await {
        Ok(Some(dm)) => bot.client.get_room(&dm),
        Ok(None) => None,
        Err(error) => {
            warn!(%error, "cannot read the reporter's DM");
            None
        }
    };
    let Some(dm) = dm else {
        return;
    };
    let incident = &record.incident;
    let text = if incident.private {
        format!(
            "Your report “{}” is now the private incident **{}**, run by {}. They invite whom they need.",
            render::escape(&report.summary),
            incident.number,
            names.pill(change.sender)
        )
    } else {
        format!(
            "Your report “{}” is now **{}**, run by {}: [{}]({}). You are invited to its room.",
            render::escape(&report.summary),
            incident.number,
            names.pill(change.sender),
            record.alias,
            render::permalink(&record.alias)
        )
    };
    if let Err(error) = dm
        .send(notice(&text))
        .with_transaction_id(transaction_id(change.cause, "report-declared"))
        .await
    {
        warn!(%error, "could not tell the reporter which incident their report is");
    }
}
