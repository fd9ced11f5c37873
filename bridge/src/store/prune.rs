//! Forgetting what is over: alerts resolved long ago whose messages say so, the bursts that
//! counted only such alerts, silences that ended long ago, and homeserver events seen long
//! ago. What is firing, behind in the outbox or recent is kept, so the store grows with the
//! alerts that are live, not with every alert there ever was.
//!
//! An alert forgotten and then received firing again starts a new episode with a new
//! message, as it would have anyway (it had resolved); a resolution of it received again (no
//! sender repeats one for a week) would be posted as an alert first seen resolved. An
//! invitation seen again only has held routes tried again. A record this version cannot read
//! is kept and logged, and the rest pruned.

use brigade_core::clock::millis;

use super::{
    records::burst_key, silences::SilenceRecord, AlertRecord, BurstRecord, Forgotten, Placement,
    Store, StoreError, Tree,
};
use crate::alert::AlertStatus;

/// How long a resolved alert is kept after it was last received (Alertmanager and the others
/// stop repeating a resolution long before).
const ALERTS_KEPT: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 60 * 60);
/// How long a homeserver event is remembered (the homeserver retries a transaction only until
/// the bridge answers it).
const EVENTS_KEPT: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

impl Store {
    /// Forgets, at `now`, what is over; durable when this returns.
    pub async fn prune(&self, now: u64) -> Result<Forgotten, StoreError> {
        let mut forgotten = Forgotten::default();
        {
            let _writing = self.writing.lock().await;
            let before = now.saturating_sub(millis(ALERTS_KEPT));
            for (key, bytes) in self.engine.scan_prefix(Tree::Bursts.name(), b"")? {
                let Some(burst) = readable::<BurstRecord>(&key, &bytes) else {
                    continue;
                };
                if let Some(alerts) = self.forget_burst(&burst, before)? {
                    forgotten.bursts += 1;
                    forgotten.alerts += alerts;
                }
            }
            for (key, bytes) in self.engine.scan_prefix(Tree::Alerts.name(), b"")? {
                let Some(record) = readable::<AlertRecord>(&key, &bytes) else {
                    continue;
                };
                let own = !matches!(record.placement, Some(Placement::Burst(_)));
                if own && self.is_over(&key, &record, before)? {
                    self.engine.remove(Tree::Alerts.name(), &key)?;
                    forgotten.alerts += 1;
                }
            }
            // A silence that ended a week ago is not listed, and `unsilence` has nothing to
            // end; forgotten, it is "not one of this room's" to both.
            for (key, bytes) in self.engine.scan_prefix(Tree::Silences.name(), b"")? {
                let Some(silence) = readable::<SilenceRecord>(&key, &bytes) else {
                    continue;
                };
                if silence.ends < before {
                    self.engine.remove(Tree::Silences.name(), &key)?;
                    forgotten.silences += 1;
                }
            }
            let before = now.saturating_sub(millis(EVENTS_KEPT));
            for (key, seen) in self.engine.scan_prefix(Tree::Events.name(), b"")? {
                let seen = seen.try_into().map_or(0, u64::from_be_bytes);
                if seen < before {
                    self.engine.remove(Tree::Events.name(), &key)?;
                    forgotten.events += 1;
                }
            }
            self.wrote();
        }
        self.flush().await?;
        Ok(forgotten)
    }

    /// Forgets `burst`, its memberships and the alerts it alone shows, if it is over: in step,
    /// begun `before`, every alert it shows over too, and none of its alerts received since
    /// (one that has begun a new episode is kept, its membership not; while one of them
    /// repeats, the outbox may still hold the burst open for new alerts). Returns how many
    /// alerts went with it.
    fn forget_burst(&self, burst: &BurstRecord, before: u64) -> Result<Option<usize>, StoreError> {
        let key = burst_key(burst.id);
        if burst.started >= before || !burst.in_step() || self.outboxed(key.as_bytes())? {
            return Ok(None);
        }
        let placement = Some(Placement::Burst(burst.id));
        let members = self
            .engine
            .scan_prefix(Tree::Members.name(), &burst.id.to_be_bytes())?;
        let mut alerts = Vec::new();
        for (member, _) in &members {
            let alert = &member[8..];
            let Some(record) = self.alert(&String::from_utf8_lossy(alert))? else {
                continue;
            };
            if record.last_seen >= before {
                return Ok(None);
            }
            if record.placement != placement {
                continue;
            }
            if !self.is_over(alert, &record, before)? {
                return Ok(None);
            }
            alerts.push(alert);
        }
        for alert in &alerts {
            self.engine.remove(Tree::Alerts.name(), alert)?;
        }
        for (member, _) in &members {
            self.engine.remove(Tree::Members.name(), member)?;
        }
        self.engine.remove(Tree::Bursts.name(), key.as_bytes())?;
        Ok(Some(alerts.len()))
    }

    /// Whether the alert under `key` is over: resolved, last received `before`, and nothing of
    /// it behind in the outbox.
    fn is_over(&self, key: &[u8], record: &AlertRecord, before: u64) -> Result<bool, StoreError> {
        Ok(record.status == AlertStatus::Resolved
            && record.last_seen < before
            && record.ended.is_empty()
            && !self.outboxed(key)?)
    }

    fn outboxed(&self, key: &[u8]) -> Result<bool, StoreError> {
        Ok(self.engine.get(Tree::Outbox.name(), key)?.is_some())
    }
}

/// The record under `key`, or `None`, logged, when this version cannot read it.
fn readable<T: serde::de::DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Option<T> {
    serde_json::from_slice(bytes)
        .inspect_err(|error| {
            let key = String::from_utf8_lossy(key).replace('\u{0}', "/");
            tracing::warn!(%key, %error, "a stored record cannot be read: kept, not pruned");
        })
        .ok()
}

