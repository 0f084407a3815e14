//! The state every connection shares: the live settings (keys, limits,
//! faults), the limiter, the quota and the record, each behind its own lock
//! so a control call never waits for a request being parsed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::config::{DEFAULT_KEY_ALIAS, StandinConfig};
use crate::faults::Faults;
use crate::limits::Quota;
use crate::records::Records;
use weir_ledger::ratelimit::{Exceeded, RateConfig, RateLimiter};

/// Settings that control calls change while the stand-in runs.
pub(crate) struct Live {
    /// `(alias, key)`; the first is the configured one.
    pub(crate) keys: Vec<(Arc<str>, String)>,
    /// Answer 401 to every request, whatever key it carries.
    pub(crate) reject_all: bool,
    pub(crate) rate: RateConfig,
    pub(crate) retry_after_minute: Option<u64>,
    pub(crate) retry_after_hour: Option<u64>,
    pub(crate) max_batch_size: usize,
    pub(crate) queue_depth: u64,
    pub(crate) faults: Faults,
}

impl Live {
    /// The alias of `key`, if it is valid now.
    pub(crate) fn alias_of(&self, key: &str) -> Option<Arc<str>> {
        if self.reject_all || key.is_empty() {
            return None;
        }
        self.keys
            .iter()
            .find(|(_, k)| k == key)
            .map(|(a, _)| a.clone())
    }

    /// `Retry-After` of a 429 for the limit that was hit.
    pub(crate) fn retry_after(&self, which: Exceeded) -> u64 {
        match which {
            Exceeded::Minute => self
                .retry_after_minute
                .unwrap_or_else(|| self.rate.retry_after_secs(which)),
            Exceeded::Hour => self
                .retry_after_hour
                .unwrap_or_else(|| self.rate.retry_after_secs(which)),
        }
    }
}

/// The project the key belongs to (fixed at start).
pub(crate) struct Project {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) environment: String,
}

/// Shared by the server, its connections and every [`crate::Control`].
pub(crate) struct Shared {
    pub(crate) started: Instant,
    pub(crate) record_entries: bool,
    pub(crate) max_body_bytes: usize,
    pub(crate) project: Project,
    next_request: AtomicU64,
    pub(crate) live: Mutex<Live>,
    pub(crate) limiter: Mutex<RateLimiter>,
    pub(crate) quota: Mutex<Quota>,
    pub(crate) records: Mutex<Records>,
    /// Woken whenever logs or spans are accepted (for the `wait_for_*` calls).
    pub(crate) arrived: Notify,
}

/// Locks, ignoring poison: a panicking test thread must not turn every later
/// assertion into a confusing second panic.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(crate) fn new(cfg: &StandinConfig) -> Self {
        Shared {
            started: Instant::now(),
            record_entries: cfg.record_entries,
            max_body_bytes: cfg.max_body_bytes,
            project: Project {
                id: cfg.project_id,
                name: cfg.project_name.clone(),
                environment: cfg.environment.clone(),
            },
            next_request: AtomicU64::new(0),
            live: Mutex::new(Live {
                keys: vec![(Arc::from(DEFAULT_KEY_ALIAS), cfg.api_key.clone())],
                reject_all: false,
                rate: RateConfig {
                    per_minute: cfg.requests_per_minute,
                    per_hour: cfg.requests_per_hour,
                    minute: cfg.minute_window.max(Duration::from_nanos(1)),
                    hour: cfg.hour_window.max(Duration::from_nanos(1)),
                },
                retry_after_minute: cfg.retry_after_minute,
                retry_after_hour: cfg.retry_after_hour,
                max_batch_size: clamp_batch(cfg.max_batch_size),
                queue_depth: 0,
                faults: Faults::default(),
            }),
            limiter: Mutex::new(RateLimiter::default()),
            quota: Mutex::new(Quota::new(cfg.daily_quota, cfg.quota_period)),
            records: Mutex::new(Records::default()),
            arrived: Notify::new(),
        }
    }

    /// The next request's index (0-based) and counts it.
    pub(crate) fn next_request(&self) -> u64 {
        let index = self.next_request.fetch_add(1, Ordering::Relaxed);
        lock(&self.records).stats.requests += 1;
        index
    }

    /// Counts an answer with `status`.
    pub(crate) fn answered(&self, status: u16) {
        lock(&self.records).answered(status);
    }
}

/// The gateway bounds a batch to 1000 whatever the settings say.
pub(crate) fn clamp_batch(n: usize) -> usize {
    n.clamp(1, weir_ledger::entry::limits::BATCH)
}
