//! Prometheus metrics and the sync health the HTTP endpoints report.

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc, Mutex,
};

use brigade_core::{clock::Clock, record::IncidentRecord};
use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet, EncodeLabelValue},
    metrics::{
        counter::Counter,
        family::{Family, MetricConstructor},
        gauge::Gauge,
        histogram::Histogram,
    },
    registry::Registry,
};

/// How a command ended, as counted in `brigade_commands_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EncodeLabelValue)]
pub enum CommandOutcome {
    /// Carried out (✅).
    Ok,
    /// Refused or malformed (❓).
    Refused,
    /// Older than `commands.max_age` when first seen: not run.
    Stale,
    /// The answer could not be sent.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CommandLabels {
    command: String,
    outcome: CommandOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct SyncLabels {
    result: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ForwardLabels {
    outcome: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct DecryptLabels {
    outcome: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct IncidentLabels {
    severity: String,
    status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct TypeLabels {
    r#type: String,
}

/// Buckets from a minute to a day, in seconds.
#[derive(Debug, Clone, Copy)]
struct DurationBuckets;

impl MetricConstructor<Histogram> for DurationBuckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new([
            60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14_400.0, 43_200.0, 86_400.0,
        ])
    }
}

type Durations = Family<TypeLabels, Histogram, DurationBuckets>;

/// When the bot last completed a sync with its homeserver.
#[derive(Debug)]
pub struct Health {
    clock: Arc<dyn Clock>,
    /// Milliseconds since the epoch of the last successful sync; zero before the first.
    last_sync_millis: AtomicU64,
}

impl Health {
    /// No sync yet.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            last_sync_millis: AtomicU64::new(0),
        }
    }

    /// Records a successful sync now.
    pub fn synced(&self) {
        self.last_sync_millis
            .store(self.clock.now_millis(), Ordering::Relaxed);
    }

    /// Seconds since the last successful sync, or `None` before the first.
    pub fn sync_lag_seconds(&self) -> Option<f64> {
        let last = self.last_sync_millis.load(Ordering::Relaxed);
        // Lossy above 2^53 ms, which is far beyond any lag worth reporting.
        #[allow(clippy::cast_precision_loss)]
        (last != 0).then(|| self.clock.now_millis().saturating_sub(last) as f64 / 1000.0)
    }
}

/// The bot's metrics registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    commands: Family<CommandLabels, Counter>,
    syncs: Family<SyncLabels, Counter>,
    sync_lag: Gauge<f64, AtomicU64>,
    forwards: Family<ForwardLabels, Counter>,
    undecrypted: Family<DecryptLabels, Counter>,
    undecrypted_held: Gauge,
    incidents: Family<IncidentLabels, Gauge>,
    to_acknowledge: Durations,
    to_resolve: Durations,
    /// Held while the incident metrics are rebuilt from the store and encoded.
    rendering: Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("brigade");
        let commands = Family::<CommandLabels, Counter>::default();
        registry.register(
            "commands",
            "Commands handled, by name and outcome",
            commands.clone(),
        );
        let syncs = Family::<SyncLabels, Counter>::default();
        registry.register(
            "syncs",
            "Sync requests to the homeserver, by result",
            syncs.clone(),
        );
        let sync_lag = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "sync_lag_seconds",
            "Seconds since the last successful sync (-1 before the first)",
            sync_lag.clone(),
        );
        let forwards = Family::<ForwardLabels, Counter>::default();
        registry.register(
            "forwards",
            "Reaction forwards: done, or refused by reason",
            forwards.clone(),
        );
        let undecrypted = Family::<DecryptLabels, Counter>::default();
        registry.register(
            "undecryptable_events",
            "Events that could not be decrypted when they came: held, decrypted later, or never decrypted",
            undecrypted.clone(),
        );
        let undecrypted_held = Gauge::default();
        registry.register(
            "undecryptable_events_held",
            "Events held now until their room keys arrive",
            undecrypted_held.clone(),
        );
        let incidents = Family::<IncidentLabels, Gauge>::default();
        registry.register(
            "incidents",
            "Incidents by severity and status",
            incidents.clone(),
        );
        let to_acknowledge = Durations::new_with_constructor(DurationBuckets);
        registry.register(
            "incident_time_to_acknowledge_seconds",
            "Time from an incident's start (or declaration) to its first acknowledgement, by type",
            to_acknowledge.clone(),
        );
        let to_resolve = Durations::new_with_constructor(DurationBuckets);
        registry.register(
            "incident_time_to_resolve_seconds",
            "Time from an incident's start (or declaration) to its resolution, by type",
            to_resolve.clone(),
        );
        Self {
            registry,
            commands,
            syncs,
            sync_lag,
            forwards,
            undecrypted,
            undecrypted_held,
            incidents,
            to_acknowledge,
            to_resolve,
            rendering: Mutex::new(()),
        }
    }

    /// Counts one command.
    pub fn command(&self, command: &str, outcome: CommandOutcome) {
        self.commands
            .get_or_create(&CommandLabels {
                command: command.to_owned(),
                outcome,
            })
            .inc();
    }

    /// Counts one forward: `done`, or the reason it was refused.
    pub fn forward(&self, outcome: &'static str) {
        self.forwards
            .get_or_create(&ForwardLabels { outcome })
            .inc();
    }

    /// Counts an event that could not be decrypted when it came: `held`, `decrypted` (later,
    /// and handled) or `never_decrypted`.
    pub fn undecrypted(&self, outcome: &'static str) {
        self.undecrypted
            .get_or_create(&DecryptLabels { outcome })
            .inc();
    }

    /// Sets how many events are held until their room keys arrive.
    pub fn undecrypted_held(&self, held: usize) {
        self.undecrypted_held
            .set(i64::try_from(held).unwrap_or(i64::MAX));
    }

    /// Counts one sync request.
    pub fn sync(&self, ok: bool) {
        let result = if ok { "ok" } else { "error" };
        self.syncs.get_or_create(&SyncLabels { result }).inc();
    }

    /// The metrics in Prometheus' text format, with the sync lag read from `health` now and
    /// the incident metrics from `incidents` (every stored incident): the store is their
    /// truth, so they survive restarts.
    pub fn render(&self, health: &Health, incidents: &[IncidentRecord]) -> String {
        let _rendering = self
            .rendering
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.sync_lag.set(health.sync_lag_seconds().unwrap_or(-1.0));
        self.incidents.clear();
        self.to_acknowledge.clear();
        self.to_resolve.clear();
        for record in incidents {
            let incident = &record.incident;
            let labels = IncidentLabels {
                severity: incident.severity.to_string(),
                status: incident.status.to_string(),
            };
            self.incidents.get_or_create(&labels).inc();
            let kind = TypeLabels {
                r#type: incident.kind.clone(),
            };
            let durations = incident.timestamps.durations();
            // Milliseconds to seconds; exact far beyond any incident's length.
            #[allow(clippy::cast_precision_loss)]
            let seconds = |millis: u64| millis as f64 / 1000.0;
            if let Some(took) = durations.to_acknowledge {
                self.to_acknowledge
                    .get_or_create(&kind)
                    .observe(seconds(took));
            }
            if let Some(took) = durations.to_resolve {
                self.to_resolve.get_or_create(&kind).observe(seconds(took));
            }
        }
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use brigade_core::clock::TestClock;

    use super::*;

    #[test]
    fn commands_are_counted_by_name_and_outcome() {
        let metrics = Metrics::new();
        let health = Health::new(Arc::new(TestClock::at_millis(1)));
        metrics.command("help", CommandOutcome::Ok);
        metrics.command("help", CommandOutcome::Ok);
        metrics.command("unknown", CommandOutcome::Refused);
        let text = metrics.render(&health, &[]);
        assert!(
            text.contains(r#"brigade_commands_total{command="help",outcome="Ok"} 2"#),
            "{text}"
        );
        assert!(text.contains(r#"outcome="Refused"} 1"#), "{text}");
    }

    #[test]
    fn sync_lag_follows_the_clock() {
        let clock = Arc::new(TestClock::at_millis(10_000));
        let health = Health::new(clock.clone());
        assert_eq!(health.sync_lag_seconds(), None);
        health.synced();
        clock.advance(Duration::from_millis(2_500));
        assert_eq!(health.sync_lag_seconds(), Some(2.5));
        assert!(Metrics::new()
            .render(&health, &[])
            .contains("brigade_sync_lag_seconds 2.5"));
    }

    #[test]
    fn incidents_are_counted_and_their_durations_observed_from_the_store() {
        use brigade_core::{
            incident::{Severity, Status},
            testing,
        };
        use matrix_sdk::ruma::user_id;

        let metrics = Metrics::new();
        let health = Health::new(Arc::new(TestClock::at_millis(1)));
        let mut resolved = testing::record(1, "a", Severity::Sev1, 0);
        let alice = user_id!("@alice:example.org");
        resolved.incident.acknowledge(120_000, alice);
        resolved
            .incident
            .set_status(Status::Resolved, 4_000_000, alice)
            .expect("resolved");
        let open = testing::record(2, "b", Severity::Sev1, 0);
        let text = metrics.render(&health, &[resolved.clone(), open]);
        for line in [
            r#"brigade_incidents{severity="SEV1",status="resolved"} 1"#,
            r#"brigade_incidents{severity="SEV1",status="investigating"} 1"#,
            r#"brigade_incident_time_to_acknowledge_seconds_sum{type="operations"} 120.0"#,
            r#"brigade_incident_time_to_resolve_seconds_bucket{le="3600.0",type="operations"} 0"#,
            r#"brigade_incident_time_to_resolve_seconds_bucket{le="7200.0",type="operations"} 1"#,
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
        // Read again from the store, not added up.
        let text = metrics.render(&health, &[resolved]);
        assert!(
            text.contains(
                r#"brigade_incident_time_to_acknowledge_seconds_count{type="operations"} 1"#
            ),
            "{text}"
        );
        assert!(!text.contains(r#"status="investigating""#), "{text}");
    }
}
