//! The daily log quota, and counting requests in windows for the stats.
//! The per-key request limits are `weir_ledger::ratelimit`'s, which weir's
//! `http` receiver enforces the same way.

use std::time::Duration;

use tokio::time::Instant;

const SECS_PER_DAY: u64 = 86_400;

/// The daily log quota of the (single) project.
pub(crate) struct Quota {
    pub(crate) limit: u64,
    usage: u64,
    /// `None`: UTC days; `Some`: periods of this length from `period_start`.
    period: Option<Duration>,
    period_start: Instant,
    /// The UTC day (days since the epoch) `usage` belongs to.
    day: u64,
}

impl Quota {
    pub(crate) fn new(limit: u64, period: Option<Duration>) -> Self {
        Quota {
            limit,
            usage: 0,
            period: period.filter(|p| !p.is_zero()),
            period_start: Instant::now(),
            day: Duration::from_nanos(weir_otlp::civil::now_unix_nano()).as_secs() / SECS_PER_DAY,
        }
    }

    /// Starts a new period when the current one is over.
    fn roll(&mut self, now: Instant) {
        match self.period {
            Some(p) => {
                let elapsed = now.duration_since(self.period_start);
                if elapsed >= p {
                    let periods = (elapsed.as_nanos() / p.as_nanos()) as u32;
                    self.period_start += p * periods;
                    self.usage = 0;
                }
            }
            None => {
                let today = Duration::from_nanos(weir_otlp::civil::now_unix_nano()).as_secs()
                    / SECS_PER_DAY;
                if today != self.day {
                    self.day = today;
                    self.usage = 0;
                }
            }
        }
    }

    /// Takes `n` logs if they fit; else `Err((usage, limit))` for the 402.
    pub(crate) fn take(&mut self, n: u64, now: Instant) -> Result<(), (u64, u64)> {
        self.roll(now);
        if self.usage.saturating_add(n) > self.limit {
            return Err((self.usage, self.limit));
        }
        self.usage += n;
        Ok(())
    }

    /// Logs taken in the current period.
    pub(crate) fn usage(&mut self, now: Instant) -> u64 {
        self.roll(now);
        self.usage
    }

    /// When the current period ends, as microseconds since the epoch.
    pub(crate) fn reset_at_micros(&mut self, now: Instant) -> i64 {
        self.roll(now);
        let at = match self.period {
            Some(p) => {
                Duration::from_nanos(weir_otlp::civil::now_unix_nano())
                    + (self.period_start + p).duration_since(now)
            }
            None => Duration::from_secs((self.day + 1) * SECS_PER_DAY),
        };
        i64::try_from(at.as_micros()).unwrap_or(i64::MAX)
    }

    /// Usage back to 0, and a fresh period when periods are timed.
    pub(crate) fn reset(&mut self, now: Instant) {
        self.usage = 0;
        self.period_start = now;
        self.day = Duration::from_nanos(weir_otlp::civil::now_unix_nano()).as_secs() / SECS_PER_DAY;
    }
}

/// The most of `times` (sorted) that fall in any window of length `w`
/// (`t` and `t + w` are in different windows, as for the limiter).
pub(crate) fn max_in_window(times: &[Duration], w: Duration) -> u64 {
    let mut best = 0;
    let mut start = 0;
    for (end, t) in times.iter().enumerate() {
        while *t - times[start] >= w {
            start += 1;
        }
        best = best.max(end + 1 - start);
    }
    best as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_takes_whole_requests() {
        let mut q = Quota::new(5, Some(Duration::from_secs(10)));
        let now = Instant::now();
        assert!(q.take(3, now).is_ok());
        assert_eq!(q.take(3, now), Err((3, 5)));
        assert!(q.take(2, now).is_ok());
        assert_eq!(q.take(1, now), Err((5, 5)));
        assert_eq!(q.usage(now + Duration::from_secs(10)), 0, "new period");
        q.take(5, now + Duration::from_secs(11)).unwrap();
        q.reset(now + Duration::from_secs(12));
        assert_eq!(q.usage(now + Duration::from_secs(12)), 0);
    }

    #[test]
    fn day_quota_resets_at_next_utc_midnight() {
        let mut q = Quota::new(5, None);
        let at = q.reset_at_micros(Instant::now());
        assert_eq!(at % (SECS_PER_DAY as i64 * 1_000_000), 0);
        assert!(at > Duration::from_nanos(weir_otlp::civil::now_unix_nano()).as_micros() as i64);
    }

    #[test]
    fn max_in_any_window() {
        let s = Duration::from_secs;
        let times = [s(0), s(10), s(59), s(60), s(61), s(200)];
        assert_eq!(max_in_window(&times, s(60)), 4, "10, 59, 60, 61");
        assert_eq!(max_in_window(&[], s(60)), 0);
    }
}
