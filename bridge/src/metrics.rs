//! Prometheus metrics for `/metrics`: alerts received by route and outcome, the outbox's depth,
//! and how long alerts take from arrival to their message.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ReceivedLabels {
    route: String,
    outcome: &'static str,
}

/// The bridge's counters.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    received: Family<ReceivedLabels, Counter>,
    depth: Gauge,
    refused: Family<RouteLabels, Counter>,
    latency: Histogram,
    send: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Empty counters, registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("brigade_bridge");
        let received = Family::<ReceivedLabels, Counter>::default();
        registry.register(
            "alerts_received",
            "Webhook requests by route and outcome (accepted, unauthorized, malformed, too_large, unknown_route)",
            received.clone(),
        );
        let depth = Gauge::default();
        registry.register(
            "outbox_depth",
            "Alerts whose message is behind their state",
            depth.clone(),
        );
        let refused = Family::<RouteLabels, Counter>::default();
        registry.register(
            "messages_refused",
            "Alert messages the homeserver refused for good (too large, say), by route: dropped from the outbox",
            refused.clone(),
        );
        let buckets = [
            0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
        ];
        let latency = Histogram::new(buckets);
        registry.register(
            "delivery_latency_seconds",
            "From an alert's last arrival to its message sent",
            latency.clone(),
        );
        let send = Histogram::new(buckets);
        registry.register(
            "send_seconds",
            "How long the homeserver takes to take one message",
            send.clone(),
        );
        Self {
            registry,
            received,
            depth,
            refused,
            latency,
            send,
        }
    }

    /// A webhook request to `route` ended as `outcome`.
    pub fn received(&self, route: &str, outcome: &'static str) {
        self.received
            .get_or_create(&ReceivedLabels {
                route: route.to_owned(),
                outcome,
            })
            .inc();
    }

    /// The outbox holds `depth` alerts.
    pub fn outbox_depth(&self, depth: usize) {
        self.depth.set(i64::try_from(depth).unwrap_or(i64::MAX));
    }

    /// The homeserver refused a message of `route` for good.
    pub fn refused(&self, route: &str) {
        self.refused
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .inc();
    }

    /// A message went out after `send`, for an alert last received at `arrived_millis`.
    pub fn delivered(&self, send: Duration, arrived_millis: u64) {
        self.send.observe(send.as_secs_f64());
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |now| u64::try_from(now.as_millis()).unwrap_or(u64::MAX));
        self.latency
            .observe(now.saturating_sub(arrived_millis) as f64 / 1000.0);
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}
