//! [`MetricsRegistry`]: every series of one process, and the switch that turns
//! them all off (`service.telemetry.metrics.level: none`).

use std::sync::{Arc, Mutex};

use super::{Counter, Gauge, Histogram};

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
    /// Metric name (one of [`super::names`] for standard series).
    pub name: &'static str,
    /// Label pairs, in the order they were given.
    pub labels: Vec<(&'static str, String)>,
    /// The live value.
    pub metric: Metric,
}

/// All series of one process. Registration takes a lock; recording never does.
///
/// A [`MetricsRegistry::disabled`] registry hands out handles that do nothing
/// (no atomic, no allocation) and keeps no series, so its snapshot is empty.
#[derive(Debug, Clone)]
pub struct MetricsRegistry {
    series: Arc<Mutex<Vec<Series>>>,
    enabled: bool,
}

impl Default for MetricsRegistry {
    /// An empty registry that records (same as [`MetricsRegistry::new`]).
    fn default() -> Self {
        MetricsRegistry {
            series: Arc::default(),
            enabled: true,
        }
    }
}

impl MetricsRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry whose handles record nothing: for measuring what telemetry
    /// costs (`metrics.level: none`), not for production.
    pub fn disabled() -> Self {
        MetricsRegistry {
            series: Arc::default(),
            enabled: false,
        }
    }

    /// False for a [`MetricsRegistry::disabled`] registry.
    pub fn is_enabled(&self) -> bool {
        self.enabled
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
        if !self.enabled {
            return Counter::noop();
        }
        match self.register(name, labels, || Metric::Counter(Counter::default())) {
            Metric::Counter(c) => c,
            other => panic!("metric {name} registered as {other:?}, not a counter"),
        }
    }

    /// The gauge `name{labels}`, created on first use.
    pub fn gauge(&self, name: &'static str, labels: Vec<(&'static str, String)>) -> Gauge {
        if !self.enabled {
            return Gauge::noop();
        }
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
        if !self.enabled {
            return Histogram::noop();
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::names;

    #[test]
    fn the_same_name_and_labels_give_the_same_series() {
        let reg = MetricsRegistry::new();
        let labels = || vec![("component", "x".to_string())];
        let a = reg.counter(names::EXPORTER_RETRIES, labels());
        reg.counter(names::EXPORTER_RETRIES, labels()).add(2);
        assert_eq!(a.get(), 2);
        assert_eq!(reg.snapshot().len(), 1);
    }

    #[test]
    fn a_disabled_registry_keeps_nothing_and_its_handles_do_nothing() {
        let reg = MetricsRegistry::disabled();
        assert!(!reg.is_enabled());
        let c = reg.counter(names::EXPORTER_SENT_ITEMS, Vec::new());
        let g = reg.gauge(names::EXPORTER_QUEUE_ITEMS, Vec::new());
        let h = reg.histogram(names::EXPORTER_SEND_DURATION, Vec::new(), &[1.0]);
        c.add(5);
        g.set(7);
        h.observe(0.5);
        assert!(!c.is_enabled() && !g.is_enabled() && !h.is_enabled());
        assert_eq!((c.get(), g.get(), h.snapshot().count), (0, 0, 0));
        assert!(reg.snapshot().is_empty());
    }
}
