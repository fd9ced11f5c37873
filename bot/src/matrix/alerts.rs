//! Incidents declared for alerts (SPEC §9). The bridge's virtual users post each alert's
//! message with `org.brigade.alert`; when its route asks for an incident and it fires, the bot
//! declares one: commanded by `[alerts] commander` (or by nobody yet, when it names nobody:
//! 🚑 takes it), started when the alert began, its summary linking the alert's message, whom
//! the alert's route names paged (an escalation policy, a team's on-call), and a reply under
//! the alert linking the incident's room.
//!
//! Once per alert: not again while the incident declared for it is open, nor again in the same
//! firing episode (repeats edit the alert's message; each edit is seen here). Alerts are
//! believed only from the users the bridge's registration claims exclusively (nobody else can
//! register or post as one), in its routes' rooms; the bot reads the same registration file
//! the homeserver loads (`[alerts] bridge_registration`).

use brigade_core::{
    events::{AlertContent, AlertStatus, ALERT_KEY, VIRTUAL_USER_PREFIX},
    incident::{AlertOrigin, Declaration},
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
        EventId, MilliSecondsSinceUnixEpoch, OwnedEventId, OwnedRoomId, OwnedUserId, RoomId,
        UserId,
    },
    Room,
};
use serde_json::Value;
use tracing::{info, warn};

use super::{
    bot::Bot,
    change::Change,
    error::ActionError,
    exec, names,
    once::{self, Claim},
    open::open,
    reply::{notice, transaction_id},
};
use crate::{
    commands::decide,
    config::{AlertCommander, Config},
    keys::{self, AlertDeclared},
    oncall, render, status,
};

/// An alert's message (or an edit of it), as the bot reads it.
struct AlertMessage {
    alert: AlertContent,
    /// The alert's message: the event itself, or the one an edit replaces.
    original: OwnedEventId,
}

/// Whether `sender` looks like one of the bridge's virtual users: what they post is alerts (if
/// [`believed`]), never commands or talk.
pub fn from_bridge(bot: &Bot, sender: &UserId) -> bool {
    bot.config
        .alerts
        .bridge
        .as_ref()
        .is_some_and(|bridge| bridge.is_bridge_user(sender))
        || (sender.server_name() == bot.config.matrix.user_id.server_name()
            && sender.localpart().starts_with(VIRTUAL_USER_PREFIX))
}

/// Whether an alert `sender` posted in `room` is the bridge's, in one of its routes' rooms.
fn believed(bot: &Bot, room: &Room, sender: &UserId) -> bool {
    bot.config
        .alerts
        .bridge
        .as_ref()
        .is_some_and(|bridge| bridge.is_bridge_user(sender))
        && bridge_room(bot, room)
}

