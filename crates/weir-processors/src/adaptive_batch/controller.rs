//! The adaptive delay: how long a partial batch may wait for more data.
//!
//! Three measurements drive it (see docs/processors/adaptive_batch.md):
//!
//! - **load**: the arrival rate (a time-decaying EWMA of items/s and bytes/s)
//!   times the wait budget, as a fraction of a full batch. Light traffic
//!   would not fill a batch anyway, so it leaves early; heavy traffic moves
//!   the delay up to the budget (where a batch fills by size first).
//! - **budget**: `target_latency` minus the exporters' send round trip the
//!   runtime reports, so that batching plus sending aims at `target_latency`.
//! - **pressure**: the worst of how long `emit` waited for the downstream
//!   (an EWMA over flushes, relative to `target_latency`), how full the
//!   exporters' queues are, the share of sends throttled, and how far an
//!   exporter's adaptive concurrency was cut below its peak. A downstream
//!   that pushes back is the bottleneck: fewer, larger batches are what helps
//!   it, so the delay grows toward `max_delay`.
//!
//! ```text
//! budget = clamp(target_latency − send_latency, min_delay, target_latency)
//! base   = min_delay + load · (budget − min_delay)
//! delay  = base + pressure · (max_delay − base)
//! ```

use std::time::Duration;

use tokio::time::Instant;

/// Time constant of the arrival-rate EWMA: arrivals older than a few
/// seconds stop counting.
const RATE_TAU_SECS: f64 = 1.0;

/// Weight of the newest emit wait in the pushback EWMA.
const PUSHBACK_ALPHA: f64 = 0.3;

/// Below this, a queue's fill is normal jitter and is not pressure: a queue
/// that holds a batch or two while the exporter works is healthy.
const QUEUE_FILL_FLOOR: f64 = 0.5;

/// What the runtime reports about the exporters downstream, read once per
/// deadline check.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct DownstreamReading {
    /// Average send round trip of the slowest exporter.
    pub send_latency: Duration,
    /// Fill of the fullest exporter queue, 0 to 1.
    pub queue_fill: f64,
    /// Highest share of throttled sends, 0 to 1.
    pub throttle_rate: f64,
    /// Deepest cut of an exporter's concurrency limit below its peak, 0 to 1.
    pub concurrency_cut: f64,
}

impl DownstreamReading {
    pub(crate) fn of(d: &weir_core::Downstream) -> Self {
        DownstreamReading {
            send_latency: d.send_latency().unwrap_or_default(),
            queue_fill: d.queue_fill(),
            throttle_rate: d.throttle_rate(),
            concurrency_cut: d.concurrency_cut(),
        }
    }
}

/// Computes the delay target from the arrival rate and the downstream's
/// pushback.
#[derive(Debug, Clone)]
pub(crate) struct Controller {
    min: f64,
    target: f64,
    max: f64,
    max_items: f64,
    max_bytes: f64,
    /// Items per second, as of `last`.
    item_rate: f64,
    /// Bytes per second, as of `last`.
    byte_rate: f64,
    last: Option<Instant>,
    /// Seconds `emit` waited, EWMA over flushes.
    pushback: f64,
}

impl Controller {
    pub(crate) fn new(
        min_delay: Duration,
        target_latency: Duration,
        max_delay: Duration,
        max_items: usize,
        max_bytes: usize,
    ) -> Self {
        Controller {
            min: min_delay.as_secs_f64(),
            target: target_latency.as_secs_f64(),
            max: max_delay.as_secs_f64(),
            max_items: max_items.max(1) as f64,
            max_bytes: max_bytes.max(1) as f64,
            item_rate: 0.0,
            byte_rate: 0.0,
            last: None,
            pushback: 0.0,
        }
    }

    /// The decay factor of the rates from `last` to `now`.
    fn decay(&self, now: Instant) -> f64 {
        match self.last {
            Some(last) => {
                let dt = now.saturating_duration_since(last).as_secs_f64();
                (-dt / RATE_TAU_SECS).exp()
            }
            None => 0.0,
        }
    }

    /// Records `items` items of `bytes` encoded bytes arriving at `now`.
    ///
    /// Time-decaying EWMA: `r ← r·e^(−Δt/τ) + n/τ`. For a steady rate `λ` it
    /// settles at `λ` whatever the spacing of arrivals, with no division by a
    /// tiny `Δt`.
    pub(crate) fn on_arrival(&mut self, now: Instant, items: usize, bytes: usize) {
        let k = self.decay(now);
        self.item_rate = self.item_rate * k + items as f64 / RATE_TAU_SECS;
        self.byte_rate = self.byte_rate * k + bytes as f64 / RATE_TAU_SECS;
        self.last = Some(now);
    }

    /// Records how long one `emit` waited for the downstream.
    pub(crate) fn on_emit(&mut self, waited: Duration) {
        self.pushback += PUSHBACK_ALPHA * (waited.as_secs_f64() - self.pushback);
    }

