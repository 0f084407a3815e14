//! Counters and gauges: one atomic each, shared by cloning. A handle from a
//! disabled registry ([`super::MetricsRegistry::disabled`]) holds no atomic and
//! does nothing, so `metrics.level: none` costs a predictable branch at most.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// A monotonically increasing count, shared by cloning.
///
/// Only for telemetry: a counter from a disabled registry reads 0, so logic
/// that needs a count (a run summary, an exit status) keeps its own.
#[derive(Debug, Clone)]
pub struct Counter(Option<Arc<AtomicU64>>);

impl Default for Counter {
    /// A live counter not registered anywhere (same as [`Counter::detached`]).
    fn default() -> Self {
        Counter(Some(Arc::default()))
    }
}

impl Counter {
    /// A live counter not registered anywhere (for tests).
    pub fn detached() -> Self {
        Counter::default()
    }

    /// A counter that records nothing and reads 0 (metrics turned off).
    pub fn noop() -> Self {
        Counter(None)
    }

    /// False for a [`Counter::noop`] handle.
    #[inline]
    pub fn is_enabled(&self) -> bool {
        self.0.is_some()
    }

    /// Adds `n`.
    #[inline]
    pub fn add(&self, n: u64) {
        if let Some(c) = &self.0 {
            c.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.add(1);
    }

    /// The current value (0 when metrics are off).
    pub fn get(&self) -> u64 {
        self.0.as_ref().map_or(0, |c| c.load(Ordering::Relaxed))
    }
}

/// A value that goes up and down, shared by cloning.
///
/// Only for telemetry: a gauge from a disabled registry reads 0.
#[derive(Debug, Clone)]
pub struct Gauge(Option<Arc<AtomicI64>>);

impl Default for Gauge {
    /// A live gauge not registered anywhere (same as [`Gauge::detached`]).
    fn default() -> Self {
        Gauge(Some(Arc::default()))
    }
}

impl Gauge {
    /// A live gauge not registered anywhere (for tests).
    pub fn detached() -> Self {
        Gauge::default()
    }

    /// A gauge that records nothing and reads 0 (metrics turned off).
    pub fn noop() -> Self {
        Gauge(None)
    }

    /// False for a [`Gauge::noop`] handle.
    #[inline]
    pub fn is_enabled(&self) -> bool {
        self.0.is_some()
    }

    /// Sets the value.
    #[inline]
    pub fn set(&self, v: i64) {
        if let Some(g) = &self.0 {
            g.store(v, Ordering::Relaxed);
        }
    }

    /// Adds `n` (may be negative).
    #[inline]
    pub fn add(&self, n: i64) {
        if let Some(g) = &self.0 {
            g.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// The current value (0 when metrics are off).
    pub fn get(&self) -> i64 {
        self.0.as_ref().map_or(0, |g| g.load(Ordering::Relaxed))
    }
}
