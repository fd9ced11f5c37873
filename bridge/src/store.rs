//! The bridge's sled database: each alert's state, and the outbox of alerts whose message is
//! behind their state.
//!
//! An accepted webhook changes the alerts' states and marks them in the outbox, then flushes:
//! only then is it answered 202. Writes go one at a time (sled 0.34's multi-tree transactions
//! deadlock against its flushes under concurrent webhooks, seen here), so a delivery never
//! reads half of an acceptance. The outbox holds alert keys, not
//! messages: however many repeats arrive before the homeserver takes the next message, the
//! alert's one message is brought to the latest state once.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::alert::{Alert, AlertStatus, Source};

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
    /// Held while an alert is read, changed and written back.
    writing: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Held while the database is flushed.
    flushing: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Store {
    /// Opens (or creates) the database in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let db = sled::open(dir)?;
        let alerts = db.open_tree("alerts")?;
        let outbox = db.open_tree("outbox")?;
        Ok(Self {
            db,
            alerts,
            outbox,
            writing: std::sync::Arc::default(),
            flushing: std::sync::Arc::default(),
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
                self.outbox.insert(key.as_bytes(), &[])?;
                self.alerts.insert(key.as_bytes(), encode(&key, &record)?)?;
            }
        }
        self.flush().await
    }

    /// The keys of alerts whose message is behind, oldest mark first.
    pub fn pending(&self) -> Result<Vec<String>, StoreError> {
        self.outbox
            .iter()
            .keys()
            .map(|key| Ok(String::from_utf8_lossy(&key?).into_owned()))
            .collect()
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
        }
        self.flush().await
    }

    /// Makes every write so far durable. Not sled's `flush_async`: its flushes wait in sled's own
    /// thread pool for writes queued behind them in that pool, and a few dozen concurrent
    /// webhooks deadlocked it (seen here). One flush at a time, on a blocking thread; webhooks
    /// waiting meanwhile find their writes covered by the next one.
    async fn flush(&self) -> Result<(), StoreError> {
        let _flushing = self.flushing.lock().await;
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(|error| StoreError::Sled(sled::Error::Io(std::io::Error::other(error))))??;
        Ok(())
    }
}

fn encode(key: &str, record: &AlertRecord) -> Result<Vec<u8>, StoreError> {
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
        assert_eq!(store.pending().expect("pending"), vec![key.clone()]);
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
}
