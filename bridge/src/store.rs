//! The bridge's sled database: each alert's state, and the outbox of alerts whose message is
//! behind their state.
//!
//! An accepted webhook changes the alerts' states and marks them in the outbox, then flushes:
//! only then is it answered 202. Writes go one at a time (sled 0.34's multi-tree transactions
//! deadlock against its flushes under concurrent webhooks, seen here), so a delivery never
//! reads half of an acceptance. The outbox holds alert keys, not
//! messages: however many repeats arrive before the homeserver takes the next message, the
//! alert's one message is brought to the latest state once.
//!
//! Before an alert's first message, the outbox places it durably: in a message of its own, or
//! counted in a burst message when its room has had its share of messages (see
//! [`Placement`]). A placement is never taken back, so an alert is never both.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::alert::{Alert, AlertStatus, Source};

/// sled's page cache.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled failed.
    #[error("sled: {0}")]
    Sled(#[from] sled::Error),
    /// A stored value is not what this bridge writes.
    #[error("corrupt record {key}: {source}")]
    Corrupt {
        /// Its key.
        key: String,
        /// Why it does not parse.
        source: serde_json::Error,
    },
}

/// An alert as the bridge keeps it: what it is now, and what its message shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// What sent it.
    pub source: Source,
    /// The route's name.
    pub route: String,
    /// Its fingerprint.
    pub fingerprint: String,
    /// Its latest title.
    pub title: String,
    /// Its latest severity.
    pub severity: Option<brigade_core::incident::Severity>,
    /// Its latest description.
    pub body: String,
    /// Firing or resolved.
    pub status: AlertStatus,
    /// How many times it was received in this episode (since it last started firing).
    pub count: u64,
    /// When this episode began (milliseconds since the Unix epoch): its message's identity.
    pub first_seen: u64,
    /// When it was last received.
    pub last_seen: u64,
    /// Bumped by every change.
    pub version: u64,
    /// The version its message shows.
    pub shown: u64,
    /// Its message in this episode, once posted.
    pub event_id: Option<String>,
    /// Where this episode is shown, once the outbox has decided.
    #[serde(default)]
    pub placement: Option<Placement>,
}

/// Where an alert's episode is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// In a message of its own.
    Own,
    /// Counted in the burst message with this ID.
    Burst(u64),
}

/// A burst message: the alerts of one route that came when their room had had its share of
/// messages, summarised in one message edited as they change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BurstRecord {
    /// Its ID, from sled's durable ID generator.
    pub id: u64,
    /// The route's source.
    pub source: Source,
    /// The route's name.
    pub route: String,
    /// The room it is posted in.
    pub room_id: String,
    /// When it began (milliseconds since the Unix epoch).
    pub started: u64,
    /// Bumped whenever an alert joins it or one of its alerts changes.
    pub version: u64,
    /// The version its message shows.
    pub shown: u64,
    /// Its message, once posted.
    pub event_id: Option<String>,
}

/// What the outbox holds: an alert whose own message is behind, or a burst whose message is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    /// The alert with this key.
    Alert(String),
    /// The burst with this ID.
    Burst(u64),
}

/// The outbox key of burst `id`; alert keys start with a source's name, never with this.
fn burst_key(id: u64) -> String {
    format!("{BURST_PREFIX}{id:020}")
}

const BURST_PREFIX: &str = "burst\u{0}";

/// The key that records alert `key` as a member of burst `id`.
fn member_key(id: u64, key: &str) -> Vec<u8> {
    let mut bytes = id.to_be_bytes().to_vec();
    bytes.extend_from_slice(key.as_bytes());
    bytes
}

impl AlertRecord {
    /// The store key of the alert of `source`'s route `route` with `fingerprint`.
    pub fn key(source: Source, route: &str, fingerprint: &str) -> String {
        format!("{source}\u{0}{route}\u{0}{fingerprint}")
    }

    /// This record's store key.
    pub fn own_key(&self) -> String {
        Self::key(self.source, &self.route, &self.fingerprint)
    }
}

