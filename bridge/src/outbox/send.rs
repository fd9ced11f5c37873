//! Bringing an alert's (or a burst's) message in step with its record: posted in a new
//! episode, edited after, then recorded as shown. Every send carries a transaction ID derived
//! from the alert (or burst), its episode and its version, so a send retried after a crash or
//! an outage is one message, not two.

use brigade_core::events::{ALERT_KEY, BURST_KEY, BURST_LIST_KEY};
use ruma::{OwnedRoomId, OwnedTransactionId};
use serde_json::json;
use sha2::{Digest, Sha256};

use tracing::info;

use super::{
    error::DeliveryError,
    posted::LookedBack,
    prepare::virtual_user,
    render::{burst_list, burst_message, message},
};
use crate::{
    alert::Source,
    bridge::Bridge,
    homeserver::HomeserverError,
    store::{AlertRecord, BurstRecord, Pending},
};

/// Brings the alert's message in step with `record`: posts it in a new episode, edits it
/// after; then records what it shows. An `uncertain` first post is looked for in the room
/// first (see [`super::posted`]): found, it is adopted, and edited if it shows anything else;
/// not found, it is posted and recorded as showing nothing yet, so that it is edited once
/// more.
pub async fn deliver(
    bridge: &Bridge,
    key: &str,
    record: &AlertRecord,
    room_id: &OwnedRoomId,
    uncertain: bool,
    looked: &mut LookedBack,
) -> Result<(), DeliveryError> {
    if record.event_id.is_some() && record.shown >= record.version {
        // Shown already (a crash came between the record and the outbox's clearing).
        bridge
            .store
            .delivered(
                key,
                record.first_seen,
                record.version,
                record.event_id.as_deref().unwrap_or_default(),
            )
            .await?;
        return Ok(());
    }
    let asks = bridge
        .config
        .asks(record.source, &record.route, record.severity);
    let content = message(record, asks);
    let mut original = record.event_id.clone();
    if original.is_none() && uncertain {
        let user = virtual_user(bridge, record.source)?;
        let found = looked.alert(bridge, &user, room_id, record).await;
        if let Some(posted) = found.map_err(DeliveryError::look_back)? {
            info!(alert = %key.replace('\u{0}', "/"), event_id = %posted.event_id, "an uncertain post had been taken: not posted again");
            if posted.content == content {
                let shown = record.version;
                let event_id = posted.event_id.as_str();
                bridge
                    .store
                    .delivered(key, record.first_seen, shown, event_id)
                    .await?;
                return Ok(());
            }
            original = Some(posted.event_id.to_string());
        }
    }
    let target = Target {
        source: record.source,
        key,
        episode: record.first_seen,
        version: record.version,
        original: original.as_deref(),
    };
    let started = std::time::Instant::now();
    let event_id = send(bridge, room_id, &target, content).await?;
    fail::fail_point!("alert-after-send", |_| crate::bridge::crash());
    bridge
        .metrics
        .delivered(started.elapsed(), record.last_seen);
    let shown = target.shown(uncertain);
    bridge
        .store
        .delivered(key, record.first_seen, shown, &event_id)
        .await?;
    Ok(())
}

/// Brings a burst's message in step with its alerts, like [`deliver`]; then the full list in
/// the message's thread.
pub async fn deliver_burst(
    bridge: &Bridge,
    burst: &BurstRecord,
    uncertain: bool,
    looked: &mut LookedBack,
) -> Result<(), DeliveryError> {
    let room_id = OwnedRoomId::try_from(burst.room_id.as_str())
        .map_err(|error| HomeserverError::Build(error.to_string()))?;
    let members = bridge.store.burst_members(burst.id)?;
    let list_behind =
        burst.list_event_id.is_none() || burst.list_shown.unwrap_or(0) < burst.version;
    let root = match (&burst.event_id, &burst.list_event_id) {
        // Both shown already: a crash came between the record and the outbox's clearing.
        (Some(_), Some(list)) if burst.shown >= burst.version && !list_behind => {
            let shown = burst.list_shown.unwrap_or(burst.version);
            bridge
                .store
                .burst_list_delivered(burst.id, shown, list)
                .await?;
            return Ok(());
        }
        // Shown already (a crash came before the list, or the list alone is behind).
        (Some(event_id), _) if burst.shown >= burst.version => event_id.clone(),
        _ => deliver_burst_message(bridge, burst, &members, (&room_id, uncertain), looked).await?,
    };
    if list_behind {
        deliver_burst_list(
            bridge,
            burst,
            &members,
            (&room_id, &root, uncertain),
            looked,
        )
        .await?;
    }
    Ok(())
}

