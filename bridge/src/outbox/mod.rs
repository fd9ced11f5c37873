//! Delivering alerts to their rooms: each route's virtual user is registered and joined once
//! ([`prepare`]), each alert placed once ([`placement`]: a message of its own, or counted in its
//! route's burst), then every alert and burst in the outbox gets its message posted or edited
//! to its latest state ([`send`], with what it says from [`render`]).
//!
//! The homeserver takes a few dozen events a second; a burst of thousands must not flood the
//! room or hold the outbox up. A room that refuses the bridge holds back only its own route
//! ([`routes`]); a message refused for good is counted and dropped. Ages are measured on the
//! bridge's clock, monotonic.

mod error;
mod placement;
mod posted;
mod prepare;
mod render;
mod routes;
mod send;

#[cfg(test)]
mod tests;

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::atomic::Ordering,
    time::Duration,
};

use brigade_core::clock::millis;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

pub use error::DeliveryError;
pub use prepare::virtual_user;
pub use render::{burst_message, message};

use self::{
    placement::Placer,
    posted::LookedBack,
    routes::{Route, Routes},
    send::{deliver, deliver_burst},
};
use crate::{
    bridge::Bridge,
    homeserver::HomeserverError,
    store::{AlertRecord, BurstRecord, Pending, Placement, StoreError},
};

const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(30);
/// A burst message is edited at most this often.
const BURST_EDIT_EVERY: Duration = Duration::from_secs(1);

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
pub struct Outbox {
    /// Each route's room, and the routes held back.
    routes: Routes,
    /// Each room's share of messages, and each route's open burst.
    placer: Placer,
    /// When each burst message was last sent (the bridge's clock, milliseconds).
    sent: HashMap<u64, u64>,
    /// Messages whose first post may have reached the homeserver already (pending at start, or
    /// a post that failed): looked for in the room before they are posted (see [`posted`]),
    /// and, posted, edited once after (the homeserver answers a retried post with the first
    /// one, which may show an older state).
    uncertain: HashSet<String>,
    /// The rooms' recent messages, read back for uncertain first posts.
    looked: LookedBack,
}

/// What became of an outbox entry in a pass.
enum Step {
    /// Its message is in step (or it needed none).
    Done,
    /// It waits this long.
    Later(Duration),
}

impl Outbox {
    /// The outbox as a start finds it: everything pending may have been posted already.
    pub fn new(bridge: &Bridge) -> Result<Self, StoreError> {
        let uncertain = bridge.store.pending()?.iter().map(Pending::name).collect();
        Ok(Self {
            uncertain,
            ..Self::default()
        })
    }

