//! A latency histogram in the HDR style: log-linear buckets of microseconds,
//! 64 per power of two (within 1.6% of the true value), exact below 128 µs.
//! Fixed size, cheap to record into and to merge.

use std::time::Duration;

const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;
const LINEAR: u64 = 2 * SUB;
const BUCKETS: usize = (LINEAR + (64 - SUB_BITS as u64 - 1) * SUB) as usize;

/// Counts of latencies in microseconds.
#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max_us: u64,
    sum_us: u128,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
            max_us: 0,
            sum_us: 0,
        }
    }
}

fn index(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let msb = 63 - v.leading_zeros();
    let shift = msb - SUB_BITS;
    let top = v >> shift; // SUB..2*SUB
    (LINEAR + u64::from(msb - SUB_BITS - 1) * SUB + (top - SUB)) as usize
}

/// The highest value bucket `i` holds.
fn upper(i: usize) -> u64 {
    let i = i as u64;
    if i < LINEAR {
        return i;
    }
    let k = i - LINEAR;
    let shift = k / SUB + 1;
    let top = SUB + k % SUB;
    ((top + 1) << shift) - 1
}

impl Histogram {
    /// Records one latency.
    pub fn record(&mut self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.counts[index(us)] += 1;
        self.total += 1;
        self.max_us = self.max_us.max(us);
        self.sum_us += u128::from(us);
    }

    /// Adds `other`'s counts.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.max_us = self.max_us.max(other.max_us);
        self.sum_us += other.sum_us;
    }

    /// Latencies recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The latency at quantile `q` (0..=1), e.g. 0.99; zero when empty.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.total == 0 {
            return Duration::ZERO;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Duration::from_micros(upper(i).min(self.max_us));
            }
        }
        Duration::from_micros(self.max_us)
    }

    /// The largest latency recorded.
    pub fn max(&self) -> Duration {
        Duration::from_micros(self.max_us)
    }

    /// The mean latency.
    pub fn mean(&self) -> Duration {
        if self.total == 0 {
            return Duration::ZERO;
        }
        Duration::from_micros((self.sum_us / u128::from(self.total)) as u64)
    }
}

/// `p50 1.23 ms, p99 4.56 ms` (`-` when nothing was recorded).
pub fn fmt_p50_p99(h: &Histogram) -> String {
    if h.count() == 0 {
        return "-".into();
    }
    format!(
        "p50 {:.2} ms, p99 {:.2} ms",
        ms(h.quantile(0.5)),
        ms(h.quantile(0.99))
    )
}

/// Milliseconds as a float.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_tight() {
        let mut last = 0;
        for v in (0..5_000_000u64).step_by(7) {
            let i = index(v);
            assert!(i >= last, "{v}");
            last = i;
            let up = upper(i);
            assert!(up >= v, "{v} > upper {up}");
            assert!((up - v) as f64 <= v as f64 * 0.016 + 1.0, "{v}: {up}");
        }
        assert!(index(u64::MAX) < BUCKETS);
    }

    #[test]
    fn quantiles() {
        let mut h = Histogram::default();
        for us in 1..=1000 {
            h.record(Duration::from_micros(us));
        }
        let p50 = h.quantile(0.5).as_micros() as f64;
        let p99 = h.quantile(0.99).as_micros() as f64;
        assert!((500.0..=510.0).contains(&p50), "{p50}");
        assert!((990.0..=1000.0).contains(&p99), "{p99}");
        assert_eq!(h.quantile(1.0), Duration::from_micros(1000));
        let mut g = Histogram::default();
        g.merge(&h);
        assert_eq!(g.count(), 1000);
    }
}
