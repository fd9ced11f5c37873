//! Silences from chat (SPEC §9): in the room of an Alertmanager route that names its
//! `alertmanager_url`, `!inc silence <matcher>… [for 2h]` makes a silence through Alertmanager's
//! API, `!inc silence` lists the ones the room made, and `!inc unsilence <id>` ends one of them.
//! People of the bridge's own homeserver may, when the route invites them or their power level
//! in the room is a moderator's (50); the answer comes from the route's virtual user, in reply.
//!
//! Once per command: the homeserver sends a transaction again until it is acknowledged, and a
//! command is carried out before its transaction is. A silence made for a command before a
//! crash is found again by the command's event ID in its comment, its answer goes under a
//! transaction ID of that event's, and the event is stored as handled last.

mod alertmanager;
mod command;

use std::time::Duration;

use brigade_core::html::escape;
use ruma::{OwnedRoomId, OwnedTransactionId, RoomAliasId, RoomId};
use serde_json::json;
use tracing::{info, warn};

pub use alertmanager::{Alertmanager, AlertmanagerError};
pub use command::{parse, Asked, Matcher};

use crate::{
    bridge::Bridge,
    config::Hook,
    homeserver::HomeserverError,
    outbox::virtual_user,
    store::{silences::SilenceRecord, StoreError},
};

/// The power level that may silence a route's alerts without being among its `invite`.
pub const SILENCER_LEVEL: i64 = 50;

/// A message in a room the bridge's users are in, that may be a command of the bridge's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its event ID.
    pub event_id: String,
    /// Its room.
    pub room_id: OwnedRoomId,
    /// Who sent it.
    pub sender: ruma::OwnedUserId,
    /// Its plain text.
    pub body: String,
}

/// Why a command could not be finished: the transaction is not acknowledged, so the homeserver
/// sends it again.
#[derive(Debug, thiserror::Error)]
pub enum SilenceError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The homeserver did not take the answer, or could not be asked.
    #[error(transparent)]
    Homeserver(#[from] HomeserverError),
}

/// Carries out `message` if it is a silence command in a route's room, once.
pub async fn handle(bridge: &Bridge, message: &Message) -> Result<(), SilenceError> {
    let Some(asked) = parse(&message.body) else {
        return Ok(());
    };
    if bridge.store.seen(&message.event_id)? {
        return Ok(());
    }
    let Some(hook) = route_of(bridge, &message.room_id).await? else {
        return Ok(());
    };
    // People of other servers get no answer: nothing of theirs makes the bridge speak.
    if message.sender.server_name() != bridge.config.homeserver.server_name {
        info!(sender = %message.sender, "a silence command from another server: ignored");
        return settle(bridge, message).await;
    }
    let answer = match &hook.alertmanager {
        None => format!(
            "🔕 The route {}/{} does not silence: its `[[hooks]]` entry names no `alertmanager_url`.",
            hook.source, hook.name
        ),
        Some(url) => match (allowed(bridge, hook, message).await?, asked) {
            (Err(refusal), _) => refusal,
            (Ok(()), Err(reason)) => format!("🔕 Nothing silenced: {reason}."),
            (Ok(()), Ok(asked)) => {
                let alertmanager = Alertmanager::new(bridge.http.clone(), url.clone());
                act(bridge, &alertmanager, message, asked).await?
            }
        },
    };
    let user = virtual_user(bridge, hook.source)?;
    let content = json!({
        "msgtype": "m.notice",
        "body": answer,
        "format": "org.matrix.custom.html",
        "formatted_body": html(&answer),
        "m.relates_to": { "m.in_reply_to": { "event_id": message.event_id } },
    });
    let txn_id = OwnedTransactionId::from(format!("silence-{}", digest(&message.event_id)));
    match bridge
        .homeserver
        .send_message(&user, &message.room_id, &txn_id, content)
        .await
    {
        Ok(_) => {}
        // A room that refuses the route's user for good: what was done stays done, and the
        // homeserver's other transactions are not held behind this one.
        Err(error) if error.for_good() => {
            warn!(%error, event_id = %message.event_id, "the answer to a silence command was refused");
        }
        Err(error) => return Err(error.into()),
    }
    settle(bridge, message).await
}

/// Stores `message` as handled.
async fn settle(bridge: &Bridge, message: &Message) -> Result<(), SilenceError> {
    bridge
        .store
        .first_time(&message.event_id, bridge.clock.now_millis())
        .await?;
    Ok(())
}

