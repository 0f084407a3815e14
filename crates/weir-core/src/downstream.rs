//! What the runtime tells processors about the exporters downstream of them:
//! how long a send takes, how full their queues are, how often they are
//! throttled. A batching processor uses it to trade latency for fewer, larger
//! requests when the destination struggles.
//!
//! The runtime owns one [`ExporterLoad`] per exporter and updates it from the
//! exporter harness (send times, throttling) and the exporter's queue (its
//! fill, on every send and take); every processor gets a [`Downstream`] over the exporters
//! of its pipeline in [`BuildContext::downstream`](crate::BuildContext). Reads
//! and writes are single atomic operations, so a processor may read it on every
//! batch.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// Weight of the newest sample in the latency and throttle EWMAs, out of 1024.
const ALPHA_1024: u64 = 205; // ≈ 0.2: about the last five sends count

/// Fixed-point scale of ratios (queue fill, throttle rate).
const RATIO_SCALE: f64 = 1_000_000.0;

#[derive(Debug, Default)]
struct LoadInner {
    /// EWMA of one export call's round trip, in microseconds.
    latency_us: AtomicU64,
    /// EWMA of "this call was throttled or failed retryably", × 1024.
    throttled_1024: AtomicU64,
    /// Fill of the exporter's queue, × [`RATIO_SCALE`].
    queue_fill: AtomicU32,
    /// Export calls the exporter may have in flight now (adaptive concurrency).
    concurrency: AtomicU32,
    /// How far the concurrency limit sits below its peak after a cut, × [`RATIO_SCALE`].
    concurrency_cut: AtomicU32,
}

/// The load of one exporter, written by the runtime's exporter harness.
/// Cheap to clone: clones share the same numbers.
#[derive(Debug, Clone, Default)]
pub struct ExporterLoad(Arc<LoadInner>);

fn ewma(cell: &AtomicU64, sample: u64) {
    // Lost updates between concurrent deliveries only skip a sample; the
    // average stays an average.
    let old = cell.load(Ordering::Relaxed);
    let new = if old == 0 {
        sample
    } else {
        (old * (1024 - ALPHA_1024) + sample * ALPHA_1024) / 1024
    };
    cell.store(new, Ordering::Relaxed);
}

impl ExporterLoad {
    /// A load with no sends seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one export call: its round trip and whether the destination
    /// throttled it or failed it retryably (429, 503, timeouts, resets).
    pub fn record_send(&self, round_trip: Duration, throttled: bool) {
        let us = u64::try_from(round_trip.as_micros())
            .unwrap_or(u64::MAX >> 12)
            .max(1);
        ewma(&self.0.latency_us, us.min(u64::MAX >> 12));
        // Offset by one so that "never throttled" is not confused with "no data".
        ewma(&self.0.throttled_1024, if throttled { 1025 } else { 1 });
    }

    /// Sets how full the exporter's queue is, from 0 (empty) to 1 (full).
    pub fn set_queue_fill(&self, fill: f64) {
        let v = (fill.clamp(0.0, 1.0) * RATIO_SCALE) as u32;
        self.0.queue_fill.store(v, Ordering::Relaxed);
    }

    /// Sets the exporter's adaptive concurrency: the calls it may have in flight
    /// now, and how far (0 to 1) that sits below the limit it reached before
    /// the destination last pushed back.
    pub fn set_concurrency(&self, limit: usize, cut: f64) {
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        self.0.concurrency.store(limit, Ordering::Relaxed);
        let v = (cut.clamp(0.0, 1.0) * RATIO_SCALE) as u32;
        self.0.concurrency_cut.store(v, Ordering::Relaxed);
    }

    /// The export calls the exporter may have in flight now; 0 before the
    /// harness started.
    pub fn concurrency(&self) -> usize {
        self.0.concurrency.load(Ordering::Relaxed) as usize
    }

    /// How far the concurrency limit sits below its peak after the destination
    /// pushed back, 0 (not cut) to 1.
    pub fn concurrency_cut(&self) -> f64 {
        self.0.concurrency_cut.load(Ordering::Relaxed) as f64 / RATIO_SCALE
    }

