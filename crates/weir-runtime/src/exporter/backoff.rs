//! Jittered exponential backoff that honours a destination's Retry-After.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::settings::RetrySettings;

/// The waits of one batch's retries.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
    max: Duration,
    rng: u64,
}

impl Backoff {
    /// Backoff starting at `settings.initial`, capped at `settings.max`.
    pub fn new(settings: &RetrySettings) -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0x9E37_79B9_7F4A_7C15, |d| d.as_nanos() as u64)
            | 1;
        Backoff {
            next: settings.initial.max(Duration::from_millis(1)),
            max: settings.max.max(settings.initial),
            rng: seed,
        }
    }

    /// The wait before the next try: full jitter between half and all of the
    /// current step (so clients don't retry in lockstep), never less than
    /// `retry_after`.
    pub fn next_wait(&mut self, retry_after: Option<Duration>) -> Duration {
        let step = self.next;
        self.next = (self.next * 2).min(self.max);
        // xorshift64: jitter needs no cryptographic quality.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let frac = (self.rng >> 11) as f64 / (1u64 << 53) as f64;
        let jittered = step.mul_f64(0.5 + 0.5 * frac);
        match retry_after {
            Some(after) => jittered.max(after),
            None => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_the_cap_with_jitter_and_honours_retry_after() {
        let s = RetrySettings {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(400),
            ..Default::default()
        };
        let mut b = Backoff::new(&s);
        let w: Vec<_> = (0..5).map(|_| b.next_wait(None)).collect();
        assert!(w[0] >= Duration::from_millis(50) && w[0] <= Duration::from_millis(100));
        assert!(w[1] >= Duration::from_millis(100) && w[1] <= Duration::from_millis(200));
        for x in &w[2..] {
            assert!(*x >= Duration::from_millis(200) && *x <= Duration::from_millis(400));
        }
        assert_eq!(
            b.next_wait(Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
    }
}