    /// Arrival rate in items/s as of `now`.
    #[cfg(test)]
    pub(crate) fn item_rate(&self, now: Instant) -> f64 {
        self.item_rate * self.decay(now)
    }

    /// How long the oldest item of a partial batch may wait, as of `now`,
    /// given what the runtime reports of the downstream.
    pub(crate) fn delay(&self, now: Instant, down: DownstreamReading) -> Duration {
        let k = self.decay(now);
        let budget = (self.target - down.send_latency.as_secs_f64()).clamp(self.min, self.target);
        let load = (self.item_rate * k * budget / self.max_items)
            .max(self.byte_rate * k * budget / self.max_bytes)
            .clamp(0.0, 1.0);
        let base = self.min + load * (budget - self.min);
        let waited = if self.target > 0.0 {
            self.pushback / self.target
        } else {
            0.0
        };
        let queued = (down.queue_fill - QUEUE_FILL_FLOOR) / (1.0 - QUEUE_FILL_FLOOR);
        let pressure = waited
            .max(queued)
            .max(down.throttle_rate)
            .max(down.concurrency_cut)
            .clamp(0.0, 1.0);
        let delay = (base + pressure * (self.max - base)).clamp(self.min, self.max);
        // Whole microseconds: steadier gauges, and no float dust in tests.
        Duration::from_micros((delay * 1e6).round() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn controller() -> Controller {
        Controller::new(ms(5), ms(100), ms(500), 1000, 1 << 20)
    }

    const CALM: DownstreamReading = DownstreamReading {
        send_latency: Duration::ZERO,
        queue_fill: 0.0,
        throttle_rate: 0.0,
        concurrency_cut: 0.0,
    };

    #[test]
    fn idle_sits_at_min_delay() {
        let c = controller();
        assert_eq!(c.delay(Instant::now(), CALM), ms(5));
    }

    #[test]
    fn rate_settles_at_the_steady_rate() {
        let mut c = controller();
        let mut now = Instant::now();
        for _ in 0..2000 {
            now += ms(10);
            c.on_arrival(now, 10, 100); // 1000 items/s
        }
        let r = c.item_rate(now);
        assert!((r - 1000.0).abs() < 60.0, "rate {r}");
    }

    #[test]
    fn heavy_traffic_moves_toward_target_and_pushback_toward_max() {
        let mut c = controller();
        let mut now = Instant::now();
        for _ in 0..1000 {
            now += ms(1);
            c.on_arrival(now, 100, 1000); // 100k items/s: a batch fills in 10 ms
        }
        assert_eq!(c.delay(now, CALM), ms(100));
        for _ in 0..30 {
            c.on_emit(ms(200));
        }
        assert_eq!(c.delay(now, CALM), ms(500));
        // The pushback goes away again as the downstream recovers.
        for _ in 0..30 {
            c.on_emit(Duration::ZERO);
        }
        assert!(c.delay(now, CALM) < ms(101));
    }

    #[test]
    fn a_quiet_spell_brings_the_delay_back_down() {
        let mut c = controller();
        let mut now = Instant::now();
        for _ in 0..1000 {
            now += ms(1);
            c.on_arrival(now, 100, 1000);
        }
        assert!(c.delay(now, CALM) > ms(50));
        assert!(c.delay(now + Duration::from_secs(10), CALM) < ms(6));
    }

    fn heavy() -> (Controller, Instant) {
        let mut c = controller();
        let mut now = Instant::now();
        for _ in 0..1000 {
            now += ms(1);
            c.on_arrival(now, 100, 1000);
        }
        (c, now)
    }

    #[test]
    fn send_latency_comes_out_of_the_budget() {
        let (c, now) = heavy();
        let slow = DownstreamReading {
            send_latency: ms(30),
            ..CALM
        };
        assert_eq!(c.delay(now, slow), ms(70));
        // A send slower than the whole target leaves min_delay to batching.
        let slower = DownstreamReading {
            send_latency: ms(300),
            ..CALM
        };
        assert_eq!(c.delay(now, slower), ms(5));
    }

    #[test]
    fn full_queues_and_throttling_are_pressure() {
        let (c, now) = heavy();
        let half = DownstreamReading {
            queue_fill: 0.5,
            ..CALM
        };
        assert_eq!(c.delay(now, half), ms(100), "half full is not pressure");
        let full = DownstreamReading {
            queue_fill: 1.0,
            ..CALM
        };
        assert_eq!(c.delay(now, full), ms(500));
        let three_quarters = DownstreamReading {
            queue_fill: 0.75,
            ..CALM
        };
        assert_eq!(c.delay(now, three_quarters), ms(300));
        let throttled = DownstreamReading {
            throttle_rate: 0.25,
            ..CALM
        };
        assert_eq!(c.delay(now, throttled), ms(200));
        let cut = DownstreamReading {
            concurrency_cut: 0.5,
            ..CALM
        };
        assert_eq!(c.delay(now, cut), ms(300), "half the peak concurrency");
    }
}