/// The route whose room is `room_id`, if any: one that silences first.
async fn route_of<'a>(
    bridge: &'a Bridge,
    room_id: &RoomId,
) -> Result<Option<&'a Hook>, HomeserverError> {
    let mut found = None;
    for hook in &bridge.config.hooks {
        let user = virtual_user(bridge, hook.source)?;
        let room = match <&RoomAliasId>::try_from(&*hook.room) {
            Ok(alias) => bridge.homeserver.resolve_alias(&user, alias).await?,
            Err(_) => RoomId::parse(hook.room.as_str()).ok(),
        };
        if room.as_deref() != Some(room_id) {
            continue;
        }
        if hook.alertmanager.is_some() {
            return Ok(Some(hook));
        }
        found.get_or_insert(hook);
    }
    Ok(found)
}

/// Whether the sender may silence `hook`'s alerts, or the refusal to say.
async fn allowed(
    bridge: &Bridge,
    hook: &Hook,
    message: &Message,
) -> Result<Result<(), String>, HomeserverError> {
    let sender = &message.sender;
    if hook.invite.contains(sender) {
        return Ok(Ok(()));
    }
    let user = virtual_user(bridge, hook.source)?;
    let level = match bridge
        .homeserver
        .power_level(&user, &message.room_id, sender)
        .await
    {
        Ok(level) => level,
        // The route's user cannot read the room's levels: nobody is a moderator to it.
        Err(error) if error.for_good() => 0,
        Err(error) => return Err(error),
    };
    if level >= SILENCER_LEVEL {
        return Ok(Ok(()));
    }
    Ok(Err(format!(
        "🔕 {sender}: only the people this alert route invites, or moderators of this room (power level {SILENCER_LEVEL} or more), silence its alerts."
    )))
}

/// Does what `asked` asks of `alertmanager`, and says what came of it (Alertmanager's
/// refusals and outages included: those are answered, not retried).
async fn act(
    bridge: &Bridge,
    alertmanager: &Alertmanager,
    message: &Message,
    asked: Asked,
) -> Result<String, StoreError> {
    let now = bridge.clock.now_millis();
    let room = message.room_id.as_str();
    match asked {
        Asked::List => {
            let mut silences = bridge.store.silences_of(room, now)?;
            // Alertmanager's word on what still holds: a silence may be expired there.
            let note = match alertmanager.current().await {
                Ok(current) => {
                    silences.retain(|kept| current.iter().any(|held| held.id == kept.id));
                    String::new()
                }
                Err(error) => format!(" ({error}: as this room last knew them)"),
            };
            if silences.is_empty() {
                return Ok(format!("🔕 No silence made here holds now{note}."));
            }
            let mut text = format!("🔕 Silences made here{note}:");
            for silence in silences {
                text.push_str(&format!(
                    "\n- `{}` {} until {} (by {})",
                    silence.id,
                    silence.matchers,
                    clock(silence.ends),
                    silence.by
                ));
            }
            Ok(text)
        }
        Asked::Silence { matchers, lasting } => {
            let shown = matchers
                .iter()
                .map(Matcher::to_string)
                .collect::<Vec<_>>()
                .join(" ");
            let ends = now.saturating_add(u64::try_from(lasting.as_millis()).unwrap_or(u64::MAX));
            let id = match made(alertmanager, message, &matchers, (now, ends)).await {
                Ok(id) => id,
                Err(error) => {
                    warn!(%error, "a silence from chat was not made");
                    return Ok(format!("🔕 Nothing silenced: {error}."));
                }
            };
            let record = SilenceRecord {
                id: id.clone(),
                room_id: room.to_owned(),
                matchers: shown.clone(),
                ends,
                by: message.sender.to_string(),
                ended_by: None,
            };
            bridge.store.keep_silence(&record).await?;
            info!(silence = %id, matchers = %shown, by = %message.sender, "silenced from chat");
            Ok(format!(
                "🔕 Silenced {shown} until {} ({}), by {}: Alertmanager silence `{id}`. `!inc unsilence {id}` ends it.",
                clock(ends),
                lasting_text(lasting),
                message.sender
            ))
        }
        Asked::Unsilence(id) => {
            let Some(mut record) = bridge
                .store
                .silence(&id)?
                .filter(|record| record.room_id == room)
            else {
                return Ok(format!(
                    "🔕 `{id}` is not a silence made in this room; `!inc silence` lists them."
                ));
            };
            if record.ended_by.is_none() {
                // Ended already (in Alertmanager, by its time, or before a crash here): said
                // so, not tried again.
                match alertmanager.holds(&id).await {
                    Ok(false) => {
                        record.ended_by = Some("its end time, or Alertmanager".to_owned());
                        bridge.store.keep_silence(&record).await?;
                        return Ok(format!(
                            "🔔 Silence `{id}` ({}) had already ended: its alerts notify.",
                            record.matchers
                        ));
                    }
                    Ok(true) => {
                        if let Err(error) = alertmanager.expire(&id).await {
                            warn!(%error, silence = %id, "a silence was not ended");
                            return Ok(format!("🔕 The silence `{id}` still holds: {error}."));
                        }
                    }
                    Err(error) => {
                        return Ok(format!("🔕 The silence `{id}` still holds: {error}."));
                    }
                }
                record.ended_by = Some(message.sender.to_string());
                bridge.store.keep_silence(&record).await?;
                info!(silence = %id, by = %message.sender, "unsilenced from chat");
            }
            Ok(format!(
                "🔔 Silence `{id}` ({}) ended by {}: its alerts notify again.",
                record.matchers,
                record.ended_by.as_deref().unwrap_or_default()
            ))
        }
    }
}

