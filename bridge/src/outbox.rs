//! Delivering alerts to their rooms: each route's virtual user is registered and joined once,
//! then every alert in the outbox gets its message posted (or edited to its latest state).
//!
//! A room gets a message per alert up to `webhooks.burst_after` new alerts a minute; alerts
//! beyond (except those that ask the bot to declare) are counted in one burst message per
//! route, edited at most once a second while the burst lasts. The homeserver takes a few dozen
//! events a second; a burst of thousands must not flood the room or hold the outbox up.
//!
//! Every send carries a transaction ID derived from the alert (or burst), its episode and its
//! version, so a send retried after a crash or an outage is one message, not two.

use std::{
    collections::{BTreeMap, HashMap, HashSet, VecDeque},
    time::{Duration, Instant},
};

use brigade_core::{
    events::{AlertContent, ALERT_KEY},
    incident::Severity,
};
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
use tracing::{error, info, warn};

use crate::{
    alert::{AlertStatus, Source},
    bridge::Bridge,
    config::Hook,
    homeserver::HomeserverError,
    store::{AlertRecord, BurstRecord, Pending, Placement, StoreError},
};

const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(30);
/// How long a room's share of alert messages lasts, and how long a burst stays open after its
/// last alert.
const WINDOW: Duration = Duration::from_secs(60);
/// A burst message is edited at most this often.
const BURST_EDIT_EVERY: Duration = Duration::from_secs(1);
/// The longest a route whose room refuses the bridge waits before trying again.
const STUCK_MAX: Duration = Duration::from_secs(300);

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The homeserver failed or refused.
    #[error(transparent)]
    Homeserver(#[from] HomeserverError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A route: its source and name.
type Route = (Source, String);

/// Delivers the outbox until `shutdown`, waking when alerts are accepted and backing off while
/// the homeserver fails.
pub async fn run(bridge: &Bridge, shutdown: CancellationToken) {
    let mut outbox = match Outbox::new(bridge) {
        Ok(outbox) => outbox,
        Err(error) => {
            error!(%error, "cannot read the outbox");
            return;
        }
    };
    let mut wait = RETRY_FIRST;
    loop {
        // `Some(pause, woken by alerts)`.
        let pause = match outbox.deliver_all(bridge).await {
            Ok(later) => {
                wait = RETRY_FIRST;
                later.map(|later| (later, true))
            }
            Err(error) => {
                warn!(%error, retry_in = ?wait, depth = bridge.store.depth(), "cannot deliver alerts yet");
                let pause = wait;
                wait = (wait * 2).min(RETRY_MAX);
                Some((pause, false))
            }
        };
        let notified = bridge.outbox.notified();
        let woken = pause.is_none_or(|(_, woken)| woken);
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = notified, if woken => {}
            () = tokio::time::sleep(pause.map_or_else(Duration::default, |(pause, _)| pause)), if pause.is_some() => {}
        }
    }
}

/// What the delivery task knows between passes.
#[derive(Debug, Default)]
struct Outbox {
    /// Each route's room, once its virtual user is in it.
    rooms: HashMap<Route, OwnedRoomId>,
    /// Routes whose room refused the bridge, until when, and the wait after.
    stuck: HashMap<Route, (Instant, Duration)>,
    /// When each room was given its latest alert messages, within [`WINDOW`].
    posted: HashMap<OwnedRoomId, VecDeque<Instant>>,
    /// The burst each route collects into, and when it last took an alert.
    open: HashMap<Route, (u64, Instant)>,
    /// When each burst message was last sent.
    sent: HashMap<u64, Instant>,
    /// Messages whose first post may have reached the homeserver already (pending at start, or
    /// a post that failed): the homeserver answers a retried post with the first one, which may
    /// show an older state, so it is edited once after.
    uncertain: HashSet<String>,
}

impl Outbox {
    fn new(bridge: &Bridge) -> Result<Self, StoreError> {
        let uncertain = bridge.store.pending()?.iter().map(outbox_key).collect();
        Ok(Self {
            uncertain,
            ..Self::default()
        })
    }

