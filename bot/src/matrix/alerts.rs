//! Incidents declared for alerts (SPEC §9). The bridge's virtual users post each alert's
//! message with `org.brigade.alert`; when its route asks for an incident and it fires, the bot
//! declares one: commanded by `[alerts] commander`, started when the alert began, its summary
//! linking the alert's message, and a reply under the alert linking the incident's room.
//!
//! Once per alert: not again while the incident declared for it is open, nor again in the same
//! firing episode (repeats edit the alert's message; each edit is seen here). Only the bridge's
//! virtual users of the bot's own server are listened to: the bridge's registration claims
//! them exclusively, so nobody else can post as one.

use brigade_core::{
    alert::{AlertContent, ALERT_KEY, VIRTUAL_USER_PREFIX},
    incident::{AlertOrigin, Declaration, IncidentRecord},
    store::Outcome,
};
use matrix_sdk::{
    ruma::{
        events::{
            relation::{InReplyTo, Reply},
            room::message::Relation,
            AnySyncTimelineEvent,
        },
        serde::Raw,
        EventId, MilliSecondsSinceUnixEpoch, OwnedEventId, OwnedUserId, UserId,
    },
    Room,
};
use serde_json::Value;
use tracing::info;

use super::{
    incident::{open, ActionError},
    once::{self, Claim},
    reply::{notice, transaction_id},
    Bot,
};
use crate::{config::AlertCommander, oncall, render};

/// An alert's message (or an edit of it), as the bot reads it.
struct AlertMessage {
    alert: AlertContent,
    /// The alert's message: the event itself, or the one an edit replaces.
    original: OwnedEventId,
}

/// Whether `sender` is one of the bridge's virtual users: what they post is alerts, never
/// commands or talk.
pub fn from_bridge(bot: &Bot, sender: &UserId) -> bool {
    sender.server_name() == bot.config.matrix.user_id.server_name()
        && sender.localpart().starts_with(VIRTUAL_USER_PREFIX)
}

/// Handles a message of the bridge's (`raw`): declares the incident an alert calls for.
pub async fn handle(
    bot: &Bot,
    room: &Room,
    raw: &Raw<AnySyncTimelineEvent>,
    event_id: &EventId,
    sender: &UserId,
    sent: MilliSecondsSinceUnixEpoch,
) -> Result<(), ActionError> {
    let Some(message) = read(raw, event_id).filter(|_| from_bridge(bot, sender)) else {
        return Ok(());
    };
    if !message.alert.calls_for_incident() {
        return Ok(());
    }
    match once::claim(bot, event_id, sent).await? {
        Claim::Handled => return Ok(()),
        Claim::Stale { age } => {
            info!(alert = %message.alert.identity(), age_seconds = age.as_secs(), "alert older than commands.max_age: no incident declared");
            return Ok(());
        }
        Claim::Run { .. } => {}
    }
    let outcome = declare(bot, room, event_id, sent, &message).await?;
    once::record(bot, event_id, outcome).await?;
    Ok(())
}

/// The alert in `raw` (a burst's message, or anything else, is none).
fn read(raw: &Raw<AnySyncTimelineEvent>, event_id: &EventId) -> Option<AlertMessage> {
    let content: Value = raw.get_field("content").ok()??;
    let replaced = content
        .get("m.relates_to")
        .filter(|relation| relation["rel_type"] == "m.replace")
        .and_then(|relation| relation["event_id"].as_str())
        .and_then(|id| EventId::parse(id).ok());
    let (alert, original) = match replaced {
        Some(original) => (content.get("m.new_content")?.get(ALERT_KEY)?, original),
        None => (content.get(ALERT_KEY)?, event_id.to_owned()),
    };
    let alert = serde_json::from_value(alert.clone()).ok()?;
    Some(AlertMessage { alert, original })
}

