//! The bridge's store: each alert's state, and the outbox of alerts whose message is behind
//! their state, over a storage engine (sled in the bridge, memory in tests; one conformance
//! suite runs over both).
//!
//! An accepted webhook changes the alerts' states and marks them in the outbox, then flushes:
//! only then is it answered 202. Writes go one at a time (sled 0.34's multi-tree transactions
//! deadlock against its flushes under concurrent webhooks, seen here), so a delivery never
//! reads half of an acceptance. The outbox holds alert keys, not messages:
//! however many repeats arrive before the homeserver takes the next message, the alert's one
//! message is brought to the latest state once.
//!
//! Before an alert's first message, the outbox places it durably: in a message of its own, or
//! counted in a burst message when its room has had its share of messages (see
//! [`Placement`]). A placement is never taken back, so an alert is never both.

mod bursts;
mod engine;
mod prune;
mod records;
pub mod silences;
pub mod tickets;

#[cfg(test)]
mod conformance;

use std::{path::Path, sync::Arc};

use brigade_core::engine::{Engine, MemoryEngine, SledEngine};

use serde::Serialize;

pub use engine::{StoreError, Tree};
pub use records::{Accepted, AlertRecord, BurstRecord, Forgotten, Pending, Placement};

use records::{burst_key, member_key, next, BURST_PREFIX};

use crate::alert::{Alert, Delivery, Source, REPLAY_WINDOW_MILLIS};

/// sled's page cache. Its default is 1 GB; the bridge reads back little of what it writes.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// The bridge's database, over a storage [`Engine`].
#[derive(Debug, Clone)]
pub struct Store {
    engine: Arc<dyn Engine>,
    /// Held while an alert is read, changed and written back.
    writing: Arc<tokio::sync::Mutex<()>>,
    /// Held while the database is flushed; holds how many writes the last flush covered.
    flushing: Arc<tokio::sync::Mutex<u64>>,
    /// How many writes there have been (each taken under `writing`).
    written: Arc<std::sync::atomic::AtomicU64>,
    /// The cutoff of the last forgetting of old deliveries.
    pruned: Arc<std::sync::atomic::AtomicU64>,
}