/// Whether `room` is one of the bridge's routes' rooms, by the registration the bot reads.
pub fn bridge_room(bot: &Bot, room: &Room) -> bool {
    let alias = room.canonical_alias();
    bot.config
        .alerts
        .bridge
        .as_ref()
        .is_some_and(|bridge| bridge.routes_to(room.room_id(), alias.as_deref()))
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
    let Some(message) = read(raw, event_id) else {
        return Ok(());
    };
    if !believed(bot, room, sender) {
        warn!(
            %sender,
            room_id = %room.room_id(),
            %event_id,
            "an alert not from the bridge's registered users in one of its routes' rooms: ignored"
        );
        return Ok(());
    }
    // A resolution matters to the incident declared for this very episode, if any.
    let resolved_for = match message.alert.status {
        AlertStatus::Resolved => declared_for(bot, &message.alert)
            .await?
            .filter(|(_, episode)| *episode == message.alert.first_seen)
            .and_then(|(room_id, _)| room_id),
        AlertStatus::Firing => None,
    };
    if !message.alert.calls_for_incident() && resolved_for.is_none() {
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
    let outcome = match resolved_for {
        Some(incident_room) => tell_resolved(bot, room, event_id, &message, &incident_room).await?,
        None => declare(bot, room, event_id, sent, &message).await?,
    };
    once::record(bot, event_id, sent, outcome).await?;
    Ok(())
}

/// The last episode of `alert` the bot acted on, and the incident room it declared then (none
/// when it said why it could not).
async fn declared_for(
    bot: &Bot,
    alert: &AlertContent,
) -> Result<Option<(Option<OwnedRoomId>, u64)>, ActionError> {
    Ok(keys::alert_declared(&alert.identity())
        .get(bot.store.as_ref())
        .await?
        .map(|declared| (declared.room, declared.episode)))
}

/// Tells the incident room declared for this alert's episode that the alert has resolved,
/// once (the bridge may edit a resolved alert's message again).
async fn tell_resolved(
    bot: &Bot,
    room: &Room,
    cause: &EventId,
    message: &AlertMessage,
    incident_room: &RoomId,
) -> Result<Outcome, ActionError> {
    let alert = &message.alert;
    let told = keys::alert_resolved(&alert.identity());
    if told.get(bot.store.as_ref()).await? == Some(alert.first_seen) {
        return Ok(Outcome::Done);
    }
    let Some(incident_room) = bot.client.get_room(incident_room) else {
        return Ok(Outcome::Ignored);
    };
    let text = format!(
        "✅ The alert this incident was declared for has resolved: [{}](https://matrix.to/#/{}/{}).",
        render::escape(&alert.identity()),
        room.room_id(),
        message.original
    );
    incident_room
        .send(notice(&text))
        .with_transaction_id(transaction_id(cause, "alert-resolved"))
        .await?;
    told.set(bot.store.as_ref(), &alert.first_seen).await?;
    Ok(Outcome::Done)
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
    let key = keys::alert_declared(&alert.identity());
    let last = declared_for(bot, alert).await?;
    let still_open = match last.as_ref().and_then(|(room_id, _)| room_id.as_ref()) {
        Some(room_id) => bot
            .store
            .incident(room_id)
            .await?
            .is_some_and(|record| record.incident.status.is_open()),
        None => false,
    };
    let episode = last.as_ref().map(|(_, episode)| *episode);
    if !calls_for_a_declaration(episode, still_open, alert) {
        return Ok(Outcome::Done);
    }

    let now = oncall::timestamp(bot.clock.now_millis());
    // Nobody to command it is no reason to leave an alert unanswered: the incident starts
    // unassigned, and 🚑 on its summary takes it.
    let (commander, unassigned) = match commander(&bot.config, now) {
        Ok(commander) => (Some(commander), None),
        Err(reason) => (None, Some(reason)),
    };
    let config = &bot.config.incidents;
    let (affects, affects_note) = status::labels::affects(&bot.config.status, alert);
    let declaration = Declaration {
        title: alert.title.clone(),
        severity: alert.severity.unwrap_or(config.default_severity),
        kind: config.types[0].clone(),
        private: false,
        declarer: commander
            .clone()
            .unwrap_or_else(|| bot.config.matrix.user_id.clone()),
        commander: commander.clone(),
        started: Some(alert.first_seen),
        alert: Some(AlertOrigin {
            room_id: room.room_id().to_owned(),
            event_id: message.original.clone(),
            alert: alert.identity(),
        }),
        affects,
    };
    let change = Change::for_alert(bot, room, cause, u64::from(sent.get()));
    let (record, incident_room) = match open(&change, declaration).await {
        Ok(opened) => opened,
        // The declaration itself refused (as a command's would be); anything else the
        // homeserver or the store did is left to the worker, to try again or settle.
        Err(ActionError::Refused(refusal)) => {
            say(
                room,
                cause,
                &message.original,
                &format!("🚨 No incident declared for this alert: {refusal}."),
            )
            .await?;
            return Ok(Outcome::Refused);
        }
        Err(error) => return Err(error),
    };
    let number = record.incident.number;
    let paged = match &alert.page {
        Some(words) => Some(page(&change, &incident_room, words).await?),
        None => None,
    };
    // Stored once the incident is paged for: a crash before it declares again, which finds
    // the room and the page made for this alert's message.
    let declared = AlertDeclared {
        room: Some(record.room_id.clone()),
        episode: alert.first_seen,
    };
    key.set(bot.store.as_ref(), &declared).await?;
    let names = names::of(room, commander.as_deref()).await;
    let mut text = format!(
        "🚑 Declared **{number}** for this alert: [{}]({}).",
        record.alias,
        render::permalink(&record.alias),
    );
    match (&commander, &unassigned) {
        (Some(commander), _) => text.push_str(&format!(
            " {} is in command and invited.",
            names.pill(commander)
        )),
        (None, Some(reason)) => text.push_str(&format!(
            " Nobody is in command yet ({reason}): 🚑 on its summary takes it."
        )),
        (None, None) => {}
    }
    if let Some(paged) = paged {
        text.push_str(&format!(" {paged}"));
    }
    if let Some(note) = affects_note {
        text.push_str(&format!(" {note}"));
    }
    say(room, cause, &message.original, &text).await?;
    info!(incident = %number, alert = %alert.identity(), unassigned = commander.is_none(), "incident declared for an alert");
    Ok(Outcome::Done)
}

/// Pages whom the alert's route names (`words`, as `!inc page` takes them) in the incident
/// just declared in `incident_room`, as the alert's change; says what it did, or why nobody
/// was paged. Paged once: a retry after a crash finds the change in the record.
async fn page(
    change: &Change<'_>,
    incident_room: &Room,
    words: &str,
) -> Result<String, ActionError> {
    let bot = change.bot;
    let change = Change {
        room: incident_room,
        ..*change
    };
    // Read again: publishing the new room stored the summary's event in it.
    let Some(record) = bot.store.incident(incident_room.room_id()).await? else {
        return Ok(String::new());
    };
    if record.applied(change.cause).is_some() {
        return Ok(format!("Its route pages **{}**.", render::escape(words)));
    }
    let now = oncall::timestamp(bot.clock.now_millis());
    let paging = decide::page_targets(words, &bot.config)
        .and_then(|targets| decide::page(&targets, &bot.config, now));
    match paging {
        Ok(paging) => {
            exec::page::page(&change, record, &paging, "alert-page").await?;
            // The page is in the record: the room's state and summary follow.
            bot.publisher.publish(incident_room.room_id());
            Ok(format!(
                "Its route paged **{}** there.",
                render::escape(words)
            ))
        }
        Err(refusal) => {
            warn!(page = words, %refusal, "an alert's route pages nobody");
            Ok(format!(
                "Its route pages **{}**, but nobody was paged: {refusal}.",
                render::escape(words)
            ))
        }
    }
}

/// Whether `alert` calls for a declaration now, given the episode the bot last acted on for
/// it (`last`) and whether the incident declared then is still `open`: not while that
/// incident is open, nor twice in one firing episode.
fn calls_for_a_declaration(last: Option<u64>, open: bool, alert: &AlertContent) -> bool {
    !open && last != Some(alert.first_seen)
}

/// Who commands an incident declared at `now`, or why nobody does.
fn commander(config: &Config, now: jiff::Timestamp) -> Result<OwnedUserId, String> {
    match &config.alerts.commander {
        None => Err("`[alerts] commander` names nobody".to_owned()),
        Some(AlertCommander::User(user)) => Ok(user.clone()),
        Some(AlertCommander::OnCall(team)) => config
            .rotation(team)
            .and_then(|rotation| rotation.on_call(now))
            .map(|on_call| on_call.who)
            .ok_or_else(|| format!("nobody is on call for {team} now")),
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

#[cfg(test)]
mod tests {
    use brigade_core::testing::alert;

    use super::*;

    #[test]
    fn an_alert_declares_once_per_episode_and_not_while_its_incident_is_open() {
        assert!(
            calls_for_a_declaration(None, false, &alert(5)),
            "never acted on"
        );
        assert!(
            !calls_for_a_declaration(Some(5), false, &alert(5)),
            "the same episode"
        );
        assert!(
            !calls_for_a_declaration(Some(1), true, &alert(5)),
            "its incident is open"
        );
        assert!(
            calls_for_a_declaration(Some(1), false, &alert(5)),
            "a new episode, incident over"
        );
    }

    #[test]
    fn the_commander_is_the_configured_user_or_whoever_is_on_call() {
        let now: jiff::Timestamp = "2026-12-01T10:00:00Z".parse().expect("a time");
        let none = Config::for_tests("");
        assert!(commander(&none, now)
            .expect_err("none")
            .contains("names nobody"));
        let user = Config::for_tests("[alerts]\ncommander = \"@dan:example.org\"\n");
        assert_eq!(commander(&user, now).expect("a user"), "@dan:example.org");
        let team = Config::for_tests(
            "[alerts]\ncommander = \"oncall:db\"\n[[oncall]]\nteam = \"db\"\nmembers = [\"@dora:example.org\"]\nstart = \"2026-01-05T09:00:00Z\"\nshift_hours = 168\n",
        );
        assert_eq!(commander(&team, now).expect("on call"), "@dora:example.org");
    }
}