/// Declares the incident `message` calls for, unless one is open for it or this episode had
/// one; says so under the alert either way it acts.
async fn declare(
    bot: &Bot,
    room: &Room,
    cause: &EventId,
    sent: MilliSecondsSinceUnixEpoch,
    message: &AlertMessage,
) -> Result<Outcome, ActionError> {
    let alert = &message.alert;
    let key = format!("alert.{}", alert.identity());
    if let Some((room_id, episode)) = bot
        .store
        .meta(&key)
        .await?
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| {
            let (room_id, episode) = text.split_once(' ')?;
            Some((room_id.to_owned(), episode.parse::<u64>().ok()?))
        })
    {
        let open = match <&matrix_sdk::ruma::RoomId>::try_from(room_id.as_str()) {
            Ok(room_id) => bot
                .store
                .incident(room_id)
                .await?
                .is_some_and(|record| record.incident.status.is_open()),
            Err(_) => false,
        };
        if open || episode == alert.first_seen {
            return Ok(Outcome::Done);
        }
    }

    let commander = match commander(bot) {
        Ok(commander) => commander,
        Err(reason) => {
            let text = format!(
                "🚨 No incident declared for this alert: {reason}. Declare one with `!inc declare {} --sev N`.",
                render::escape(&alert.title)
            );
            say(room, cause, &message.original, &text).await?;
            // Said once per episode: repeats are edits, each seen here.
            bot.store
                .set_meta(&key, format!("- {}", alert.first_seen).as_bytes())
                .await?;
            return Ok(Outcome::Refused);
        }
    };
    let config = &bot.config.incidents;
    let declaration = Declaration {
        title: alert.title.clone(),
        severity: alert.severity.unwrap_or(config.default_severity),
        kind: config.types[0].clone(),
        private: false,
        declarer: commander.clone(),
        started: Some(alert.first_seen),
        alert: Some(AlertOrigin {
            room_id: room.room_id().to_owned(),
            event_id: message.original.clone(),
            alert: alert.identity(),
        }),
    };
    let record: IncidentRecord = match open(bot, cause, declaration, u64::from(sent.get())).await? {
        Ok((record, _)) => record,
        Err(refusal) => {
            say(
                room,
                cause,
                &message.original,
                &format!("🚨 No incident declared for this alert: {refusal}."),
            )
            .await?;
            return Ok(Outcome::Refused);
        }
    };
    bot.store
        .set_meta(
            &key,
            format!("{} {}", record.room_id, alert.first_seen).as_bytes(),
        )
        .await?;
    let text = format!(
        "🚑 Declared **{}** for this alert: [{}]({}). {commander} is in command and invited.",
        record.incident.number,
        record.alias,
        render::permalink(&record.alias)
    );
    say(room, cause, &message.original, &text).await?;
    info!(incident = %record.incident.number, alert = %alert.identity(), "incident declared for an alert");
    Ok(Outcome::Done)
}

/// Who commands an incident declared now, or why nobody can.
fn commander(bot: &Bot) -> Result<OwnedUserId, String> {
    match &bot.config.alerts.commander {
        None => Err("`[alerts] commander` is not configured".to_owned()),
        Some(AlertCommander::User(user)) => Ok(user.clone()),
        Some(AlertCommander::OnCall(team)) => {
            let now = oncall::timestamp(bot.clock.now_millis());
            bot.config
                .rotation(team)
                .and_then(|rotation| rotation.on_call(now))
                .map(|on_call| on_call.who)
                .ok_or_else(|| format!("nobody is on call for {team} now"))
        }
    }
}

/// Replies `text` under the alert's message, once for `cause`.
async fn say(
    room: &Room,
    cause: &EventId,
    original: &EventId,
    text: &str,
) -> Result<(), ActionError> {
    let mut content = notice(text);
    content.relates_to = Some(Relation::Reply(Reply::new(InReplyTo::new(
        original.to_owned(),
    ))));
    room.send(content)
        .with_transaction_id(transaction_id(cause, "alert"))
        .await?;
    Ok(())
}