impl Store {
    /// Opens (or creates) the sled database in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let engine = SledEngine::open(dir, &Tree::ALL.map(Tree::name), CACHE_BYTES)?;
        Ok(Self::over(Arc::new(engine)))
    }

    /// A store that forgets everything when dropped, for tests.
    pub fn in_memory() -> Self {
        Self::over(Arc::new(MemoryEngine::new()))
    }

    /// The store over `engine`.
    pub fn over(engine: Arc<dyn Engine>) -> Self {
        Self {
            engine,
            writing: Arc::default(),
            flushing: Arc::default(),
            written: Arc::default(),
            pruned: Arc::default(),
        }
    }

    /// Records `alerts` received on `source`'s route `route` at `now`, and marks each for
    /// delivery; durable when this returns.
    pub async fn accept(
        &self,
        source: Source,
        route: &str,
        alerts: &[Alert],
        now: u64,
    ) -> Result<(), StoreError> {
        self.accept_once(source, route, alerts, now, None)
            .await
            .map(drop)
    }

    /// As [`Self::accept`], once per signed `delivery`: one already accepted stores nothing.
    /// The delivery is recorded after its alerts, so a crash in between leaves the sender's
    /// retry welcome (a repeat of the same alerts), never a delivery without its alerts.
    /// Deliveries are forgotten once their window has passed: their time alone refuses them.
    pub async fn accept_once(
        &self,
        source: Source,
        route: &str,
        alerts: &[Alert],
        now: u64,
        delivery: Option<&Delivery>,
    ) -> Result<Accepted, StoreError> {
        {
            let _writing = self.writing.lock().await;
            let deliveries = Tree::Deliveries.name();
            if let Some(delivery) = delivery {
                if self
                    .engine
                    .get(deliveries, delivery.id.as_bytes())?
                    .is_some()
                {
                    return Ok(Accepted::Again);
                }
            }
            for alert in alerts {
                let key = AlertRecord::key(source, route, &alert.fingerprint);
                let record = next(self.alert(&key)?, source, route, alert, now);
                // Marked first: a crash in between leaves a mark on the old state (delivered
                // again, the same), never a new state without its mark.
                match record.placement {
                    Some(Placement::Burst(id)) => self.touch_burst(id)?,
                    _ => {
                        self.engine
                            .insert(Tree::Outbox.name(), key.as_bytes(), &[])?;
                    }
                }
                self.engine
                    .insert(Tree::Alerts.name(), key.as_bytes(), &encode(&key, &record)?)?;
            }
            if let Some(delivery) = delivery {
                self.forget_deliveries_before(now)?;
                self.engine.insert(
                    deliveries,
                    delivery.id.as_bytes(),
                    &delivery.fresh_until().to_be_bytes(),
                )?;
            }
            self.wrote();
        }
        self.flush().await?;
        Ok(Accepted::New)
    }

    /// Forgets deliveries that no replay could pass for fresh at `cutoff` any more, at most
    /// once a replay window. (Stores of the version before windows per source hold when a
    /// delivery was made: read as its end, it goes 5 minutes early.)
    fn forget_deliveries_before(&self, cutoff: u64) -> Result<(), StoreError> {
        let last = self.pruned.load(std::sync::atomic::Ordering::Relaxed);
        if cutoff.saturating_sub(last) < REPLAY_WINDOW_MILLIS {
            return Ok(());
        }
        let deliveries = Tree::Deliveries.name();
        for (key, until) in self.engine.scan_prefix(deliveries, b"")? {
            let until = until.try_into().map(u64::from_be_bytes).unwrap_or_default();
            if until < cutoff {
                self.engine.remove(deliveries, &key)?;
            }
        }
        self.pruned
            .store(cutoff, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// How many deliveries are remembered.
    pub fn deliveries(&self) -> usize {
        self.engine.len(Tree::Deliveries.name())
    }

    /// The alerts and bursts whose message is behind.
    pub fn pending(&self) -> Result<Vec<Pending>, StoreError> {
        self.engine
            .keys(Tree::Outbox.name())?
            .into_iter()
            .map(|key| {
                let key = String::from_utf8_lossy(&key).into_owned();
                Ok(match key.strip_prefix(BURST_PREFIX).map(str::parse) {
                    Some(Ok(id)) => Pending::Burst(id),
                    _ => Pending::Alert(key),
                })
            })
            .collect()
    }

    /// Whether the homeserver's event `event_id` is seen here for the first time, at `now`;
    /// durable when this returns.
    pub async fn first_time(&self, event_id: &str, now: u64) -> Result<bool, StoreError> {
        {
            let _writing = self.writing.lock().await;
            if self
                .engine
                .insert(Tree::Events.name(), event_id.as_bytes(), &now.to_be_bytes())?
                .is_some()
            {
                return Ok(false);
            }
            self.wrote();
        }
        self.flush().await?;
        Ok(true)
    }

    /// A new burst's ID; IDs never repeat, across restarts too.
    pub fn next_burst_id(&self) -> Result<u64, StoreError> {
        Ok(self.engine.generate_id()?)
    }

    /// Places alerts that have no message yet: each `(key, first_seen, placement)` whose
    /// episode is still `first_seen` and still unplaced. A burst named by a placement that does
    /// not exist yet is created from `new_bursts`. Durable when this returns.
    pub async fn place(
        &self,
        placements: &[(String, u64, Placement)],
        new_bursts: &[BurstRecord],
    ) -> Result<(), StoreError> {
        {
            let _writing = self.writing.lock().await;
            for burst in new_bursts {
                let key = burst_key(burst.id);
                if self
                    .engine
                    .get(Tree::Bursts.name(), key.as_bytes())?
                    .is_none()
                {
                    self.engine.insert(
                        Tree::Bursts.name(),
                        key.as_bytes(),
                        &encode(&key, burst)?,
                    )?;
                }
            }
            // Bursts are marked first: what a crash leaves of this (sled keeps a prefix of the
            // writes) may be a burst edited once more for nothing, never an alert placed in a
            // burst whose message does not count it.
            let touched: std::collections::BTreeSet<u64> = placements
                .iter()
                .filter_map(|(_, _, placement)| match placement {
                    Placement::Burst(id) => Some(*id),
                    Placement::Own => None,
                })
                .collect();
            for id in &touched {
                self.touch_burst(*id)?;
            }
            for (key, first_seen, placement) in placements {
                let Some(mut record) = self.alert(key)? else {
                    continue;
                };
                if record.first_seen != *first_seen
                    || record.placement.is_some()
                    || record.event_id.is_some()
                {
                    continue;
                }
                record.placement = Some(*placement);
                if let Placement::Burst(id) = placement {
                    self.engine.insert(
                        Tree::Members.name(),
                        &member_key(*id, key),
                        &first_seen.to_be_bytes(),
                    )?;
                }
                self.engine
                    .insert(Tree::Alerts.name(), key.as_bytes(), &encode(key, &record)?)?;
                if let Placement::Burst(_) = placement {
                    // Its burst carries it from now on.
                    self.engine.remove(Tree::Outbox.name(), key.as_bytes())?;
                }
            }
            self.wrote();
        }
        self.flush().await
    }

    /// Takes `item` out of the outbox if it has nothing to deliver: a burst carries the alert,
    /// or there is no such alert or burst. Checked here, with writes held: an acceptance marks
    /// an alert before it writes its record, and a mark seen in between is not garbage.
    pub async fn settle(&self, item: &Pending) -> Result<(), StoreError> {
        {
            let _writing = self.writing.lock().await;
            let (key, settled) = match item {
                Pending::Alert(key) => (
                    key.clone(),
                    self.alert(key)?.is_none_or(|record| {
                        record.ended.is_empty()
                            && matches!(record.placement, Some(Placement::Burst(_)))
                    }),
                ),
                Pending::Burst(id) => (burst_key(*id), self.burst(*id)?.is_none()),
            };
            if !settled {
                return Ok(());
            }
            self.engine.remove(Tree::Outbox.name(), key.as_bytes())?;
            self.wrote();
        }
        self.flush().await
    }

    /// Takes `item` out of the outbox for good, with the ended episodes an alert still held:
    /// the homeserver refused its message.
    pub async fn drop_refused(&self, item: &Pending) -> Result<(), StoreError> {
        let key = match item {
            Pending::Alert(key) => key.clone(),
            Pending::Burst(id) => burst_key(*id),
        };
        {
            let _writing = self.writing.lock().await;
            if let Some(mut record) = self.alert(&key)?.filter(|record| !record.ended.is_empty()) {
                record.ended.clear();
                self.engine
                    .insert(Tree::Alerts.name(), key.as_bytes(), &encode(&key, &record)?)?;
            }
            self.engine.remove(Tree::Outbox.name(), key.as_bytes())?;
            self.wrote();
        }
        self.flush().await
    }

    /// How many alerts' messages are behind.
    pub fn depth(&self) -> usize {
        self.engine.len(Tree::Outbox.name())
    }

    /// The alert stored under `key`.
    pub fn alert(&self, key: &str) -> Result<Option<AlertRecord>, StoreError> {
        let Some(bytes) = self.engine.get(Tree::Alerts.name(), key.as_bytes())? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| StoreError::Corrupt {
                key: key.to_owned(),
                source,
            })
    }

    /// Records that the message of the alert's episode `first_seen` shows `shown` (posted as
    /// `event_id`), and takes the alert out of the outbox unless it changed meanwhile or an
    /// episode's message is still behind; durable when this returns.
    pub async fn delivered(
        &self,
        key: &str,
        first_seen: u64,
        shown: u64,
        event_id: &str,
    ) -> Result<(), StoreError> {
        {
            let _writing = self.writing.lock().await;
            match self.alert(key)? {
                None => {
                    self.engine.remove(Tree::Outbox.name(), key.as_bytes())?;
                }
                Some(mut record) => {
                    let episode = if record.first_seen == first_seen {
                        Some(&mut record)
                    } else {
                        record
                            .ended
                            .iter_mut()
                            .find(|ended| ended.first_seen == first_seen)
                    };
                    if let Some(episode) = episode {
                        episode.shown = episode.shown.max(shown);
                        episode.event_id = Some(event_id.to_owned());
                    }
                    record.ended.retain(|ended| ended.shown < ended.version);
                    self.engine.insert(
                        Tree::Alerts.name(),
                        key.as_bytes(),
                        &encode(key, &record)?,
                    )?;
                    if record.shown >= record.version && record.ended.is_empty() {
                        self.engine.remove(Tree::Outbox.name(), key.as_bytes())?;
                    }
                }
            }
            self.wrote();
        }
        self.flush().await
    }

    /// Makes every write so far durable. One flush at a time, on a blocking thread, covering
    /// every write before it began: callers that waited meanwhile and find their writes covered
    /// return at once (a group commit), so concurrent webhooks share flushes.
    async fn flush(&self) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering;
        let mine = self.written.load(Ordering::Acquire);
        let mut covered = self.flushing.lock().await;
        if *covered >= mine {
            return Ok(());
        }
        let upto = self.written.load(Ordering::Acquire);
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || engine.flush())
            .await
            .map_err(|error| {
                StoreError::Engine(brigade_core::engine::EngineError(error.to_string()))
            })??;
        *covered = upto;
        Ok(())
    }

    /// Counts a write, for [`Self::flush`]; called with `writing` held, after the write.
    fn wrote(&self) {
        self.written
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }
}

fn encode(key: &str, record: &impl Serialize) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(record).map_err(|source| StoreError::Corrupt {
        key: key.to_owned(),
        source,
    })
}
