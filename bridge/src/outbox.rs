//! Delivering alerts to their rooms: each route's virtual user is registered and joined once,
//! then every alert in the outbox gets its message posted (or edited to its latest state).
//!
//! Every send carries a transaction ID derived from the alert's key, its episode and its
//! version, so a send retried after a crash or an outage is one message, not two.

use std::{collections::HashMap, time::Duration};

use ruma::{
    api::client::{
        account::register::{self, LoginType},
        alias::get_alias,
        membership::join_room_by_id_or_alias,
        message::send_message_event,
        profile::set_profile_field,
        room::create_room::{self, v3::RoomPreset},
    },
    events::MessageLikeEventType,
    profile::ProfileFieldValue,
    serde::Raw,
    OwnedRoomId, OwnedRoomOrAliasId, OwnedTransactionId, OwnedUserId, RoomAliasId, UserId,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::{
    alert::{AlertStatus, Source},
    config::Hook,
    homeserver::HomeserverError,
    store::{AlertRecord, StoreError},
    Bridge,
};

const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(30);

/// Why a delivery failed; it is tried again.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The homeserver failed or refused.
    #[error(transparent)]
    Homeserver(#[from] HomeserverError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An alert of a route that is no longer configured.
    #[error("no route {0} any more")]
    UnknownRoute(String),
}

/// Delivers the outbox until `shutdown`, waking when alerts are accepted and backing off while
/// the homeserver fails.
pub async fn run(bridge: &Bridge, shutdown: CancellationToken) {
    let mut rooms: HashMap<(Source, String), OwnedRoomId> = HashMap::new();
    let mut wait = RETRY_FIRST;
    loop {
        let pause = match deliver_all(bridge, &mut rooms).await {
            Ok(()) => {
                wait = RETRY_FIRST;
                None
            }
            Err(error) => {
                warn!(%error, retry_in = ?wait, depth = bridge.store.depth(), "cannot deliver alerts yet");
                let pause = wait;
                wait = (wait * 2).min(RETRY_MAX);
                Some(pause)
            }
        };
        let notified = bridge.outbox.notified();
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = notified, if pause.is_none() => {}
            () = tokio::time::sleep(pause.unwrap_or_default()), if pause.is_some() => {}
        }
    }
}

/// Works through the outbox once; alerts accepted meanwhile are taken in the next pass.
async fn deliver_all(
    bridge: &Bridge,
    rooms: &mut HashMap<(Source, String), OwnedRoomId>,
) -> Result<(), DeliveryError> {
    loop {
        let pending = bridge.store.pending()?;
        bridge.metrics.outbox_depth(pending.len());
        if pending.is_empty() {
            return Ok(());
        }
        for key in pending {
            let Some(record) = bridge.store.alert(&key)? else {
                continue;
            };
            let route = (record.source, record.route.clone());
            let room_id = match rooms.get(&route) {
                Some(room_id) => room_id.clone(),
                None => {
                    let hook = bridge
                        .config
                        .hook(record.source, &record.route)
                        .ok_or_else(|| {
                            DeliveryError::UnknownRoute(format!(
                                "{}/{}",
                                record.source, record.route
                            ))
                        })?;
                    let room_id = prepare(bridge, hook).await?;
                    rooms.insert(route, room_id.clone());
                    room_id
                }
            };
            deliver(bridge, &key, &record, &room_id).await?;
        }
    }
}

/// The virtual user of `source`: `@alert_<source>:server`.
pub fn virtual_user(bridge: &Bridge, source: Source) -> Result<OwnedUserId, HomeserverError> {
    UserId::parse(format!(
        "@{}{}:{}",
        crate::VIRTUAL_USER_PREFIX,
        source.name(),
        bridge.config.homeserver.server_name
    ))
    .map_err(|error| HomeserverError::Build(error.to_string()))
}

/// Registers the route's virtual user (once; a second time is refused and fine), names it,
/// and joins it to the route's room, creating the room when its alias does not exist yet.
async fn prepare(bridge: &Bridge, hook: &Hook) -> Result<OwnedRoomId, DeliveryError> {
    let hs = &bridge.homeserver;
    let user = virtual_user(bridge, hook.source)?;
    let mut request = register::v3::Request::new();
    request.username = Some(user.localpart().to_owned());
    request.login_type = Some(LoginType::ApplicationService);
    request.inhibit_login = true;
    match hs.send(request, None, hs.versions()).await {
        Ok(_) => info!(%user, "virtual user registered"),
        Err(error) if error.errcode() == Some("M_USER_IN_USE") => {}
        Err(error) => return Err(error.into()),
    }
    let name = set_profile_field::v3::Request::new(
        user.clone(),
        ProfileFieldValue::DisplayName(hook.source.display_name().to_owned()),
    );
    hs.send(name, Some(&user), hs.versions()).await?;

    if let Ok(alias) = <&RoomAliasId>::try_from(&*hook.room) {
        let lookup = get_alias::v3::Request::new(alias.to_owned());
        match hs.send(lookup, Some(&user), hs.versions()).await {
            Ok(found) => return join(bridge, &user, found.room_id.into()).await,
            Err(error) if error.errcode() == Some("M_NOT_FOUND") => {
                let mut create = create_room::v3::Request::new();
                create.room_alias_name = Some(alias.alias().to_owned());
                create.name = Some(format!("Alerts · {}", hook.name));
                create.topic = Some(format!(
                    "Alerts from {} (route {}), posted by Brigade's bridge",
                    hook.source.display_name(),
                    hook.name
                ));
                create.preset = Some(RoomPreset::PrivateChat);
                create.invite = hook.invite.clone();
                match hs.send(create, Some(&user), hs.versions()).await {
                    Ok(created) => {
                        info!(%alias, room_id = %created.room_id, "alert room created");
                        return Ok(created.room_id);
                    }
                    // Made by another route (or a start that crashed) in between.
                    Err(error) if error.errcode() == Some("M_ROOM_IN_USE") => {
                        return join(bridge, &user, hook.room.clone()).await;
                    }
                    Err(error) => return Err(error.into()),
                }
            }
            Err(error) => return Err(error.into()),
        }
    }
    join(bridge, &user, hook.room.clone()).await
}