    /// The average round trip of recent export calls; `None` before the first.
    pub fn send_latency(&self) -> Option<Duration> {
        match self.0.latency_us.load(Ordering::Relaxed) {
            0 => None,
            us => Some(Duration::from_micros(us)),
        }
    }

    /// The share of recent export calls that were throttled, 0 to 1.
    pub fn throttle_rate(&self) -> f64 {
        let v = self.0.throttled_1024.load(Ordering::Relaxed);
        (v.saturating_sub(1) as f64 / 1024.0).clamp(0.0, 1.0)
    }

    /// How full the exporter's queue is, 0 to 1.
    pub fn queue_fill(&self) -> f64 {
        self.0.queue_fill.load(Ordering::Relaxed) as f64 / RATIO_SCALE
    }
}

/// A processor's view of the exporters its pipeline ends in. Each reading is
/// the worst over them, since the slowest exporter is what holds a fan-out
/// back. Empty (all readings zero) outside a running pipeline.
#[derive(Debug, Clone, Default)]
pub struct Downstream {
    exporters: Arc<[ExporterLoad]>,
}

impl Downstream {
    /// A view over `exporters`.
    pub fn new(exporters: impl IntoIterator<Item = ExporterLoad>) -> Self {
        Downstream {
            exporters: exporters.into_iter().collect(),
        }
    }

    /// A view over nothing: every reading is zero.
    pub fn none() -> Self {
        Self::default()
    }

    /// The longest average send round trip; `None` before any send.
    pub fn send_latency(&self) -> Option<Duration> {
        self.exporters.iter().filter_map(|e| e.send_latency()).max()
    }

    /// The fullest exporter queue, 0 to 1.
    pub fn queue_fill(&self) -> f64 {
        self.exporters
            .iter()
            .map(|e| e.queue_fill())
            .fold(0.0, f64::max)
    }

    /// The deepest cut of an exporter's concurrency limit below its peak, 0 to 1.
    pub fn concurrency_cut(&self) -> f64 {
        self.exporters
            .iter()
            .map(|e| e.concurrency_cut())
            .fold(0.0, f64::max)
    }

    /// The highest share of throttled sends, 0 to 1.
    pub fn throttle_rate(&self) -> f64 {
        self.exporters
            .iter()
            .map(|e| e.throttle_rate())
            .fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_view_reads_zero() {
        let d = Downstream::none();
        assert_eq!(d.send_latency(), None);
        assert_eq!(d.queue_fill(), 0.0);
        assert_eq!(d.throttle_rate(), 0.0);
    }

    #[test]
    fn latency_and_throttle_average_over_recent_sends() {
        let load = ExporterLoad::new();
        assert_eq!(load.send_latency(), None);
        load.record_send(Duration::from_millis(10), false);
        assert_eq!(load.send_latency(), Some(Duration::from_millis(10)));
        assert_eq!(load.throttle_rate(), 0.0);
        for _ in 0..50 {
            load.record_send(Duration::from_millis(100), true);
        }
        let l = load.send_latency().unwrap();
        assert!(l > Duration::from_millis(95) && l <= Duration::from_millis(100));
        assert!(load.throttle_rate() > 0.95, "{}", load.throttle_rate());
        for _ in 0..50 {
            load.record_send(Duration::from_millis(1), false);
        }
        assert!(load.throttle_rate() < 0.01, "{}", load.throttle_rate());
    }

    #[test]
    fn the_view_reports_the_worst_exporter() {
        let (a, b) = (ExporterLoad::new(), ExporterLoad::new());
        let d = Downstream::new([a.clone(), b.clone()]);
        a.record_send(Duration::from_millis(5), false);
        b.record_send(Duration::from_millis(50), false);
        a.set_queue_fill(0.75);
        b.set_queue_fill(2.0); // clamped
        assert_eq!(d.send_latency(), Some(Duration::from_millis(50)));
        assert_eq!(d.queue_fill(), 1.0);
        b.set_queue_fill(0.1);
        assert!((d.queue_fill() - 0.75).abs() < 1e-6);
    }
}