    /// Works through the outbox until it is empty or what is left must wait; then says how
    /// long until it is worth another pass.
    async fn deliver_all(&mut self, bridge: &Bridge) -> Result<Option<Duration>, DeliveryError> {
        if bridge
            .retry_held
            .swap(false, std::sync::atomic::Ordering::AcqRel)
        {
            // Keeps each route's wait, so a route refused again waits longer; only the time
            // before the next try is taken away.
            for (until, _) in self.stuck.values_mut() {
                *until = Instant::now();
            }
        }
        loop {
            self.place(bridge).await?;
            let pending = bridge.store.pending()?;
            bridge.metrics.outbox_depth(pending.len());
            let mut later: Option<Duration> = None;
            let mut progressed = false;
            for item in pending {
                match self.deliver_one(bridge, &item).await {
                    Ok(Step::Done) => progressed = true,
                    Ok(Step::Later(wait)) => later = Some(later.map_or(wait, |l| l.min(wait))),
                    Err(DeliveryError::Homeserver(error)) if error.for_good() => {
                        self.refused(bridge, &item, &error).await?;
                        progressed = true;
                    }
                    Err(error) => {
                        self.uncertain.insert(outbox_key(&item));
                        return Err(error);
                    }
                }
            }
            if !progressed {
                return Ok(later);
            }
        }
    }

    /// Places the outbox's alerts that have no message yet, per route: alerts that ask the bot
    /// to declare always get their own; others get their own while their room has had fewer
    /// than `burst_after` in the last minute and no burst of their route is open; the rest go
    /// into the route's burst.
    async fn place(&mut self, bridge: &Bridge) -> Result<(), DeliveryError> {
        let mut fresh: BTreeMap<Route, Vec<AlertRecord>> = BTreeMap::new();
        for item in bridge.store.pending()? {
            let Pending::Alert(key) = item else { continue };
            if let Some(record) = bridge.store.alert(&key)? {
                if record.placement.is_none() && record.event_id.is_none() {
                    fresh
                        .entry((record.source, record.route.clone()))
                        .or_default()
                        .push(record);
                }
            }
        }
        if fresh.is_empty() {
            return Ok(());
        }
        let now = Instant::now();
        let mut placements = Vec::new();
        let mut new_bursts = Vec::new();
        for (route, records) in fresh {
            let Some(room_id) = self.room(bridge, &route).await? else {
                continue;
            };
            let posted = self.posted.entry(room_id.clone()).or_default();
            while posted
                .front()
                .is_some_and(|at| now.duration_since(*at) >= WINDOW)
            {
                posted.pop_front();
            }
            let open = self
                .open
                .get(&route)
                .filter(|(_, last)| now.duration_since(*last) < WINDOW)
                .map(|(id, _)| *id);
            let (urgent, mut rest): (Vec<_>, Vec<_>) = records
                .into_iter()
                .partition(|record| auto_declares(bridge, record));
            let allowance = if open.is_some() {
                0
            } else {
                bridge
                    .config
                    .webhooks
                    .burst_after
                    .saturating_sub(posted.len() + urgent.len())
            };
            let burst = rest.split_off(allowance.min(rest.len()));
            for record in urgent.iter().chain(&rest) {
                placements.push((record.own_key(), record.first_seen, Placement::Own));
                posted.push_back(now);
            }
            if burst.is_empty() {
                continue;
            }
            let id = match open {
                Some(id) => id,
                None => {
                    let id = bridge.store.next_burst_id()?;
                    info!(route = %format!("{}/{}", route.0, route.1), burst = id, "a burst of alerts: summarising");
                    new_bursts.push(BurstRecord {
                        id,
                        source: route.0,
                        route: route.1.clone(),
                        room_id: room_id.to_string(),
                        started: bridge.clock.now_millis(),
                        version: 0,
                        shown: 0,
                        event_id: None,
                    });
                    id
                }
            };
            self.open.insert(route, (id, now));
            for record in burst {
                placements.push((record.own_key(), record.first_seen, Placement::Burst(id)));
            }
        }
        bridge.store.place(&placements, &new_bursts).await?;
        Ok(())
    }