/// The bridge's database.
#[derive(Debug, Clone)]
pub struct Store {
    db: sled::Db,
    alerts: sled::Tree,
    outbox: sled::Tree,
    bursts: sled::Tree,
    members: sled::Tree,
    /// Homeserver events acted on, by event ID.
    events: sled::Tree,
    /// Held while an alert is read, changed and written back.
    writing: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Held while the database is flushed; holds how many writes the last flush covered.
    flushing: std::sync::Arc<tokio::sync::Mutex<u64>>,
    /// How many writes there have been (each taken under `writing`).
    written: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Store {
    /// Opens (or creates) the database in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        // sled's default page cache is 1 GB; the bridge reads back little of what it writes.
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(CACHE_BYTES)
            .open()?;
        let alerts = db.open_tree("alerts")?;
        let outbox = db.open_tree("outbox")?;
        let bursts = db.open_tree("bursts")?;
        let members = db.open_tree("burst_members")?;
        let events = db.open_tree("events")?;
        Ok(Self {
            db,
            alerts,
            outbox,
            bursts,
            members,
            events,
            writing: std::sync::Arc::default(),
            flushing: std::sync::Arc::default(),
            written: std::sync::Arc::default(),
        })
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
        {
            let _writing = self.writing.lock().await;
            for alert in alerts {
                let key = AlertRecord::key(source, route, &alert.fingerprint);
                let record = next(self.alert(&key)?, source, route, alert, now);
                // Marked first: a crash in between leaves a mark on the old state (delivered
                // again, the same), never a new state without its mark.
                match record.placement {
                    Some(Placement::Burst(id)) => self.touch_burst(id)?,
                    _ => {
                        self.outbox.insert(key.as_bytes(), &[])?;
                    }
                }
                self.alerts.insert(key.as_bytes(), encode(&key, &record)?)?;
            }
            self.wrote();
        }
        self.flush().await
    }

    /// The alerts and bursts whose message is behind.
    pub fn pending(&self) -> Result<Vec<Pending>, StoreError> {
        self.outbox
            .iter()
            .keys()
            .map(|key| {
                let key = String::from_utf8_lossy(&key?).into_owned();
                Ok(match key.strip_prefix(BURST_PREFIX).map(str::parse) {
                    Some(Ok(id)) => Pending::Burst(id),
                    _ => Pending::Alert(key),
                })
            })
            .collect()
    }

    /// Whether the homeserver's event `event_id` is seen here for the first time; durable when
    /// this returns.
    pub async fn first_time(&self, event_id: &str) -> Result<bool, StoreError> {
        {
            let _writing = self.writing.lock().await;
            if self.events.insert(event_id.as_bytes(), &[])?.is_some() {
                return Ok(false);
            }
            self.wrote();
        }
        self.flush().await?;
        Ok(true)
    }

