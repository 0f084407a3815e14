//! Adaptive concurrency: how many export calls an exporter keeps in flight,
//! found by AIMD on the destination's answers, bounded by `max_in_flight`.
//!
//! - Start at 1.
//! - **Additive increase**: each answer that came back without throttling and
//!   no slower than [`JUMP`] times the baseline round trip adds `1 / limit`,
//!   so the limit grows by about one per round of `limit` calls.
//! - **Multiplicative decrease**: a throttling answer (429, 503, a timeout:
//!   any retryable failure) halves the limit; a round trip over [`JUMP`] times
//!   the baseline cuts it by a quarter (queueing at the destination shows as
//!   latency before it shows as errors). At most one cut per baseline round
//!   trip, since the calls in flight together report the same congestion.
//! - The baseline is the lowest round trip seen, drifting up by 1% of each
//!   sample above it, so a destination that really got slower is accepted
//!   as the new normal over about a hundred calls.
//!
//! The limit is published as `weir_exporter_concurrency_limit` and, as how far
//! it sits below its peak after a cut, to the processors upstream
//! ([`ExporterLoad::set_concurrency`]) so `adaptive_batch` sends fewer,
//! larger batches to a destination that is pushing back.

use std::time::Duration;

use tokio::time::Instant;
use weir_core::ExporterLoad;
use weir_core::telemetry::Gauge;

/// A round trip this many times the baseline counts as a latency jump.
pub const JUMP: f64 = 2.0;

/// Cuts never come closer together than this, whatever the baseline.
const MIN_CUT_SPACING: Duration = Duration::from_millis(50);

/// The AIMD state of one exporter.
#[derive(Debug)]
pub struct AdaptiveConcurrency {
    limit: f64,
    max: f64,
    /// The limit before the last cut; it follows the limit up as it regrows.
    peak: f64,
    baseline: Option<Duration>,
    last_cut: Option<Instant>,
    gauge: Gauge,
    load: ExporterLoad,
}

impl AdaptiveConcurrency {
    /// A limit starting at 1, never above `max` (at least 1).
    pub fn new(max: usize, gauge: Gauge, load: ExporterLoad) -> Self {
        let c = AdaptiveConcurrency {
            limit: 1.0,
            max: max.max(1) as f64,
            peak: 1.0,
            baseline: None,
            last_cut: None,
            gauge,
            load,
        };
        c.publish();
        c
    }

    /// Calls that may be in flight now.
    pub fn limit(&self) -> usize {
        self.limit.floor().max(1.0) as usize
    }

    /// Takes one answer into account: its round trip and whether the
    /// destination throttled it (or failed it retryably).
    pub fn record(&mut self, round_trip: Duration, throttled: bool) {
        let now = Instant::now();
        let baseline = *self.baseline.get_or_insert(round_trip);
        if round_trip < baseline {
            self.baseline = Some(round_trip);
        } else if !throttled {
            self.baseline = Some(baseline + (round_trip - baseline) / 100);
        }
        let jumped = round_trip.as_secs_f64() > baseline.as_secs_f64() * JUMP
            && round_trip - baseline > Duration::from_millis(1);
        if throttled || jumped {
            let spacing = baseline.max(MIN_CUT_SPACING);
            if self.last_cut.is_none_or(|t| now - t >= spacing) {
                self.peak = self.peak.max(self.limit);
                self.limit = (self.limit * if throttled { 0.5 } else { 0.75 }).max(1.0);
                self.last_cut = Some(now);
            }
        } else {
            self.limit = (self.limit + 1.0 / self.limit).min(self.max);
            if self.limit >= self.peak {
                self.peak = self.limit;
            }
        }
        self.publish();
    }

    fn publish(&self) {
        self.gauge.set(self.limit() as i64);
        let cut = if self.peak > 1.0 {
            ((self.peak - self.limit) / self.peak).clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.load.set_concurrency(self.limit(), cut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn aimd(max: usize) -> AdaptiveConcurrency {
        AdaptiveConcurrency::new(max, Gauge::detached(), ExporterLoad::new())
    }

    #[tokio::test(start_paused = true)]
    async fn grows_from_one_while_latency_stays_flat_up_to_max() {
        let mut c = aimd(8);
        assert_eq!(c.limit(), 1);
        for _ in 0..3 {
            c.record(ms(10), false);
        }
        assert!(c.limit() >= 2, "grows: {}", c.limit());
        for _ in 0..200 {
            c.record(ms(10), false);
        }
        assert_eq!(c.limit(), 8, "bounded by max_in_flight");
    }

    #[tokio::test(start_paused = true)]
    async fn halves_on_throttling_once_per_round_trip() {
        let load = ExporterLoad::new();
        let mut c = AdaptiveConcurrency::new(16, Gauge::detached(), load.clone());
        for _ in 0..500 {
            c.record(ms(10), false);
        }
        assert_eq!(c.limit(), 16);
        // A burst of 429s from calls in flight together: one cut.
        for _ in 0..8 {
            c.record(ms(10), true);
        }
        assert_eq!(c.limit(), 8);
        assert!((load.concurrency_cut() - 0.5).abs() < 1e-9);
        tokio::time::advance(ms(60)).await;
        c.record(ms(10), true);
        assert_eq!(c.limit(), 4, "a later 429 cuts again");
        for _ in 0..3 {
            tokio::time::advance(ms(60)).await;
            c.record(ms(10), true);
        }
        assert_eq!(c.limit(), 1, "never below 1");
    }

    #[tokio::test(start_paused = true)]
    async fn a_latency_jump_cuts_and_recovery_regrows() {
        let mut c = aimd(16);
        for _ in 0..500 {
            c.record(ms(10), false);
        }
        c.record(ms(50), false);
        assert_eq!(c.limit(), 12, "cut by a quarter");
        for _ in 0..200 {
            c.record(ms(10), false);
        }
        assert_eq!(c.limit(), 16);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slower_destination_becomes_the_new_baseline() {
        let mut c = aimd(4);
        c.record(ms(10), false);
        // The destination settles at 30 ms: cuts at first, then accepted.
        for _ in 0..400 {
            tokio::time::advance(ms(60)).await;
            c.record(ms(30), false);
        }
        assert_eq!(c.limit(), 4);
    }
}