/// The silence made for `message` over `(from, until)`: the one a try before a crash made
/// (its comment names the event), or a new one. A try whose answer was lost (a timeout) is
/// looked for again before it is said to have failed.
async fn made(
    alertmanager: &Alertmanager,
    message: &Message,
    matchers: &[Matcher],
    (from, until): (u64, u64),
) -> Result<String, AlertmanagerError> {
    let marker = format!("({})", message.event_id);
    let earlier = || async {
        Ok::<_, AlertmanagerError>(
            alertmanager
                .current()
                .await?
                .into_iter()
                .find(|silence| silence.comment.ends_with(&marker))
                .map(|silence| silence.id),
        )
    };
    if let Some(id) = earlier().await? {
        return Ok(id);
    }
    let comment = format!("Silenced from Matrix by {} {marker}", message.sender);
    match alertmanager
        .create(matchers, (from, until), message.sender.as_str(), &comment)
        .await
    {
        Ok(id) => Ok(id),
        Err(error @ AlertmanagerError::Unreachable(_)) => match earlier().await {
            Ok(Some(id)) => Ok(id),
            _ => Err(error),
        },
        Err(error) => Err(error),
    }
}

/// `millis` as the time of day, in UTC.
fn clock(millis: u64) -> String {
    jiff::Timestamp::from_millisecond(i64::try_from(millis).unwrap_or(i64::MAX))
        .map(|at| at.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// `lasting` in words: `2h`, `30m`, `1h 30m`.
fn lasting_text(lasting: Duration) -> String {
    let minutes = lasting.as_secs() / 60;
    match (minutes / 60, minutes % 60) {
        (0, 0) => format!("{}s", lasting.as_secs()),
        (0, minutes) => format!("{minutes}m"),
        (hours, 0) => format!("{hours}h"),
        (hours, minutes) => format!("{hours}h {minutes}m"),
    }
}

/// The answer as HTML: escaped, code spans kept, lines broken.
fn html(text: &str) -> String {
    let mut html = String::new();
    for (index, part) in escape(text).split('`').enumerate() {
        if index % 2 == 1 {
            html.push_str(&format!("<code>{part}</code>"));
        } else {
            html.push_str(part);
        }
    }
    html.replace('\n', "<br>")
}

/// A short digest of `event_id`, for a transaction ID of its own.
fn digest(event_id: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(event_id.as_bytes())[..12])
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ruma::{owned_room_id, owned_user_id, user_id};

    use super::*;
    use crate::{
        alert::Source,
        homeserver::Homeserver,
        testing::{self, FakeHomeserver},
    };

    /// A bridge whose route `prod` in `!ops:example.org` invites Ivy and silences through an
    /// Alertmanager nobody listens for (port 9 of loopback: discard, closed here).
    fn silencing() -> (Arc<Bridge>, Arc<FakeHomeserver>) {
        let config = testing::config(
            "[[hooks]]\nname = \"prod\"\nsource = \"alertmanager\"\nroom = \"!ops:example.org\"\n\
             secret = \"s\"\ninvite = [\"@ivy:example.org\"]\nalertmanager_url = \"http://127.0.0.1:9\"\n",
        );
        let homeserver = Arc::new(FakeHomeserver::default());
        let (bridge, _) = testing::bridge(config, homeserver.clone());
        (bridge, homeserver)
    }

    /// The route's virtual user joined to its room, as the outbox leaves it.
    async fn joined(bridge: &Bridge, homeserver: &FakeHomeserver) {
        let user = virtual_user(bridge, Source::Alertmanager).expect("a user");
        let room = ruma::OwnedRoomOrAliasId::from(owned_room_id!("!ops:example.org"));
        homeserver.join(&user, &room).await.expect("joined");
    }

    fn message(sender: &str, body: &str) -> Message {
        Message {
            event_id: format!("${}", digest(body)),
            room_id: owned_room_id!("!ops:example.org"),
            sender: ruma::OwnedUserId::try_from(sender).expect("a user ID"),
            body: body.to_owned(),
        }
    }

    #[tokio::test]
    async fn the_routes_people_and_moderators_of_its_server_silence_and_nobody_else() {
        let (bridge, homeserver) = silencing();
        let hook = &bridge.config.hooks[0];
        homeserver.set_level(user_id!("@mo:example.org"), 50);
        // A moderator of another server is nobody to this route (`handle` ignores them).
        homeserver.set_level(user_id!("@pat:partner.org"), 100);
        let allowed = |sender: &str| {
            let (bridge, message) = (bridge.clone(), message(sender, "!inc silence a=b"));
            async move { allowed(&bridge, hook, &message).await.expect("asked") }
        };
        assert_eq!(
            allowed("@ivy:example.org").await,
            Ok(()),
            "invited by the route"
        );
        assert_eq!(allowed("@mo:example.org").await, Ok(()), "a moderator");
        let refused = allowed("@dan:example.org").await.expect_err("level 0");
        assert!(refused.contains("power level 50"), "{refused}");
    }

    #[tokio::test]
    async fn an_unreachable_alertmanager_is_answered_once_and_nothing_is_kept() {
        let (bridge, homeserver) = silencing();
        joined(&bridge, &homeserver).await;
        let asked = message("@ivy:example.org", "!inc silence alertname=DiskFull for 1h");
        handle(&bridge, &asked).await.expect("handled");
        handle(&bridge, &asked).await.expect("handled again");
        let sent = homeserver.sent();
        assert_eq!(sent.len(), 1, "answered once: {sent:?}");
        let body = sent[0].content["body"].as_str().unwrap_or_default();
        assert!(
            body.starts_with("🔕 Nothing silenced: Alertmanager cannot be reached"),
            "{body}"
        );
        assert_eq!(
            sent[0].user,
            owned_user_id!("@alert_alertmanager:example.org")
        );
        assert_eq!(
            sent[0].content["m.relates_to"]["m.in_reply_to"]["event_id"],
            asked.event_id.as_str()
        );
        assert!(bridge
            .store
            .silences_of("!ops:example.org", 0)
            .expect("read")
            .is_empty());

        // Someone of another server: no answer at all.
        handle(&bridge, &message("@pat:partner.org", "!inc silence a=b"))
            .await
            .expect("ignored");
        assert_eq!(homeserver.sent().len(), 1);

        // Not a command of the bridge's, or a malformed one: said why, nothing asked of
        // Alertmanager.
        handle(&bridge, &message("@ivy:example.org", "!inc status"))
            .await
            .expect("ignored");
        handle(&bridge, &message("@ivy:example.org", "!inc silence oops"))
            .await
            .expect("handled");
        let sent = homeserver.sent();
        assert_eq!(sent.len(), 2);
        let body = sent[1].content["body"].as_str().unwrap_or_default();
        assert!(body.contains("`oops` is not a matcher"), "{body}");
    }

    #[test]
    fn answers_read_as_people_write() {
        assert_eq!(lasting_text(Duration::from_secs(7200)), "2h");
        assert_eq!(lasting_text(Duration::from_secs(5400)), "1h 30m");
        assert_eq!(lasting_text(Duration::from_secs(45)), "45s");
        assert_eq!(clock(0), "1970-01-01 00:00 UTC");
        assert_eq!(
            html("🔕 Silenced `a=\"<b>\"`\n- x"),
            "🔕 Silenced <code>a=&quot;&lt;b&gt;&quot;</code><br>- x"
        );
        assert_eq!(digest("$a").len(), 24);
    }
}