async fn join(
    bridge: &Bridge,
    user: &UserId,
    room: OwnedRoomOrAliasId,
) -> Result<OwnedRoomId, DeliveryError> {
    let hs = &bridge.homeserver;
    let request = join_room_by_id_or_alias::v3::Request::new(room);
    Ok(hs.send(request, Some(user), hs.versions()).await?.room_id)
}

/// Brings the alert's message in step with `record`: posts it in a new episode, edits it
/// after; then records what it shows.
async fn deliver(
    bridge: &Bridge,
    key: &str,
    record: &AlertRecord,
    room_id: &OwnedRoomId,
) -> Result<(), DeliveryError> {
    let hs = &bridge.homeserver;
    let user = virtual_user(bridge, record.source)?;
    let hook = bridge.config.hook(record.source, &record.route);
    let auto_declare = hook
        .and_then(|hook| hook.auto_declare)
        .zip(record.severity)
        .is_some_and(|(threshold, severity)| severity <= threshold);
    let content = message(record, auto_declare);
    let (content, txn_id) = match &record.event_id {
        None => (content, transaction_id(key, record.first_seen, 0)),
        Some(_) if record.shown >= record.version => {
            // Shown already (a crash came between the send and its record).
            let event_id = record.event_id.clone().unwrap_or_default();
            bridge
                .store
                .delivered(key, record.first_seen, record.version, &event_id)
                .await?;
            return Ok(());
        }
        Some(original) => {
            let mut edit = json!({
                "msgtype": content["msgtype"],
                "body": format!("* {}", content["body"].as_str().unwrap_or_default()),
                "m.new_content": content,
                "m.relates_to": { "rel_type": "m.replace", "event_id": original },
            });
            edit["org.brigade.alert"] = edit["m.new_content"]["org.brigade.alert"].clone();
            (edit, transaction_id(key, record.first_seen, record.version))
        }
    };
    let raw = Raw::new(&content)
        .map_err(|error| HomeserverError::Build(error.to_string()))?
        .cast_unchecked();
    let request = send_message_event::v3::Request::new_raw(
        room_id.clone(),
        txn_id,
        MessageLikeEventType::RoomMessage,
        raw,
    );
    let started = std::time::Instant::now();
    let sent = hs.send(request, Some(&user), hs.versions()).await?;
    bridge
        .metrics
        .delivered(started.elapsed(), record.last_seen);
    let event_id = record
        .event_id
        .clone()
        .unwrap_or_else(|| sent.event_id.to_string());
    bridge
        .store
        .delivered(key, record.first_seen, record.version, &event_id)
        .await?;
    Ok(())
}

/// A transaction ID for the alert `key` in its episode `first_seen` at `version` (0 for the
/// first post): the same send, retried, is one message.
fn transaction_id(key: &str, first_seen: u64, version: u64) -> OwnedTransactionId {
    let digest = Sha256::digest(format!("{key}\u{0}{first_seen}\u{0}{version}"));
    format!("brigade-alert-{}", hex::encode(&digest[..16])).into()
}

/// The alert's message: a line people read, and `org.brigade.alert` for the bot.
pub fn message(record: &AlertRecord, auto_declare: bool) -> serde_json::Value {
    let severity = record
        .severity
        .map_or_else(String::new, |severity| format!(" · {severity}"));
    let route = format!("{}/{}", record.source, record.route);
    let (mark, state) = match record.status {
        AlertStatus::Firing => ("🔥", "firing"),
        AlertStatus::Resolved => ("✅", "resolved"),
    };
    let repeats = if record.count > 1 {
        format!(" · ×{} (last {})", record.count, clock(record.last_seen))
    } else {
        String::new()
    };
    let mut body = format!(
        "{mark} {}{severity} · {state} · {route}{repeats}",
        record.title
    );
    let mut html = format!(
        "{mark} <strong>{}</strong>{severity} · {state} · {route}{repeats}",
        escape(&record.title)
    );
    if !record.body.is_empty() {
        body.push_str(&format!("\n\n{}", record.body));
        html.push_str(&format!("<br><br>{}", escape(&record.body)));
    }
    json!({
        "msgtype": "m.text",
        "body": body,
        "format": "org.matrix.custom.html",
        "formatted_body": html,
        "m.mentions": {},
        "org.brigade.alert": {
            "source": record.source,
            "route": record.route,
            "fingerprint": record.fingerprint,
            "status": record.status,
            "severity": record.severity,
            "title": record.title,
            "count": record.count,
            "first_seen": record.first_seen,
            "last_seen": record.last_seen,
            "auto_declare": auto_declare,
        },
    })
}

/// `HH:MM:SS UTC`.
fn clock(millis: u64) -> String {
    let seconds = millis / 1000;
    format!(
        "{:02}:{:02}:{:02} UTC",
        seconds / 3600 % 24,
        seconds / 60 % 60,
        seconds % 60
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