    /// A new burst's ID; IDs never repeat, across restarts too.
    pub fn next_burst_id(&self) -> Result<u64, StoreError> {
        Ok(self.db.generate_id()?)
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
                if self.bursts.get(key.as_bytes())?.is_none() {
                    self.bursts.insert(key.as_bytes(), encode(&key, burst)?)?;
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
                    self.members
                        .insert(member_key(*id, key), &first_seen.to_be_bytes())?;
                }
                self.alerts.insert(key.as_bytes(), encode(key, &record)?)?;
                if let Placement::Burst(_) = placement {
                    // Its burst carries it from now on.
                    self.outbox.remove(key.as_bytes())?;
                }
            }
            self.wrote();
        }
        self.flush().await
    }

    /// Burst `id`'s record.
    pub fn burst(&self, id: u64) -> Result<Option<BurstRecord>, StoreError> {
        let key = burst_key(id);
        let Some(bytes) = self.bursts.get(key.as_bytes())? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| StoreError::Corrupt { key, source })
    }

    /// The alerts placed in burst `id`, as they are now (an alert that has since begun a new
    /// episode is included: its episode in the burst ended resolved). A membership whose
    /// placement a crash cut short is not one: that alert is placed again.
    pub fn burst_members(&self, id: u64) -> Result<Vec<AlertRecord>, StoreError> {
        let mut members = Vec::new();
        for entry in self.members.scan_prefix(id.to_be_bytes()) {
            let (member, episode) = entry?;
            let key = String::from_utf8_lossy(&member[8..]).into_owned();
            let episode = episode.as_ref().try_into().map_or(0, u64::from_be_bytes);
            if let Some(record) = self.alert(&key)? {
                let placed = record.placement == Some(Placement::Burst(id));
                if placed || record.first_seen != episode {
                    members.push(record);
                }
            }
        }
        Ok(members)
    }

    /// Marks burst `id` for delivery with a new version; called with `writing` held.
    fn touch_burst(&self, id: u64) -> Result<(), StoreError> {
        let key = burst_key(id);
        if let Some(mut burst) = self.burst(id)? {
            burst.version += 1;
            self.outbox.insert(key.as_bytes(), &[])?;
            self.bursts.insert(key.as_bytes(), encode(&key, &burst)?)?;
        }
        Ok(())
    }

    /// Records that burst `id`'s message shows `shown` (posted as `event_id`), and takes it out
    /// of the outbox unless it changed meanwhile; durable when this returns.
    pub async fn burst_delivered(
        &self,
        id: u64,
        shown: u64,
        event_id: &str,
    ) -> Result<(), StoreError> {
        {
            let _writing = self.writing.lock().await;
            let key = burst_key(id);
            match self.burst(id)? {
                None => {
                    self.outbox.remove(key.as_bytes())?;
                }
                Some(mut burst) => {
                    burst.shown = burst.shown.max(shown);
                    burst.event_id = Some(event_id.to_owned());
                    self.bursts.insert(key.as_bytes(), encode(&key, &burst)?)?;
                    if burst.shown >= burst.version {
                        self.outbox.remove(key.as_bytes())?;
                    }
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
                    self.alert(key)?
                        .is_none_or(|record| matches!(record.placement, Some(Placement::Burst(_)))),
                ),
                Pending::Burst(id) => (burst_key(*id), self.burst(*id)?.is_none()),
            };
            if !settled {
                return Ok(());
            }
            self.outbox.remove(key.as_bytes())?;
            self.wrote();
        }
        self.flush().await
    }

    /// Takes `item` out of the outbox for good: the homeserver refused its message.
    pub async fn drop_refused(&self, item: &Pending) -> Result<(), StoreError> {
        let key = match item {
            Pending::Alert(key) => key.clone(),
            Pending::Burst(id) => burst_key(*id),
        };
        {
            let _writing = self.writing.lock().await;
            self.outbox.remove(key.as_bytes())?;
            self.wrote();
        }
        self.flush().await
    }

    /// How many alerts' messages are behind.
    pub fn depth(&self) -> usize {
        self.outbox.len()
    }

    /// The alert stored under `key`.
    pub fn alert(&self, key: &str) -> Result<Option<AlertRecord>, StoreError> {
        let Some(bytes) = self.alerts.get(key.as_bytes())? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| StoreError::Corrupt {
                key: key.to_owned(),
                source,
            })
    }

    /// Records that the alert's message shows `shown` (posted as `event_id`), and takes it out
    /// of the outbox unless it changed meanwhile; durable when this returns.
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
                    self.outbox.remove(key.as_bytes())?;
                }
                Some(mut record) => {
                    if record.first_seen == first_seen {
                        record.shown = record.shown.max(shown);
                        record.event_id = Some(event_id.to_owned());
                        self.alerts.insert(key.as_bytes(), encode(key, &record)?)?;
                    }
                    if record.shown >= record.version {
                        self.outbox.remove(key.as_bytes())?;
                    }
                }
            }
            self.wrote();
        }
        self.flush().await
    }

    /// Makes every write so far durable. Not sled's `flush_async`: its flushes wait in sled's own
    /// thread pool for writes queued behind them in that pool, and a few dozen concurrent
    /// webhooks deadlocked it (seen here). One flush at a time, on a blocking thread, covering
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
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(|error| StoreError::Sled(sled::Error::Io(std::io::Error::other(error))))??;
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

