//! Self-telemetry handles: counters, gauges and histograms that are plain atomics on
//! the hot path, registered once in a [`MetricsRegistry`] the runtime serves.
//!
//! Every metric name lives in [`names`], so no component spells one itself.
//!
//! With `service.telemetry.metrics.level: none` the runtime builds a
//! [`MetricsRegistry::disabled`] registry: every handle it gives out does
//! nothing and reads 0. Handles are for telemetry only; a count that logic
//! depends on is kept by its owner.

use std::fmt;
use std::sync::Arc;

use crate::Signal;

mod handles;
mod histogram;
pub mod names;
pub mod reasons;
mod registry;

pub use handles::{Counter, Gauge};
pub use histogram::{
    BATCH_BYTES_BUCKETS, BATCH_ITEMS_BUCKETS, DURATION_BUCKETS, Histogram, HistogramSnapshot,
    LATENCY_BUCKETS,
};
pub use registry::{Metric, MetricsRegistry, Series};

/// Which kind of component a series describes (the `kind` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A receiver.
    Receiver,
    /// A processor.
    Processor,
    /// An exporter.
    Exporter,
    /// A pipeline channel (edge) between components.
    Channel,
}

impl Kind {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Receiver => "receiver",
            Kind::Processor => "processor",
            Kind::Exporter => "exporter",
            Kind::Channel => "channel",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A component's handle on self-telemetry: registers series that carry its
/// `component` and `kind` labels (and `signal` where given).
#[derive(Debug, Clone)]
pub struct ComponentTelemetry {
    registry: MetricsRegistry,
    component: Arc<str>,
    kind: Kind,
}

impl ComponentTelemetry {
    /// Telemetry for component `component` of `kind`, recorded into `registry`.
    pub fn new(registry: MetricsRegistry, component: impl Into<Arc<str>>, kind: Kind) -> Self {
        ComponentTelemetry {
            registry,
            component: component.into(),
            kind,
        }
    }

    /// Telemetry recorded into a private registry (for tests and examples).
    pub fn detached(component: &str, kind: Kind) -> Self {
        Self::new(MetricsRegistry::new(), component, kind)
    }

    /// The component id these series are labelled with.
    pub fn component(&self) -> &str {
        &self.component
    }

    /// The component kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The registry series are recorded into.
    pub fn registry(&self) -> &MetricsRegistry {
        &self.registry
    }

    /// False when metrics are off: handles do nothing, so a value computed
    /// only to record it can be skipped.
    pub fn is_enabled(&self) -> bool {
        self.registry.is_enabled()
    }

    fn labels(
        &self,
        signal: Option<Signal>,
        extra: &[(&'static str, &str)],
    ) -> Vec<(&'static str, String)> {
        let mut labels = vec![
            ("component", self.component.to_string()),
            ("kind", self.kind.as_str().to_string()),
        ];
        if let Some(s) = signal {
            labels.push(("signal", s.as_str().to_string()));
        }
        labels.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        labels
    }

    /// A counter of this component.
    pub fn counter(
        &self,
        name: &'static str,
        signal: Option<Signal>,
        extra: &[(&'static str, &str)],
    ) -> Counter {
        self.registry.counter(name, self.labels(signal, extra))
    }

    /// A gauge of this component.
    pub fn gauge(
        &self,
        name: &'static str,
        signal: Option<Signal>,
        extra: &[(&'static str, &str)],
    ) -> Gauge {
        self.registry.gauge(name, self.labels(signal, extra))
    }

    /// A histogram of this component.
    pub fn histogram(
        &self,
        name: &'static str,
        signal: Option<Signal>,
        extra: &[(&'static str, &str)],
        bounds: &'static [f64],
    ) -> Histogram {
        self.registry
            .histogram(name, self.labels(signal, extra), bounds)
    }

    /// The counter of items this processor dropped for `reason`. Get it once at
    /// build time and add to it on the hot path.
    pub fn dropped_items(&self, signal: Signal, reason: &'static str) -> Counter {
        self.counter(
            names::PROCESSOR_DROPPED_ITEMS,
            Some(signal),
            &[("reason", reason)],
        )
    }

    /// The counter of items this receiver refused for `reason`.
    pub fn refused_items(&self, signal: Signal, reason: &'static str) -> Counter {
        self.counter(
            names::RECEIVER_REFUSED_ITEMS,
            Some(signal),
            &[("reason", reason)],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_returns_the_same_series_for_the_same_labels() {
        let reg = MetricsRegistry::new();
        let t = ComponentTelemetry::new(reg.clone(), "stdin", Kind::Receiver);
        let a = t.counter(names::RECEIVER_ACCEPTED_ITEMS, Some(Signal::Logs), &[]);
        let b = t.counter(names::RECEIVER_ACCEPTED_ITEMS, Some(Signal::Logs), &[]);
        a.add(2);
        b.inc();
        assert_eq!(a.get(), 3);
        assert_eq!(reg.snapshot().len(), 1);
        let labels = &reg.snapshot()[0].labels;
        assert_eq!(labels[0], ("component", "stdin".to_string()));
        assert_eq!(labels[2], ("signal", "logs".to_string()));
    }
}