    /// Brings one outbox entry's message in step, or says why it waits.
    async fn deliver_one(
        &mut self,
        bridge: &Bridge,
        item: &Pending,
    ) -> Result<Step, DeliveryError> {
        match item {
            Pending::Alert(key) => {
                let Some(record) = bridge.store.alert(key)? else {
                    bridge.store.settle(item).await?;
                    return Ok(Step::Done);
                };
                match record.placement {
                    // Its burst carries it.
                    Some(Placement::Burst(_)) => {
                        bridge.store.settle(item).await?;
                        return Ok(Step::Done);
                    }
                    // Not placed yet: its route's room is out of reach.
                    None if record.event_id.is_none() => {
                        return Ok(Step::Later(self.stuck_for(&(record.source, record.route))));
                    }
                    _ => {}
                }
                let route = (record.source, record.route.clone());
                let Some(room_id) = self.room(bridge, &route).await? else {
                    return Ok(Step::Later(self.stuck_for(&route)));
                };
                let uncertain = self.uncertain.remove(key);
                deliver(bridge, key, &record, &room_id, uncertain).await?;
                Ok(Step::Done)
            }
            Pending::Burst(id) => {
                let Some(burst) = bridge.store.burst(*id)? else {
                    bridge.store.settle(item).await?;
                    return Ok(Step::Done);
                };
                if burst.event_id.is_some() {
                    if let Some(since) = self.sent.get(id).map(Instant::elapsed) {
                        if since < BURST_EDIT_EVERY {
                            return Ok(Step::Later(BURST_EDIT_EVERY - since));
                        }
                    }
                }
                let route = (burst.source, burst.route.clone());
                if self.room(bridge, &route).await?.is_none() {
                    return Ok(Step::Later(self.stuck_for(&route)));
                }
                let uncertain = self.uncertain.remove(&outbox_key(item));
                deliver_burst(bridge, &burst, uncertain).await?;
                self.sent.insert(*id, Instant::now());
                Ok(Step::Done)
            }
        }
    }