/// The state after `alert` arrives at `now`: a repeat counts, a resolution resolves, and a
/// firing alert that had resolved starts a new episode (a new message).
fn next(
    previous: Option<AlertRecord>,
    source: Source,
    route: &str,
    alert: &Alert,
    now: u64,
) -> AlertRecord {
    match previous {
        Some(mut record)
            if record.status == AlertStatus::Firing || alert.status == AlertStatus::Resolved =>
        {
            if alert.status == AlertStatus::Firing {
                record.count += 1;
            }
            record.status = alert.status;
            record.title.clone_from(&alert.title);
            record.severity = alert.severity.or(record.severity);
            record.body.clone_from(&alert.body);
            record.last_seen = now;
            record.version += 1;
            record
        }
        previous => AlertRecord {
            source,
            route: route.to_owned(),
            fingerprint: alert.fingerprint.clone(),
            title: alert.title.clone(),
            severity: alert.severity,
            body: alert.body.clone(),
            status: alert.status,
            count: u64::from(alert.status == AlertStatus::Firing),
            // A new episode must not reuse the old one's message or transaction IDs.
            first_seen: previous.map_or(now, |old| now.max(old.first_seen + 1)),
            last_seen: now,
            version: 1,
            shown: 0,
            event_id: None,
            placement: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(fingerprint: &str, status: AlertStatus) -> Alert {
        Alert {
            fingerprint: fingerprint.to_owned(),
            status,
            title: "Disk full".to_owned(),
            severity: None,
            body: String::new(),
        }
    }

    #[tokio::test]
    async fn repeats_count_resolutions_resolve_and_delivery_empties_the_outbox() {
        let dir = tempfile::tempdir().expect("a directory");
        let store = Store::open(dir.path()).expect("opened");
        let firing = alert("a", AlertStatus::Firing);
        for now in 1..=3 {
            store
                .accept(Source::Generic, "prod", std::slice::from_ref(&firing), now)
                .await
                .expect("accepted");
        }
        let key = AlertRecord::key(Source::Generic, "prod", "a");
        assert_eq!(
            store.pending().expect("pending"),
            vec![Pending::Alert(key.clone())]
        );
        let record = store.alert(&key).expect("read").expect("stored");
        assert_eq!((record.count, record.version, record.first_seen), (3, 3, 1));

        store.delivered(&key, 1, 2, "$m").await.expect("delivered");
        assert_eq!(store.depth(), 1, "version 3 is not shown yet");
        store.delivered(&key, 1, 3, "$m").await.expect("delivered");
        assert_eq!(store.depth(), 0);

        let resolved = alert("a", AlertStatus::Resolved);
        store
            .accept(Source::Generic, "prod", &[resolved], 4)
            .await
            .expect("accepted");
        let record = store.alert(&key).expect("read").expect("stored");
        assert_eq!(
            (record.status, record.count, record.event_id.as_deref()),
            (AlertStatus::Resolved, 3, Some("$m"))
        );

        store
            .accept(Source::Generic, "prod", &[firing], 5)
            .await
            .expect("accepted");
        let record = store.alert(&key).expect("read").expect("stored");
        assert_eq!(
            (record.count, record.first_seen, record.event_id),
            (1, 5, None),
            "a new episode"
        );
    }

    #[tokio::test]
    async fn a_placed_burst_carries_its_alerts_and_their_changes() {
        let dir = tempfile::tempdir().expect("a directory");
        let store = Store::open(dir.path()).expect("opened");
        let alerts: Vec<Alert> = (0..3)
            .map(|n| alert(&format!("f{n}"), AlertStatus::Firing))
            .collect();
        store
            .accept(Source::Generic, "prod", &alerts, 1)
            .await
            .expect("accepted");
        let keys: Vec<String> = (0..3)
            .map(|n| AlertRecord::key(Source::Generic, "prod", &format!("f{n}")))
            .collect();
        let id = store.next_burst_id().expect("an ID");
        let burst = BurstRecord {
            id,
            source: Source::Generic,
            route: "prod".to_owned(),
            room_id: "!r:example.org".to_owned(),
            started: 1,
            version: 0,
            shown: 0,
            event_id: None,
        };
        let placements = vec![
            (keys[0].clone(), 1, Placement::Own),
            (keys[1].clone(), 1, Placement::Burst(id)),
            (keys[2].clone(), 1, Placement::Burst(id)),
            // Another episode's placement is not taken.
            (keys[0].clone(), 9, Placement::Burst(id)),
        ];
        store.place(&placements, &[burst]).await.expect("placed");
        assert_eq!(
            store.pending().expect("pending"),
            vec![Pending::Burst(id), Pending::Alert(keys[0].clone())]
        );
        let members = store.burst_members(id).expect("members");
        assert_eq!(members.len(), 2);
        assert_eq!(
            store
                .alert(&keys[0])
                .expect("read")
                .expect("stored")
                .placement,
            Some(Placement::Own),
            "a placement is never taken back"
        );

        store.burst_delivered(id, 1, "$b").await.expect("delivered");
        assert_eq!(
            store.pending().expect("pending"),
            vec![Pending::Alert(keys[0].clone())]
        );
        store
            .accept(
                Source::Generic,
                "prod",
                &[alert("f1", AlertStatus::Resolved)],
                2,
            )
            .await
            .expect("accepted");
        assert_eq!(
            store.pending().expect("pending"),
            vec![Pending::Burst(id), Pending::Alert(keys[0].clone())],
            "a member's change marks its burst, not itself"
        );
        let burst = store.burst(id).expect("read").expect("stored");
        assert_eq!(
            (burst.version, burst.shown, burst.event_id.as_deref()),
            (2, 1, Some("$b"))
        );

        store
            .accept(
                Source::Generic,
                "prod",
                &[alert("f1", AlertStatus::Firing)],
                3,
            )
            .await
            .expect("accepted");
        let record = store.alert(&keys[1]).expect("read").expect("stored");
        assert_eq!(record.placement, None, "a new episode is placed anew");
        assert!(store
            .pending()
            .expect("pending")
            .contains(&Pending::Alert(keys[1].clone())));
    }

    #[tokio::test]
    async fn an_event_is_acted_on_once_across_reopening() {
        let dir = tempfile::tempdir().expect("a directory");
        {
            let store = Store::open(dir.path()).expect("opened");
            assert!(store.first_time("$invite").await.expect("read"));
            assert!(!store.first_time("$invite").await.expect("read"));
        }
        let store = Store::open(dir.path()).expect("opened again");
        assert!(
            !store.first_time("$invite").await.expect("read"),
            "a replay after a restart"
        );
        assert!(store.first_time("$other").await.expect("read"));
    }
}