/// Brings the burst's message in step; answers its event ID.
async fn deliver_burst_message(
    bridge: &Bridge,
    burst: &BurstRecord,
    members: &[AlertRecord],
    (room_id, uncertain): (&OwnedRoomId, bool),
    looked: &mut LookedBack,
) -> Result<String, DeliveryError> {
    let content = burst_message(burst, members);
    let key = Pending::Burst(burst.id).name();
    let mut original = burst.event_id.clone();
    if original.is_none() && uncertain {
        let user = virtual_user(bridge, burst.source)?;
        let found = looked
            .burst(bridge, (&user, room_id), burst, BURST_KEY)
            .await;
        if let Some(posted) = found.map_err(DeliveryError::look_back)? {
            info!(burst = burst.id, event_id = %posted.event_id, "an uncertain post had been taken: not posted again");
            let event_id = posted.event_id.to_string();
            if posted.content == content {
                bridge
                    .store
                    .burst_delivered(burst.id, burst.version, &event_id)
                    .await?;
                return Ok(event_id);
            }
            original = Some(event_id);
        }
    }
    let target = Target {
        source: burst.source,
        key: &key,
        episode: burst.started,
        version: burst.version,
        original: original.as_deref(),
    };
    let started = std::time::Instant::now();
    let event_id = send(bridge, room_id, &target, content).await?;
    bridge.metrics.delivered(started.elapsed(), burst.started);
    let shown = target.shown(uncertain);
    bridge
        .store
        .burst_delivered(burst.id, shown, &event_id)
        .await?;
    Ok(event_id)
}

/// Brings the burst's full list in step: posted in the thread of its message `root`, edited
/// after, as the message is.
async fn deliver_burst_list(
    bridge: &Bridge,
    burst: &BurstRecord,
    members: &[AlertRecord],
    (room_id, root, uncertain): (&OwnedRoomId, &str, bool),
    looked: &mut LookedBack,
) -> Result<(), DeliveryError> {
    let content = burst_list(burst, members);
    let key = format!("{}\u{0}list", Pending::Burst(burst.id).name());
    let mut original = burst.list_event_id.clone();
    if original.is_none() && uncertain {
        let user = virtual_user(bridge, burst.source)?;
        let found = looked
            .burst(bridge, (&user, room_id), burst, BURST_LIST_KEY)
            .await;
        if let Some(posted) = found.map_err(DeliveryError::look_back)? {
            info!(burst = burst.id, event_id = %posted.event_id, "an uncertain list had been taken: not posted again");
            original = Some(posted.event_id.to_string());
        }
    }
    let content = if original.is_none() {
        in_thread(content, root)
    } else {
        content
    };
    let target = Target {
        source: burst.source,
        key: &key,
        episode: burst.started,
        version: burst.version,
        original: original.as_deref(),
    };
    let event_id = send(bridge, room_id, &target, content).await?;
    let shown = target.shown(uncertain);
    bridge
        .store
        .burst_list_delivered(burst.id, shown, &event_id)
        .await?;
    Ok(())
}

/// `content` as the first message of the thread under `root`, shown as a reply to it by
/// clients without threads.
fn in_thread(mut content: serde_json::Value, root: &str) -> serde_json::Value {
    content["m.relates_to"] = json!({
        "rel_type": "m.thread",
        "event_id": root,
        "is_falling_back": true,
        "m.in_reply_to": { "event_id": root },
    });
    content
}

/// The message an alert or a burst shows, at one version.
struct Target<'a> {
    /// Whose virtual user posts it.
    source: Source,
    /// The alert's or burst's name in the outbox.
    key: &'a str,
    /// Its episode: when it began.
    episode: u64,
    /// The version to show.
    version: u64,
    /// The message, once posted: then it is edited.
    original: Option<&'a str>,
}

impl Target<'_> {
    /// The version to record as shown once sent: none yet for an `uncertain` first post, which
    /// the homeserver may have answered with an earlier try, so that it is edited once more.
    fn shown(&self, uncertain: bool) -> u64 {
        if uncertain && self.original.is_none() {
            0
        } else {
            self.version
        }
    }
}

/// Posts `content` as the target's virtual user, or edits its message to it; answers the
/// message's event ID. The first post's transaction ID is the same whatever the version, so a
/// retried post is one message; each edit's is its version's.
async fn send(
    bridge: &Bridge,
    room_id: &OwnedRoomId,
    target: &Target<'_>,
    content: serde_json::Value,
) -> Result<String, DeliveryError> {
    let user = virtual_user(bridge, target.source)?;
    let (content, txn_id) = match target.original {
        None => (content, transaction_id(target.key, target.episode, 0)),
        Some(original) => (
            edit(content, original),
            transaction_id(target.key, target.episode, target.version),
        ),
    };
    let sent = bridge
        .homeserver
        .send_message(&user, room_id, &txn_id, content)
        .await?;
    Ok(target
        .original
        .map_or_else(|| sent.to_string(), str::to_owned))
}

/// An edit of `original` to `content`, with the structured part at the top level too, so that
/// clients that read only the edit see it.
fn edit(content: serde_json::Value, original: &str) -> serde_json::Value {
    let mut edit = json!({
        "msgtype": content["msgtype"],
        "body": format!("* {}", content["body"].as_str().unwrap_or_default()),
        "m.relates_to": { "rel_type": "m.replace", "event_id": original },
    });
    for key in [ALERT_KEY, BURST_KEY, BURST_LIST_KEY] {
        if let Some(value) = content.get(key) {
            edit[key] = value.clone();
        }
    }
    edit["m.new_content"] = content;
    edit
}

/// A transaction ID for the alert `key` in its episode `first_seen` at `version` (0 for the
/// first post): the same send, retried, is one message.
fn transaction_id(key: &str, first_seen: u64, version: u64) -> OwnedTransactionId {
    let digest = Sha256::digest(format!("{key}\u{0}{first_seen}\u{0}{version}"));
    format!("brigade-alert-{}", hex::encode(&digest[..16])).into()
}
