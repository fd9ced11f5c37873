//! `!inc declare`: the declaration decided, the incident opened, specialists suggested. A
//! report in triage is declared the same way, by 🚑 on it or `!inc declare --from-report` in
//! reply to it: once, whoever asks first, with the reporter told where it went.

use brigade_core::record::IncidentRecord;
use matrix_sdk::{ruma::EventId, Room};
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
    filing::Report,
    keys::{self, FiledReport},
    names::Names,
    render,
};

/// Declares the incident `args` ask for; the declarer is in command.
pub async fn run(change: &Change<'_>, args: DeclareArgs) -> Result<Answer, ActionError> {
    if args.from_report {
        let Some(about) = change.about else {
            return Ok(Answer::refused(
                "`--from-report` answers a report: reply to the report in triage with `!inc declare --from-report`",
            ));
        };
        let Some(filed) = filed_report(change.bot, change.room, about).await? else {
            return Ok(Answer::refused(
                "the message this answers is not a report Brigade filed; `--from-report` works in reply to one",
            ));
        };
        return from_report(change, about, filed, args).await;
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

/// The report the bot filed as the message `event_id` in `room`, a triage room; none for any
/// other message (one that merely carries a report's fields, a forward or a copy, is not one).
pub async fn filed_report(
    bot: &Bot,
    room: &Room,
    event_id: &EventId,
) -> Result<Option<FiledReport>, ActionError> {
    let rooms = &bot.rooms;
    if room.room_id() != rooms.triage && room.room_id() != rooms.private_triage {
        return Ok(None);
    }
    Ok(keys::report(event_id).get(bot.store.as_ref()).await?)
}

/// Declares an incident from the report `filed`, the message `report_event`, as `change`
/// asks (🚑 on it, or `!inc declare --from-report` in reply): once. Whoever asks after it is
/// declared is told which incident it is; while one declaration runs (or a crash interrupted
/// it, to be finished by the same event) nobody else declares it. A declaration that fails
/// before its incident has a number leaves the report to the next who asks. The reporter is
/// invited (unless the incident is private: its commander invites) and told in their DM.
pub async fn from_report(
    change: &Change<'_>,
    report_event: &EventId,
    filed: FiledReport,
    args: DeclareArgs,
) -> Result<Answer, ActionError> {
    let (bot, store) = (change.bot, change.bot.store.as_ref());
    // The event declaring it goes on (a retry finishes it); anyone else is told.
    let another = filed
        .declaring
        .as_deref()
        .is_some_and(|cause| cause != change.cause);
    match filed.incident {
        Some(number) if another || filed.declaring.is_none() => {
            return Err(Refusal::new(format!(
                "this report is INC-{number} already; `!inc list` links it"
            ))
            .into());
        }
        None if another => {
            return Err(Refusal::new(
                "this report is being declared already; a declaration a restart interrupted is finished when the bot next starts",
            )
            .into());
        }
        _ => {}
    }
    let report = &filed.report;
    let declaration = decide::from_report(report, args, &bot.config.incidents, change.asked())?;
    let key = keys::report(report_event);
    let declaring = FiledReport {
        declaring: Some(change.cause.to_owned()),
        ..filed.clone()
    };
    key.set(store, &declaring).await?;
    let (record, room) = match open(change, declaration).await {
        Ok(opened) => opened,
        Err(error) => {
            // Free for the next who asks, unless a number was taken: then the room may be
            // there, and only this event (retried) may finish it.
            if keys::declared(change.cause).get(store).await?.is_none() {
                key.set(store, &filed).await?;
            }
            return Err(error);
        }
    };
    let declared = FiledReport {
        incident: Some(record.incident.number.0),
        ..declaring
    };
    key.set(store, &declared).await?;
    suggest(change, &record, &room).await?;
    let reporter = &report.reporter;
    let invited = !record.incident.private
        && reporter != change.sender
        && match room.invite_user_by_id(reporter).await {
            Ok(()) => true,
            Err(error) => {
                // Already invited (a retry), or their server said no.
                warn!(%error, %reporter, "could not invite the reporter");
                false
            }
        };
    // The reporter need not be in triage (they filed through the page): their profile says.
    let names = names::of_anyone(change.room, [reporter.as_ref(), change.sender]).await;
    tell_reporter(change, &record, report, &names, invited).await;
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

/// Tells the reporter, in the DM their receipt went to, which incident their report is now
/// (and whether they were `invited` to it). Without that DM (the report's receipt failed) they
/// learn it from the invitation, if there is one.
async fn tell_reporter(
    change: &Change<'_>,
    record: &IncidentRecord,
    report: &Report,
    names: &Names,
    invited: bool,
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
            "Your report “{}” is now **{}**, run by {}: [{}]({}).{}",
            render::escape(&report.summary),
            incident.number,
            names.pill(change.sender),
            record.alias,
            render::permalink(&record.alias),
            if invited {
                " You are invited to its room."
            } else {
                ""
            }
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