    /// Works through the outbox until it is empty or what is left must wait; then says how
    /// long until it is worth another pass.
    pub async fn deliver_all(
        &mut self,
        bridge: &Bridge,
    ) -> Result<Option<Duration>, DeliveryError> {
        if bridge.retry_held.swap(false, Ordering::AcqRel) {
            self.routes.retry_all(bridge.clock.monotonic_millis());
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
                        self.uncertain.insert(Pending::name(&item));
                        self.looked.forget();
                        return Err(error);
                    }
                }
            }
            if !progressed {
                return Ok(later);
            }
        }
    }

    /// Places the outbox's alerts that have no message yet, per route, and stores where.
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
        let now = bridge.clock.monotonic_millis();
        let burst_after = bridge.config.webhooks.burst_after;
        let mut placements = Vec::new();
        let mut new_bursts = Vec::new();
        for (route, records) in fresh {
            let Some(room_id) = self.room(bridge, &route).await? else {
                continue;
            };
            let urgent = |record: &AlertRecord| {
                bridge
                    .config
                    .declares(record.source, &record.route, record.severity)
            };
            let placed = self
                .placer
                .place(&route, &room_id, records, urgent, burst_after, now);
            for record in &placed.own {
                placements.push((record.own_key(), record.first_seen, Placement::Own));
            }
            if placed.burst.is_empty() {
                continue;
            }
            let id = match placed.open {
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
                        list_shown: Some(0),
                        list_event_id: None,
                    });
                    id
                }
            };
            self.placer.collect_into(&route, id, now);
            for record in placed.burst {
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
        let now = bridge.clock.monotonic_millis();
        match item {
            Pending::Alert(key) => {
                let Some(record) = bridge.store.alert(key)? else {
                    bridge.store.settle(item).await?;
                    return Ok(Step::Done);
                };
                let route = (record.source, record.route.clone());
                // Episodes that ended first: the room hears that they resolved before the
                // next one begins.
                for ended in &record.ended {
                    let Some(room_id) = self.room(bridge, &route).await? else {
                        return Ok(Step::Later(self.routes.wait(&route, now, RETRY_FIRST)));
                    };
                    // A first post that may have reached the homeserver before is edited
                    // once more after (see `uncertain`); the current episode keeps the mark.
                    let uncertain = ended.event_id.is_none() && self.uncertain.contains(key);
                    deliver(bridge, key, ended, &room_id, uncertain, &mut self.looked).await?;
                }
                match record.placement {
                    // Its burst carries it.
                    Some(Placement::Burst(_)) => {
                        bridge.store.settle(item).await?;
                        return Ok(Step::Done);
                    }
                    // Not placed yet: its route's room is out of reach.
                    None if record.event_id.is_none() => {
                        return Ok(Step::Later(self.routes.wait(&route, now, RETRY_FIRST)));
                    }
                    _ => {}
                }
                let Some(room_id) = self.room(bridge, &route).await? else {
                    return Ok(Step::Later(self.routes.wait(&route, now, RETRY_FIRST)));
                };
                // Uncertain until delivered: a refusal (the route held) leaves it so.
                let uncertain = self.uncertain.contains(key);
                deliver(bridge, key, &record, &room_id, uncertain, &mut self.looked).await?;
                self.uncertain.remove(key);
                Ok(Step::Done)
            }
            Pending::Burst(id) => {
                let Some(burst) = bridge.store.burst(*id)? else {
                    bridge.store.settle(item).await?;
                    return Ok(Step::Done);
                };
                if burst.event_id.is_some() {
                    if let Some(since) = self.sent.get(id).map(|at| now.saturating_sub(*at)) {
                        if since < millis(BURST_EDIT_EVERY) {
                            return Ok(Step::Later(
                                BURST_EDIT_EVERY - Duration::from_millis(since),
                            ));
                        }
                    }
                }
                let route = (burst.source, burst.route.clone());
                if self.room(bridge, &route).await?.is_none() {
                    return Ok(Step::Later(self.routes.wait(&route, now, RETRY_FIRST)));
                }
                let uncertain = self.uncertain.contains(&Pending::name(item));
                deliver_burst(bridge, &burst, uncertain, &mut self.looked).await?;
                self.uncertain.remove(&Pending::name(item));
                self.sent.insert(*id, bridge.clock.monotonic_millis());
                Ok(Step::Done)
            }
        }
    }

    /// The room of `route` with its virtual user in it; `None` while the route is held back
    /// (its room refused the bridge, or the route is no longer configured).
    async fn room(
        &mut self,
        bridge: &Bridge,
        route: &Route,
    ) -> Result<Option<ruma::OwnedRoomId>, DeliveryError> {
        if let Some(room_id) = self.routes.room(route) {
            return Ok(Some(room_id.clone()));
        }
        let now = bridge.clock.monotonic_millis();
        if self.routes.held(route, now) {
            return Ok(None);
        }
        let Some(hook) = bridge.config.hook(route.0, &route.1) else {
            self.hold(bridge, route, &"the route is no longer configured");
            return Ok(None);
        };
        match prepare::prepare(bridge, hook).await {
            Ok(room_id) => {
                self.routes.ready(route, room_id.clone());
                Ok(Some(room_id))
            }
            Err(DeliveryError::Homeserver(error)) if error.for_good() => {
                self.hold(bridge, route, &error);
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    /// Holds `route`'s alerts back (they stay in the outbox), waiting longer each time.
    fn hold(&mut self, bridge: &Bridge, route: &Route, reason: &dyn std::fmt::Display) {
        let wait = self.routes.hold(route, bridge.clock.monotonic_millis());
        error!(
            route = %format!("{}/{}", route.0, route.1),
            %reason,
            retry_in = ?wait,
            "the route's room cannot be reached: its alerts wait in the outbox"
        );
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
                self.hold(bridge, route, error);
                return Ok(());
            }
        }
        let route = route.map_or_else(String::new, |(source, name)| format!("{source}/{name}"));
        error!(%route, %error, entry = %Pending::name(item), "the homeserver refused an alert message for good: dropped");
        bridge.metrics.refused(&route);
        bridge.store.drop_refused(item).await?;
        Ok(())
    }
}
