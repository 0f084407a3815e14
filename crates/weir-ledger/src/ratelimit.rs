//! Ledger's per-key request limits, as a server enforces them: **sliding
//! windows** (a log of admitted request times), a request refused when
//! `limit` requests were admitted in the window ending now. That is the
//! strictest reading of "N per minute": a client that passes it also passes
//! any fixed-window limiter, the reverse is not true. Refused requests are
//! not logged, so a client that waits is let back in as soon as the oldest
//! admitted request leaves the window. Used by weir's `http` receiver on the
//! Ledger routes and by the stand-in Ledger server.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::settings::RateLimits;

/// The limits and the windows they count over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateConfig {
    /// Requests per key in any `minute`.
    pub per_minute: u32,
    /// Requests per key in any `hour`.
    pub per_hour: u32,
    /// The "minute" (60 s; tests shorten it).
    pub minute: Duration,
    /// The "hour" (3600 s).
    pub hour: Duration,
}

impl RateConfig {
    /// The limits of a settings document over real minutes and hours.
    pub fn from_settings(r: &RateLimits) -> Self {
        RateConfig {
            per_minute: r.requests_per_minute,
            per_hour: r.requests_per_hour,
            minute: Duration::from_secs(60),
            hour: Duration::from_secs(3600),
        }
    }

    /// The `detail` of a 429 for `which`, in Ledger's words.
    pub fn refusal(&self, which: Exceeded) -> String {
        match which {
            Exceeded::Minute => {
                format!(
                    "Rate limit exceeded: {} requests per minute",
                    self.per_minute
                )
            }
            Exceeded::Hour => format!("Rate limit exceeded: {} requests per hour", self.per_hour),
        }
    }

    /// `Retry-After` for a refusal: the window it came from, in whole
    /// seconds rounded up (60 or 3600, as Ledger says), at least 1 (a
    /// `Retry-After` of 0 means "now").
    pub fn retry_after_secs(&self, which: Exceeded) -> u64 {
        let w = match which {
            Exceeded::Minute => self.minute,
            Exceeded::Hour => self.hour,
        };
        (w.as_secs() + u64::from(w.subsec_nanos() > 0)).max(1)
    }
}

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    /// The per-minute limit.
    Minute,
    /// The per-hour limit.
    Hour,
}

/// The `X-RateLimit-*` values of one answer.
#[derive(Debug, Clone, Copy)]
pub struct RateHeaders {
    /// `X-RateLimit-Limit-Minute`.
    pub limit_minute: u32,
    /// `X-RateLimit-Remaining-Minute`.
    pub remaining_minute: u32,
    /// `X-RateLimit-Limit-Hour`.
    pub limit_hour: u32,
    /// `X-RateLimit-Remaining-Hour`.
    pub remaining_hour: u32,
}

impl RateHeaders {
    /// The four headers as (lower-case name, value).
    pub fn pairs(&self) -> [(&'static str, u32); 4] {
        [
            ("x-ratelimit-limit-minute", self.limit_minute),
            ("x-ratelimit-remaining-minute", self.remaining_minute),
            ("x-ratelimit-limit-hour", self.limit_hour),
            ("x-ratelimit-remaining-hour", self.remaining_hour),
        ]
    }
}

/// Admitted request times of one key.
#[derive(Default)]
struct KeyWindows {
    minute: VecDeque<Instant>,
    hour: VecDeque<Instant>,
}

/// Sliding-window limiter keyed by API key.
#[derive(Default)]
pub struct RateLimiter {
    keys: HashMap<String, KeyWindows>,
}

fn expire(log: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while log
        .front()
        .is_some_and(|t| now.duration_since(*t) >= window)
    {
        log.pop_front();
    }
}

fn remaining(limit: u32, used: usize) -> u32 {
    limit.saturating_sub(u32::try_from(used).unwrap_or(u32::MAX))
}

impl RateLimiter {
    /// Forgets every key's history.
    pub fn clear(&mut self) {
        self.keys.clear();
    }

    /// Admits (and logs) a request of `key` at `now`, or says which limit
    /// refuses it; either way with the headers to send.
    pub fn admit(
        &mut self,
        key: &str,
        now: Instant,
        cfg: RateConfig,
    ) -> (Result<(), Exceeded>, RateHeaders) {
        if !self.keys.contains_key(key) {
            self.keys.insert(key.to_owned(), KeyWindows::default());
        }
        let w = self.keys.get_mut(key).expect("inserted above");
        expire(&mut w.minute, now, cfg.minute);
        expire(&mut w.hour, now, cfg.hour);
        // The hourly limit wins when both are hit: waiting a minute would not help.
        let verdict = if w.hour.len() >= cfg.per_hour as usize {
            Err(Exceeded::Hour)
        } else if w.minute.len() >= cfg.per_minute as usize {
            Err(Exceeded::Minute)
        } else {
            w.minute.push_back(now);
            w.hour.push_back(now);
            Ok(())
        };
        let headers = RateHeaders {
            limit_minute: cfg.per_minute,
            remaining_minute: remaining(cfg.per_minute, w.minute.len()),
            limit_hour: cfg.per_hour,
            remaining_hour: remaining(cfg.per_hour, w.hour.len()),
        };
        (verdict, headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: RateConfig = RateConfig {
        per_minute: 2,
        per_hour: 3,
        minute: Duration::from_secs(60),
        hour: Duration::from_secs(3600),
    };

    #[test]
    fn sliding_minute_then_hour() {
        let mut l = RateLimiter::default();
        let t0 = Instant::now();
        assert!(l.admit("k", t0, CFG).0.is_ok());
        let (v, h) = l.admit("k", t0 + Duration::from_secs(30), CFG);
        assert!(v.is_ok());
        assert_eq!((h.remaining_minute, h.remaining_hour), (0, 1));
        assert_eq!(
            l.admit("k", t0 + Duration::from_secs(59), CFG).0,
            Err(Exceeded::Minute)
        );
        assert!(l.admit("other", t0, CFG).0.is_ok(), "limits are per key");
        // The first request leaves the window at exactly 60 s.
        assert!(l.admit("k", t0 + Duration::from_secs(60), CFG).0.is_ok());
        assert_eq!(
            l.admit("k", t0 + Duration::from_secs(200), CFG).0,
            Err(Exceeded::Hour)
        );
    }

    #[test]
    fn retry_after_is_the_window_rounded_up() {
        let c = RateConfig::from_settings(&RateLimits::default());
        assert_eq!(c.retry_after_secs(Exceeded::Minute), 60);
        assert_eq!(c.retry_after_secs(Exceeded::Hour), 3600);
        assert_eq!(
            c.refusal(Exceeded::Minute),
            "Rate limit exceeded: 1000 requests per minute"
        );
        let w = |ms| RateConfig {
            minute: Duration::from_millis(ms),
            ..c
        };
        assert_eq!(w(1500).retry_after_secs(Exceeded::Minute), 2);
        assert_eq!(w(200).retry_after_secs(Exceeded::Minute), 1);
        assert_eq!(w(0).retry_after_secs(Exceeded::Minute), 1);
    }
}
