//! Self-telemetry handles: counters, gauges and histograms that are plain atomics on
//! the hot path, registered once in a [`MetricsRegistry`] the runtime serves.
//!
//! Every metric name lives in [`names`], so no component spells one itself.

use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::Signal;

pub mod names;

pub mod reasons;

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

/// A monotonically increasing count, shared by cloning.
#[derive(Debug, Clone, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    /// A counter not registered anywhere (for tests).
    pub fn detached() -> Self {
        Counter::default()
    }
    /// Adds `n`.
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.add(1);
    }
    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down, shared by cloning.
#[derive(Debug, Clone, Default)]
pub struct Gauge(Arc<AtomicI64>);

impl Gauge {
    /// A gauge not registered anywhere (for tests).
    pub fn detached() -> Self {
        Gauge::default()
    }
    /// Sets the value.
    #[inline]
    pub fn set(&self, v: i64) {
        self.0.store(v, Ordering::Relaxed);
    }
    /// Adds `n` (may be negative).
    #[inline]
    pub fn add(&self, n: i64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    /// The current value.
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A histogram with fixed upper bounds, lock-free to record into.
#[derive(Debug, Clone)]
pub struct Histogram(Arc<HistogramInner>);

#[derive(Debug)]
struct HistogramInner {
    bounds: &'static [f64],
    counts: Box<[AtomicU64]>,
    /// Sum in micro-units, so it fits an atomic integer.
    sum_micros: AtomicU64,
    count: AtomicU64,
}

/// Bucket bounds for durations in seconds: 0.5 ms to 60 s.
pub const DURATION_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

/// A point-in-time view of a histogram.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    /// Upper bounds of the buckets.
    pub bounds: &'static [f64],
    /// Cumulative count at or below each bound (same length as `bounds`).
    pub cumulative: Vec<u64>,
    /// Sum of observed values.
    pub sum: f64,
    /// Number of observations.
    pub count: u64,
}

impl Histogram {
    /// A histogram with the given bucket upper bounds, not registered anywhere.
    pub fn detached(bounds: &'static [f64]) -> Self {
        Histogram(Arc::new(HistogramInner {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }))
    }

    /// Records one observation.
    pub fn observe(&self, v: f64) {
        let i = self.0.bounds.partition_point(|b| *b < v);
        self.0.counts[i].fetch_add(1, Ordering::Relaxed);
        self.0
            .sum_micros
            .fetch_add((v.max(0.0) * 1e6) as u64, Ordering::Relaxed);
        self.0.count.fetch_add(1, Ordering::Relaxed);
    }

    /// A consistent-enough view for exposition.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut acc = 0;
        let cumulative = self.0.counts[..self.0.bounds.len()]
            .iter()
            .map(|c| {
                acc += c.load(Ordering::Relaxed);
                acc
            })
            .collect();
        HistogramSnapshot {
            bounds: self.0.bounds,
            cumulative,
            sum: self.0.sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
            count: self.0.count.load(Ordering::Relaxed),
        }
    }
}

/// The value behind a registered series.
#[derive(Debug, Clone)]
pub enum Metric {
    /// A counter.
    Counter(Counter),
    /// A gauge.
    Gauge(Gauge),
    /// A histogram.
    Histogram(Histogram),
}

/// One registered series: a name, its labels, and its live value.
#[derive(Debug, Clone)]
pub struct Series {
    /// Metric name (one of [`names`] for standard series).
    pub name: &'static str,
    /// Label pairs, in the order they were given.
    pub labels: Vec<(&'static str, String)>,
    /// The live value.
    pub metric: Metric,
}

/// All series of one process. Registration takes a lock; recording never does.
#[derive(Debug, Clone, Default)]
pub struct MetricsRegistry {
    series: Arc<Mutex<Vec<Series>>>,
}

impl MetricsRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn register(
        &self,
        name: &'static str,
        labels: Vec<(&'static str, String)>,
        make: impl FnOnce() -> Metric,
    ) -> Metric {
        let mut series = self.series.lock().expect("metrics registry poisoned");
        if let Some(s) = series.iter().find(|s| s.name == name && s.labels == labels) {
            return s.metric.clone();
        }
        let metric = make();
        series.push(Series {
            name,
            labels,
            metric: metric.clone(),
        });
        metric
    }

    /// The counter `name{labels}`, created on first use; the same handle afterwards.
    pub fn counter(&self, name: &'static str, labels: Vec<(&'static str, String)>) -> Counter {
        match self.register(name, labels, || Metric::Counter(Counter::default())) {
            Metric::Counter(c) => c,
            other => panic!("metric {name} registered as {other:?}, not a counter"),
        }
    }

    /// The gauge `name{labels}`, created on first use.
    pub fn gauge(&self, name: &'static str, labels: Vec<(&'static str, String)>) -> Gauge {
        match self.register(name, labels, || Metric::Gauge(Gauge::default())) {
            Metric::Gauge(g) => g,
            other => panic!("metric {name} registered as {other:?}, not a gauge"),
        }
    }

    /// The histogram `name{labels}` with `bounds`, created on first use.
    pub fn histogram(
        &self,
        name: &'static str,
        labels: Vec<(&'static str, String)>,
        bounds: &'static [f64],
    ) -> Histogram {
        match self.register(name, labels, || {
            Metric::Histogram(Histogram::detached(bounds))
        }) {
            Metric::Histogram(h) => h,
            other => panic!("metric {name} registered as {other:?}, not a histogram"),
        }
    }

    /// A copy of the series list (values stay live: they are shared handles).
    pub fn snapshot(&self) -> Vec<Series> {
        self.series
            .lock()
            .expect("metrics registry poisoned")
            .clone()
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

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = Histogram::detached(&[1.0, 2.0]);
        h.observe(0.5);
        h.observe(1.5);
        h.observe(9.0);
        let s = h.snapshot();
        assert_eq!(s.cumulative, vec![1, 2]);
        assert_eq!(s.count, 3);
        assert!((s.sum - 11.0).abs() < 1e-6);
    }
}
