//! Client-side request limit: at most `ratio` of the server's per-minute and
//! per-hour request limits, over sliding windows (the SDK's scheme), so weir
//! stays under the limit whichever 60 s or 3600 s window the server counts.
//! A 429 that comes anyway tightens the share by a fifth (down to a quarter
//! of it); every 100 requests without one loosen it back by 5%.
//!
//! Requests are counted when they leave, but the server counts them when
//! they arrive, and the time between varies (a busy connection, a slow
//! encode): measured against a 2 s test window, arrivals bunched enough to
//! put 57 in a window where 54 left. So each window is counted 2% + 100 ms
//! longer than the server's (61.3 s for a minute), which absorbs that jitter
//! for about 2% of throughput at the limit.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

/// Shares of the configured ratio weir may fall to after 429s.
const MIN_FACTOR: f64 = 0.25;

/// The request limiter.
#[derive(Debug)]
pub(crate) struct Limiter {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    per_minute: u32,
    per_hour: u32,
    ratio: f64,
    /// Tightening after 429s, 0.25 to 1.
    factor: f64,
    since_429: u32,
    /// Start times of requests in the last hour, oldest first.
    sent: VecDeque<Instant>,
    /// The windows (a minute and an hour; shorter in tests).
    minute: Duration,
    hour: Duration,
}

impl State {
    fn limit(&self, server: u32) -> usize {
        ((f64::from(server) * self.ratio * self.factor).floor() as usize).max(1)
    }

    /// How long until one more request fits both windows (zero: now).
    fn wait(&mut self, now: Instant) -> Duration {
        let (minute, hour) = (self.minute, self.hour);
        while self
            .sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= hour)
        {
            self.sent.pop_front();
        }
        let hour_limit = self.limit(self.per_hour);
        let minute_limit = self.limit(self.per_minute);
        let mut wait = Duration::ZERO;
        if self.sent.len() >= hour_limit {
            let oldest = self.sent[self.sent.len() - hour_limit];
            wait = wait.max(hour.saturating_sub(now.duration_since(oldest)));
        }
        let in_minute = self
            .sent
            .iter()
            .rev()
            .take_while(|t| now.duration_since(**t) < minute)
            .count();
        if in_minute >= minute_limit {
            let oldest = self.sent[self.sent.len() - minute_limit];
            wait = wait.max(minute.saturating_sub(now.duration_since(oldest)));
        }
        wait
    }
}

impl Limiter {
    /// A limiter at `ratio` of `per_minute` and `per_hour`.
    pub(crate) fn new(per_minute: u32, per_hour: u32, ratio: f64) -> Self {
        Self::with_windows(per_minute, per_hour, ratio, MINUTE, HOUR)
    }

    /// The same over other windows (tests that cannot wait a minute).
    pub(crate) fn with_windows(
        per_minute: u32,
        per_hour: u32,
        ratio: f64,
        minute: Duration,
        hour: Duration,
    ) -> Self {
        let slack = |w: Duration| w + w / 50 + Duration::from_millis(100);
        let (minute, hour) = (slack(minute), slack(hour));
        Limiter {
            state: Mutex::new(State {
                per_minute,
                per_hour,
                ratio,
                factor: 1.0,
                since_429: 0,
                sent: VecDeque::new(),
                minute,
                hour,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adopts the server's limits (from its settings).
    pub(crate) fn set_limits(&self, per_minute: u32, per_hour: u32) {
        let mut s = self.lock();
        s.per_minute = per_minute.max(1);
        s.per_hour = per_hour.max(1);
    }

    /// Waits until one more request is allowed, and counts it; the time
    /// waited.
    pub(crate) async fn acquire(&self) -> Duration {
        let mut waited = Duration::ZERO;
        loop {
            let wait = {
                let mut s = self.lock();
                let now = Instant::now();
                let wait = s.wait(now);
                if wait.is_zero() {
                    s.sent.push_back(now);
                    return waited;
                }
                wait
            };
            tokio::time::sleep(wait).await;
            waited += wait;
        }
    }

    /// A 429 came anyway: take a fifth off the share.
    pub(crate) fn throttled(&self) {
        let mut s = self.lock();
        s.factor = (s.factor * 0.8).max(MIN_FACTOR);
        s.since_429 = 0;
    }

    /// A request went through without a 429.
    pub(crate) fn passed(&self) {
        let mut s = self.lock();
        s.since_429 += 1;
        if s.since_429 >= 100 && s.factor < 1.0 {
            s.factor = (s.factor * 1.05).min(1.0);
            s.since_429 = 0;
        }
    }

    /// Requests allowed per minute now.
    #[cfg(test)]
    pub(crate) fn minute_limit(&self) -> usize {
        let s = self.lock();
        s.limit(s.per_minute)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn never_more_than_the_share_in_any_minute() {
        let l = Limiter::new(60, 50_000, 0.9);
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..200 {
            l.acquire().await;
            times.push(start.elapsed());
            // Requests arrive in bursts, as they do under load.
            if times.len() % 7 == 0 {
                tokio::time::advance(Duration::from_millis(1300)).await;
            }
        }
        let max_in_window = times
            .iter()
            .map(|t0| {
                times
                    .iter()
                    .filter(|t| **t >= *t0 && **t < *t0 + MINUTE)
                    .count()
            })
            .max()
            .unwrap();
        assert_eq!(max_in_window, 54);
        // And it kept going: 200 requests in about 200/54 minutes.
        let took = times.last().unwrap().as_secs_f64() / 60.0;
        assert!((3.0..4.5).contains(&took), "{took} minutes");
    }

    #[tokio::test(start_paused = true)]
    async fn the_hour_limit_binds_too() {
        let l = Limiter::new(1000, 100, 1.0);
        for _ in 0..100 {
            assert_eq!(l.acquire().await, Duration::ZERO);
        }
        let waited = l.acquire().await;
        assert!(waited >= Duration::from_secs(3599), "{waited:?}");
    }

    #[test]
    fn throttling_tightens_and_good_requests_loosen() {
        let l = Limiter::new(100, 50_000, 1.0);
        assert_eq!(l.minute_limit(), 100);
        l.throttled();
        assert_eq!(l.minute_limit(), 80);
        for _ in 0..10 {
            l.throttled();
        }
        assert_eq!(l.minute_limit(), 25, "floor at a quarter");
        for _ in 0..100 {
            l.passed();
        }
        assert_eq!(l.minute_limit(), 26);
    }
}