    /// The room of `route` with its virtual user in it; `None` while the route is stuck (its
    /// room refused the bridge, or the route is no longer configured).
    async fn room(
        &mut self,
        bridge: &Bridge,
        route: &Route,
    ) -> Result<Option<OwnedRoomId>, DeliveryError> {
        if let Some(room_id) = self.rooms.get(route) {
            return Ok(Some(room_id.clone()));
        }
        if self
            .stuck
            .get(route)
            .is_some_and(|(until, _)| Instant::now() < *until)
        {
            return Ok(None);
        }
        let Some(hook) = bridge.config.hook(route.0, &route.1) else {
            self.stick(route, &"the route is no longer configured");
            return Ok(None);
        };
        match prepare(bridge, hook).await {
            Ok(room_id) => {
                self.stuck.remove(route);
                self.rooms.insert(route.clone(), room_id.clone());
                Ok(Some(room_id))
            }
            Err(DeliveryError::Homeserver(error)) if error.for_good() => {
                self.stick(route, &error);
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    /// Holds `route`'s alerts back (they stay in the outbox), waiting longer each time.
    fn stick(&mut self, route: &Route, reason: &dyn std::fmt::Display) {
        let wait = self
            .stuck
            .get(route)
            .map_or(Duration::from_secs(5), |(_, wait)| {
                (*wait * 2).min(STUCK_MAX)
            });
        error!(
            route = %format!("{}/{}", route.0, route.1),
            %reason,
            retry_in = ?wait,
            "the route's room cannot be reached: its alerts wait in the outbox"
        );
        self.stuck
            .insert(route.clone(), (Instant::now() + wait, wait));
        self.rooms.remove(route);
    }

    /// How long until `route` is tried again.
    fn stuck_for(&self, route: &Route) -> Duration {
        self.stuck.get(route).map_or(RETRY_FIRST, |(until, _)| {
            until.saturating_duration_since(Instant::now())
        })
    }

    /// The homeserver refused a message for good. Refused because the virtual user may not
    /// post there (left, kicked, or a room the bridge lost): the route is held back and the
    /// room joined again later. Refused for anything else (too large, say): retrying cannot
    /// help, so it leaves the outbox, counted and logged.
    async fn refused(
        &mut self,
        bridge: &Bridge,
        item: &Pending,
        error: &HomeserverError,
    ) -> Result<(), DeliveryError> {
        let route = match item {
            Pending::Alert(key) => bridge
                .store
                .alert(key)?
                .map(|record| (record.source, record.route)),
            Pending::Burst(id) => bridge
                .store
                .burst(*id)?
                .map(|burst| (burst.source, burst.route)),
        };
        if let Some(route) = &route {
            if error.errcode() == Some("M_FORBIDDEN") {
                self.stick(route, error);
                return Ok(());
            }
        }
        let route = route.map_or_else(String::new, |(source, name)| format!("{source}/{name}"));
        error!(%route, %error, entry = %outbox_key(item), "the homeserver refused an alert message for good: dropped");
        bridge.metrics.refused(&route);
        bridge.store.drop_refused(item).await?;
        Ok(())
    }
}

/// What became of an outbox entry in a pass.
enum Step {
    /// Its message is in step (or it needed none).
    Done,
    /// It waits this long.
    Later(Duration),
}

/// The name an outbox entry goes by in transaction IDs and logs.
fn outbox_key(item: &Pending) -> String {
    match item {
        Pending::Alert(key) => key.clone(),
        Pending::Burst(id) => format!("burst\u{0}{id}"),
    }
}

/// Whether `record` asks the bot to declare: its route has a threshold and it is at or above.
fn auto_declares(bridge: &Bridge, record: &AlertRecord) -> bool {
    bridge
        .config
        .hook(record.source, &record.route)
        .and_then(|hook| hook.auto_declare)
        .zip(record.severity)
        .is_some_and(|(threshold, severity)| severity <= threshold)
}

/// The virtual user of `source`: `@alert_<source>:server`.
pub fn virtual_user(bridge: &Bridge, source: Source) -> Result<OwnedUserId, HomeserverError> {
    UserId::parse(format!(
        "@{}{}:{}",
        brigade_core::events::VIRTUAL_USER_PREFIX,
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
                // The other routes' virtual users posting here are invited too: the room is
                // invite-only.
                let mut invite = hook.invite.clone();
                for other in &bridge.config.hooks {
                    let other_user = virtual_user(bridge, other.source)?;
                    if other.room == hook.room
                        && other_user != user
                        && !invite.contains(&other_user)
                    {
                        invite.push(other_user);
                    }
                }
                create.invite = invite;
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
/// after; then records what it shows. An `uncertain` first post is recorded as showing
/// nothing yet, so that it is edited once more.
async fn deliver(
    bridge: &Bridge,
    key: &str,
    record: &AlertRecord,
    room_id: &OwnedRoomId,
    uncertain: bool,
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
    let content = message(record, auto_declares(bridge, record));
    let target = Target {
        source: record.source,
        key,
        episode: record.first_seen,
        version: record.version,
        original: record.event_id.as_deref(),
    };
    let started = Instant::now();
    let event_id = send(bridge, room_id, &target, content).await?;
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

/// Brings a burst's message in step with its alerts, like [`deliver`].
async fn deliver_burst(
    bridge: &Bridge,
    burst: &BurstRecord,
    uncertain: bool,
) -> Result<(), DeliveryError> {
    let room_id = OwnedRoomId::try_from(burst.room_id.as_str())
        .map_err(|error| HomeserverError::Build(error.to_string()))?;
    let members = bridge.store.burst_members(burst.id)?;
    let content = burst_message(burst, &members);
    let key = outbox_key(&Pending::Burst(burst.id));
    let target = Target {
        source: burst.source,
        key: &key,
        episode: burst.started,
        version: burst.version,
        original: burst.event_id.as_deref(),
    };
    let started = Instant::now();
    let event_id = send(bridge, &room_id, &target, content).await?;
    bridge.metrics.delivered(started.elapsed(), burst.started);
    let shown = target.shown(uncertain);
    bridge
        .store
        .burst_delivered(burst.id, shown, &event_id)
        .await?;
    Ok(())
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
    let hs = &bridge.homeserver;
    let user = virtual_user(bridge, target.source)?;
    let (content, txn_id) = match target.original {
        None => (content, transaction_id(target.key, target.episode, 0)),
        Some(original) => (
            edit(content, original),
            transaction_id(target.key, target.episode, target.version),
        ),
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
    let sent = hs.send(request, Some(&user), hs.versions()).await?;
    Ok(target
        .original
        .map_or_else(|| sent.event_id.to_string(), str::to_owned))
}

/// An edit of `original` to `content`, with the structured part at the top level too, so that
/// clients that read only the edit see it.
fn edit(content: serde_json::Value, original: &str) -> serde_json::Value {
    let mut edit = json!({
        "msgtype": content["msgtype"],
        "body": format!("* {}", content["body"].as_str().unwrap_or_default()),
        "m.relates_to": { "rel_type": "m.replace", "event_id": original },
    });
    for key in [ALERT_KEY, BURST_KEY] {
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

/// The structured part of a burst's message.
pub const BURST_KEY: &str = "org.brigade.alert_burst";
/// How many of a burst's most frequent titles its message names.
const BURST_TITLES: usize = 5;

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
    let mut content = text(body, html);
    content[ALERT_KEY] = json!(AlertContent {
        source: record.source.name().to_owned(),
        route: record.route.clone(),
        fingerprint: record.fingerprint.clone(),
        status: record.status,
        severity: record.severity,
        title: record.title.clone(),
        count: record.count,
        first_seen: record.first_seen,
        last_seen: record.last_seen,
        auto_declare,
    });
    content
}

/// A burst's message: how many of its alerts fire and how many resolved, since when, the
/// worst severity and the most frequent titles; `org.brigade.alert_burst` holds the counts.
pub fn burst_message(burst: &BurstRecord, members: &[AlertRecord]) -> serde_json::Value {
    // An alert that began a new episode since resolved in this one.
    let in_burst = |record: &&AlertRecord| record.placement == Some(Placement::Burst(burst.id));
    let firing: Vec<&AlertRecord> = members
        .iter()
        .filter(|record| in_burst(record) && record.status == AlertStatus::Firing)
        .collect();
    let resolved = members.len() - firing.len();
    let received: u64 = members.iter().filter(in_burst).map(|r| r.count).sum();
    let last_seen = members
        .iter()
        .map(|r| r.last_seen)
        .max()
        .unwrap_or(burst.started);
    let worst: Option<Severity> = firing.iter().filter_map(|r| r.severity).min();
    let mut titles: HashMap<&str, usize> = HashMap::new();
    for record in &firing {
        *titles.entry(record.title.as_str()).or_default() += 1;
    }
    let mut titles: Vec<(&str, usize)> = titles.into_iter().collect();
    titles.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let route = format!("{}/{}", burst.source, burst.route);
    let mark = if firing.is_empty() { "✅" } else { "🔥" };
    let severity = worst.map_or_else(String::new, |severity| format!(" · worst {severity}"));
    let head = format!(
        "{} firing · {resolved} resolved{severity} · {route} · {} alerts since {} (last {})",
        firing.len(),
        members.len(),
        clock(burst.started),
        clock(last_seen)
    );
    let most = titles
        .iter()
        .take(BURST_TITLES)
        .map(|(title, count)| format!("{title} ×{count}"))
        .collect::<Vec<_>>()
        .join(" · ");
    let mut body = format!("{mark} Alert burst: {head}");
    let mut html = format!("{mark} <strong>Alert burst</strong>: {}", escape(&head));
    if !most.is_empty() {
        body.push_str(&format!("\nMost firing: {most}"));
        html.push_str(&format!("<br>Most firing: {}", escape(&most)));
    }
    let mut content = text(body, html);
    content[BURST_KEY] = json!({
            "source": burst.source,
            "route": burst.route,
            "alerts": members.len(),
            "firing": firing.len(),
            "resolved": resolved,
            "received": received,
            "severity": worst,
            "started": burst.started,
            "last_seen": last_seen,
    });
    content
}

/// An `m.text` message that mentions nobody, in plain text and HTML.
fn text(body: String, html: String) -> serde_json::Value {
    json!({
        "msgtype": "m.text",
        "body": body,
        "format": "org.matrix.custom.html",
        "formatted_body": html,
        "m.mentions": {},
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
