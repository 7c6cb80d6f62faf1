//! Prometheus metrics for operators (`GET /metrics`). Labels never carry phone numbers.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::core::intake::record::WorkerRecord;
use crate::store::OutboxStats;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MessageLabels {
    pub keyword: String,
    pub language: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TransitionLabels {
    pub machine: String,
    pub from: String,
    pub to: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub status: String,
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    messages: Family<MessageLabels, Counter>,
    transitions: Family<TransitionLabels, Counter>,
    outbox_depth: Gauge,
    outbox_parked: Gauge,
    outbox_failures: Family<KindLabels, Counter>,
    dispatch_outcomes: Family<KindLabels, Counter>,
    callbacks: Family<KindLabels, Counter>,
    amd_results: Family<KindLabels, Counter>,
    webhook_seconds: Family<RouteLabels, Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("shiftline");
        let messages = Family::default();
        registry.register(
            "messages",
            "Worker texts received, by keyword understood and language",
            messages.clone(),
        );
        let transitions = Family::default();
        registry.register(
            "transitions",
            "Presence and dialogue state changes",
            transitions.clone(),
        );
        let outbox_depth = Gauge::default();
        registry.register(
            "outbox_depth",
            "Commands waiting for Twilio",
            outbox_depth.clone(),
        );
        let outbox_parked = Gauge::default();
        registry.register(
            "outbox_parked",
            "Commands Twilio refused for good, kept for an operator",
            outbox_parked.clone(),
        );
        let outbox_failures = Family::default();
        registry.register(
            "outbox_failures",
            "Failed deliveries, by kind (retry or parked)",
            outbox_failures.clone(),
        );
        let dispatch_outcomes = Family::default();
        registry.register(
            "dispatch_outcomes",
            "How calls to workers ended, by cause",
            dispatch_outcomes.clone(),
        );
        let callbacks = Family::default();
        registry.register(
            "callbacks",
            "Callback requests by what happened to them: requested, returned, abandoned",
            callbacks.clone(),
        );
        let amd_results = Family::default();
        registry.register(
            "amd_results",
            "Answering machine detection verdicts",
            amd_results.clone(),
        );
        let webhook_seconds = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            // 0.25 ms to about 4 s.
            Histogram::new(exponential_buckets(0.00025, 2.0, 15))
        });
        registry.register(
            "webhook_seconds",
            "Time to answer a request, by route",
            webhook_seconds.clone(),
        );
        Self {
            registry,
            messages,
            transitions,
            outbox_depth,
            outbox_parked,
            outbox_failures,
            dispatch_outcomes,
            callbacks,
            amd_results,
            webhook_seconds,
        }
    }

    pub fn message(&self, keyword: &str, language: &str) {
        let labels = MessageLabels {
            keyword: keyword.to_string(),
            language: language.to_string(),
        };
        self.messages.get_or_create(&labels).inc();
    }

    /// Counts the state changes between two versions of a worker's record.
    pub fn worker_changed(&self, before: Option<&WorkerRecord>, after: Option<&WorkerRecord>) {
        let (Some(before), Some(after)) = (before, after) else {
            return;
        };
        let count = |machine: &str, from: String, to: String| {
            if from != to {
                let labels = TransitionLabels {
                    machine: machine.into(),
                    from,
                    to,
                };
                self.transitions.get_or_create(&labels).inc();
            }
        };
        let name = |v: serde_json::Value| v.as_str().unwrap_or_default().to_string();
        count(
            "presence",
            name(serde_json::json!(before.presence)),
            name(serde_json::json!(after.presence)),
        );
        count(
            "dialogue",
            before.dialogue.as_str().into(),
            after.dialogue.as_str().into(),
        );
    }

    pub fn outbox_failure(&self, kind: &str) {
        self.outbox_failures
            .get_or_create(&KindLabels { kind: kind.into() })
            .inc();
    }

    pub fn dispatch_outcome(&self, outcome: &str) {
        self.dispatch_outcomes
            .get_or_create(&KindLabels {
                kind: outcome.into(),
            })
            .inc();
    }

    pub fn callback(&self, what: &str) {
        self.callbacks
            .get_or_create(&KindLabels { kind: what.into() })
            .inc();
    }

    pub fn amd_result(&self, answered_by: &str) {
        self.amd_results
            .get_or_create(&KindLabels {
                kind: answered_by.into(),
            })
            .inc();
    }

    pub fn webhook(&self, route: &str, status: u16, seconds: f64) {
        let labels = RouteLabels {
            route: route.into(),
            status: status.to_string(),
        };
        self.webhook_seconds.get_or_create(&labels).observe(seconds);
    }

    /// The text exposition, with the outbox gauges as the store counts them now.
    pub fn render(&self, outbox: &OutboxStats) -> String {
        self.outbox_depth.set(outbox.pending as i64);
        self.outbox_parked.set(outbox.parked as i64);
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}