#[cfg(test)]
mod tests {
    use super::{super::conformance::alert, *};
    use crate::alert::Source;

    const DAY: u64 = 24 * 60 * 60 * 1000;

    async fn accept(store: &Store, fingerprint: &str, status: AlertStatus, now: u64) -> String {
        store
            .accept(Source::Generic, "prod", &[alert(fingerprint, status)], now)
            .await
            .expect("accepted");
        AlertRecord::key(Source::Generic, "prod", fingerprint)
    }

    /// Brings the alert's own message in step.
    async fn deliver(store: &Store, key: &str) {
        let record = store.alert(key).expect("read").expect("stored");
        store
            .delivered(key, record.first_seen, record.version, "$m")
            .await
            .expect("delivered");
    }

    /// A burst begun at `started` counting `fingerprint`, its message in step.
    async fn counted(store: &Store, fingerprint: &str, started: u64) -> (u64, String) {
        let key = accept(store, fingerprint, AlertStatus::Firing, started).await;
        let id = store.next_burst_id().expect("an ID");
        let burst = BurstRecord {
            id,
            source: Source::Generic,
            route: "prod".to_owned(),
            room_id: "!r:example.org".to_owned(),
            started,
            version: 0,
            shown: 0,
            event_id: None,
            list_shown: Some(0),
            list_event_id: None,
        };
        store
            .place(&[(key.clone(), started, Placement::Burst(id))], &[burst])
            .await
            .expect("placed");
        (id, key)
    }

    async fn in_step(store: &Store, id: u64) {
        let burst = store.burst(id).expect("read").expect("stored");
        store
            .burst_delivered(id, burst.version, "$burst")
            .await
            .expect("delivered");
        store
            .burst_list_delivered(id, burst.version, "$list")
            .await
            .expect("delivered");
    }

    async fn what_is_over_is_forgotten_and_the_rest_kept(store: Store) {
        let over = accept(&store, "over", AlertStatus::Firing, 1_000).await;
        deliver(&store, &over).await;
        accept(&store, "over", AlertStatus::Resolved, 2_000).await;
        deliver(&store, &over).await;
        let firing = accept(&store, "firing", AlertStatus::Firing, 1_000).await;
        deliver(&store, &firing).await;
        let behind = accept(&store, "behind", AlertStatus::Firing, 1_000).await;
        deliver(&store, &behind).await;
        accept(&store, "behind", AlertStatus::Resolved, 2_000).await;
        let recent = accept(&store, "recent", AlertStatus::Resolved, 7 * DAY).await;
        deliver(&store, &recent).await;

        let (done, done_member) = counted(&store, "counted", 1_000).await;
        accept(&store, "counted", AlertStatus::Resolved, 2_000).await;
        in_step(&store, done).await;
        let (live, live_member) = counted(&store, "still", 1_000).await;
        in_step(&store, live).await;
        // Resolved, then firing again just now: its burst may still be open.
        let (flapping, _) = counted(&store, "flapping", 1_000).await;
        accept(&store, "flapping", AlertStatus::Resolved, 2_000).await;
        in_step(&store, flapping).await;
        accept(&store, "flapping", AlertStatus::Firing, 7 * DAY).await;

        assert!(store.first_time("$old", 1_000).await.expect("read"));
        assert!(store.first_time("$new", 7 * DAY).await.expect("read"));
        let silence = |id: &str, ends| SilenceRecord {
            id: id.to_owned(),
            room_id: "!r:example.org".to_owned(),
            matchers: "alertname=DiskFull".to_owned(),
            ends,
            by: "@alice:example.org".to_owned(),
            ended_by: None,
        };
        for record in [silence("ended", 1_000), silence("lately", 7 * DAY)] {
            store.keep_silence(&record).await.expect("kept");
        }

        let now = 2_000 + 7 * DAY + 1;
        let forgotten = store.prune(now).await.expect("pruned");
        assert_eq!(
            forgotten,
            Forgotten {
                alerts: 2,
                bursts: 1,
                events: 1,
                silences: 1,
            }
        );
        assert_eq!(store.silence("ended").expect("read"), None);
        assert!(store.silence("lately").expect("read").is_some());
        for gone in [&over, &done_member] {
            assert_eq!(store.alert(gone).expect("read"), None, "{gone}");
        }
        for kept in [&firing, &behind, &recent, &live_member] {
            assert!(store.alert(kept).expect("read").is_some(), "{kept}");
        }
        assert_eq!(store.burst(done).expect("read"), None);
        assert!(store.burst_members(done).expect("read").is_empty());
        assert_eq!(store.burst_members(live).expect("read").len(), 1);
        assert!(store.burst(flapping).expect("read").is_some());
        assert!(store.first_time("$old", now).await.expect("read"));
        assert!(!store.first_time("$new", now).await.expect("read"));

        // Firing again, a forgotten alert starts a new episode, as it would have.
        accept(&store, "over", AlertStatus::Firing, now).await;
        let again = store.alert(&over).expect("read").expect("stored");
        assert_eq!((again.first_seen, again.count, again.shown), (now, 1, 0));
        assert_eq!(
            store.prune(now).await.expect("pruned"),
            Forgotten::default()
        );
    }

    #[tokio::test]
    async fn what_is_over_is_forgotten_and_the_rest_kept_in_memory_and_in_sled() {
        what_is_over_is_forgotten_and_the_rest_kept(Store::in_memory()).await;
        let dir = tempfile::tempdir().expect("a directory");
        what_is_over_is_forgotten_and_the_rest_kept(Store::open(dir.path()).expect("opened")).await;
    }
}
