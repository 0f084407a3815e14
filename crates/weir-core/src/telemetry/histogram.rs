//! Histograms with fixed bucket bounds, and the bounds the runtime uses.
//! Recording is lock-free: a binary search over the bounds and three atomic
//! updates; a histogram from a disabled registry records nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bucket bounds for durations in seconds (export calls): 0.5 ms to 60 s.
pub const DURATION_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

/// Bucket bounds for the time from receipt to delivery, in seconds: 1 ms to an
/// hour, since a batch may wait out an outage in a disk queue.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    300.0, 900.0, 3600.0,
];

/// Bucket bounds for items per batch: 1 to 65536, with marks at the common
/// batch sizes (512 of the SDKs, 1000, 8192 of the Collector's batcher).
pub const BATCH_ITEMS_BUCKETS: &[f64] = &[
    1.0, 10.0, 50.0, 100.0, 250.0, 512.0, 1000.0, 2000.0, 4096.0, 8192.0, 16384.0, 65536.0,
];

/// Bucket bounds for bytes per batch: 1 KiB to 64 MiB, denser around gRPC's
/// default 4 MiB message limit.
pub const BATCH_BYTES_BUCKETS: &[f64] = &[
    1024.0,
    4096.0,
    16384.0,
    65536.0,
    262_144.0,
    524_288.0,
    1_048_576.0,
    2_097_152.0,
    4_194_304.0,
    8_388_608.0,
    16_777_216.0,
    67_108_864.0,
];

/// A histogram with fixed upper bounds, lock-free to record into.
#[derive(Debug, Clone)]
pub struct Histogram(Option<Arc<HistogramInner>>);

#[derive(Debug)]
struct HistogramInner {
    bounds: &'static [f64],
    counts: Box<[AtomicU64]>,
    /// Sum of observations, as `f64` bits (any unit, no overflow).
    sum_bits: AtomicU64,
    count: AtomicU64,
}

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
        Histogram(Some(Arc::new(HistogramInner {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_bits: AtomicU64::new(0f64.to_bits()),
            count: AtomicU64::new(0),
        })))
    }

    /// A histogram that records nothing (metrics turned off).
    pub fn noop() -> Self {
        Histogram(None)
    }

    /// False for a [`Histogram::noop`] handle: callers can skip computing a
    /// value that only this histogram would use.
    #[inline]
    pub fn is_enabled(&self) -> bool {
        self.0.is_some()
    }

    /// Records one observation.
    #[inline]
    pub fn observe(&self, v: f64) {
        let Some(h) = &self.0 else { return };
        let i = h.bounds.partition_point(|b| *b < v);
        h.counts[i].fetch_add(1, Ordering::Relaxed);
        // Uncontended this is one compare-exchange, as cheap as a fetch_add.
        let _ = h
            .sum_bits
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + v).to_bits())
            });
        h.count.fetch_add(1, Ordering::Relaxed);
    }

    /// A consistent-enough view for exposition (empty when metrics are off).
    pub fn snapshot(&self) -> HistogramSnapshot {
        let Some(h) = &self.0 else {
            return HistogramSnapshot {
                bounds: &[],
                cumulative: Vec::new(),
                sum: 0.0,
                count: 0,
            };
        };
        let mut acc = 0;
        let cumulative = h.counts[..h.bounds.len()]
            .iter()
            .map(|c| {
                acc += c.load(Ordering::Relaxed);
                acc
            })
            .collect();
        HistogramSnapshot {
            bounds: h.bounds,
            cumulative,
            sum: f64::from_bits(h.sum_bits.load(Ordering::Relaxed)),
            count: h.count.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative() {
        let h = Histogram::detached(&[1.0, 2.0]);
        h.observe(0.5);
        h.observe(1.5);
        h.observe(9.0);
        let s = h.snapshot();
        assert_eq!(s.cumulative, vec![1, 2]);
        assert_eq!(s.count, 3);
        assert!((s.sum - 11.0).abs() < 1e-9);
    }

    #[test]
    fn a_value_on_a_bound_falls_in_that_bucket() {
        let h = Histogram::detached(&[1.0, 2.0]);
        h.observe(1.0);
        assert_eq!(h.snapshot().cumulative, vec![1, 1]);
    }

    #[test]
    fn sums_of_large_values_do_not_wrap() {
        // 64 MiB batches: a micro-unit integer sum would wrap after ~270k of them.
        let h = Histogram::detached(BATCH_BYTES_BUCKETS);
        for _ in 0..1000 {
            h.observe(67_108_864.0);
        }
        assert_eq!(h.snapshot().sum, 67_108_864.0 * 1000.0);
    }

    #[test]
    fn bucket_bounds_increase() {
        for b in [
            DURATION_BUCKETS,
            LATENCY_BUCKETS,
            BATCH_ITEMS_BUCKETS,
            BATCH_BYTES_BUCKETS,
        ] {
            assert!(b.windows(2).all(|w| w[0] < w[1]), "{b:?}");
        }
    }

    #[test]
    fn noop_records_nothing() {
        let h = Histogram::noop();
        h.observe(1.0);
        assert!(!h.is_enabled());
        assert_eq!(h.snapshot().count, 0);
    }
}
