//! Prometheus metrics and the sync health the HTTP endpoints report.

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};

use brigade_core::clock::Clock;
use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet, EncodeLabelValue},
    metrics::{counter::Counter, family::Family, gauge::Gauge},
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
        Self {
            registry,
            commands,
            syncs,
            sync_lag,
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

    /// Counts one sync request.
    pub fn sync(&self, ok: bool) {
        let result = if ok { "ok" } else { "error" };
        self.syncs.get_or_create(&SyncLabels { result }).inc();
    }

    /// The metrics in Prometheus' text format, with the sync lag read from `health` now.
    pub fn render(&self, health: &Health) -> String {
        self.sync_lag.set(health.sync_lag_seconds().unwrap_or(-1.0));
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
        let text = metrics.render(&health);
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
            .render(&health)
            .contains("brigade_sync_lag_seconds 2.5"));
    }
}
