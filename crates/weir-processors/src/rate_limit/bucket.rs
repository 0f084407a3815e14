//! Token buckets and the bounded per-key table.
//!
//! A bucket holds up to `burst` tokens and refills at `rate` per second,
//! computed lazily from a monotonic clock ([`tokio::time::Instant`]) whenever it
//! is touched: no background refill. A request costing more than `burst` can
//! never find that many tokens, so a request needs `min(cost, burst)` tokens and
//! then takes its whole cost, leaving the bucket in debt: the long-run rate stays
//! `rate` and big batches are not starved.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use tokio::time::Instant;

/// One token bucket.
#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    tokens: f64,
    last: Instant,
    /// CLOCK reference bit: set on use, cleared by the eviction hand.
    referenced: bool,
}

/// What a bucket said about a request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// Admitted now; its tokens are taken.
    Admit,
    /// Over the limit (drop mode); no token taken.
    Reject,
    /// Tokens reserved (delay mode): pass it on after this wait.
    Wait(Duration),
}

/// Rate and burst shared by every bucket of a processor.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Tokens added per second.
    pub rate: f64,
    /// Most tokens a bucket holds.
    pub burst: f64,
}

impl Bucket {
    /// A full bucket.
    pub(crate) fn new(limits: Limits, now: Instant) -> Self {
        Bucket {
            tokens: limits.burst,
            last: now,
            referenced: true,
        }
    }

    fn refill(&mut self, limits: Limits, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * limits.rate).min(limits.burst);
        self.last = now;
    }

    /// Decides a request of `cost` tokens at `now`; `delay` reserves instead of
    /// rejecting.
    pub(crate) fn take(
        &mut self,
        limits: Limits,
        cost: f64,
        now: Instant,
        delay: bool,
    ) -> Decision {
        self.refill(limits, now);
        self.referenced = true;
        let need = cost.min(limits.burst);
        if self.tokens >= need {
            self.tokens -= cost;
            Decision::Admit
        } else if delay {
            let wait = (need - self.tokens) / limits.rate;
            self.tokens -= cost;
            Decision::Wait(Duration::from_secs_f64(wait))
        } else {
            Decision::Reject
        }
    }

    /// Whether the bucket is unused for `idle` and full again, so forgetting it
    /// changes nothing.
    fn forgettable(&self, limits: Limits, now: Instant, idle: Duration) -> bool {
        let elapsed = now.saturating_duration_since(self.last);
        elapsed >= idle && self.tokens + elapsed.as_secs_f64() * limits.rate >= limits.burst
    }
}

/// Buckets by key, at most `max_keys` of them.
///
/// Eviction when full is CLOCK (second chance), an O(1) amortized
/// approximation of least-recently-used: keys sit in a ring in insertion
/// order; the hand skips (and clears) keys used since it last passed and evicts
/// the first one that was not.
pub struct KeyTable {
    /// foldhash, randomly seeded: keys come from the data, so the hash is
    /// keyed (no fixed collisions to aim at), and ~5x cheaper than SipHash.
    map: DashMap<Arc<str>, Bucket, foldhash::fast::RandomState>,
    ring: VecDeque<Arc<str>>,
    /// `map.len()`, kept here: DashMap counts by visiting every shard.
    count: usize,
    max_keys: usize,
    limits: Limits,
}

impl KeyTable {
    /// An empty table of at most `max_keys` buckets of `limits`.
    pub fn new(limits: Limits, max_keys: usize) -> Self {
        KeyTable {
            map: DashMap::with_capacity_and_hasher(
                max_keys.min(65_536),
                foldhash::fast::RandomState::default(),
            ),
            ring: VecDeque::with_capacity(max_keys.min(65_536)),
            count: 0,
            max_keys,
            limits,
        }
    }

    /// Number of keys tracked.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Decides a request of `cost` for `key`. The map guard is released before
    /// returning, so a caller may sleep on the answer.
    pub fn take(&mut self, key: &str, cost: f64, now: Instant, delay: bool) -> Decision {
        if let Some(mut b) = self.map.get_mut(key) {
            return b.take(self.limits, cost, now, delay);
        }
        if self.count >= self.max_keys {
            self.evict_one();
        }
        let key: Arc<str> = Arc::from(key);
        let mut bucket = Bucket::new(self.limits, now);
        let d = bucket.take(self.limits, cost, now, delay);
        self.map.insert(key.clone(), bucket);
        self.count += 1;
        self.ring.push_back(key);
        d
    }

    fn evict_one(&mut self) {
        // Each key is skipped at most once, so two turns of the ring suffice.
        for _ in 0..2 * self.ring.len() + 1 {
            let Some(key) = self.ring.pop_front() else {
                return;
            };
            let second_chance = match self.map.get_mut(&key) {
                None => continue,
                Some(mut b) if b.referenced => {
                    b.referenced = false;
                    true
                }
                Some(_) => false,
            };
            if second_chance {
                self.ring.push_back(key);
            } else {
                if self.map.remove(&key).is_some() {
                    self.count -= 1;
                }
                return;
            }
        }
    }

    /// Forgets keys idle for `idle` whose buckets have refilled. Returns how many.
    pub fn sweep(&mut self, now: Instant, idle: Duration) -> usize {
        let before = self.count;
        let limits = self.limits;
        self.map.retain(|_, b| !b.forgettable(limits, now, idle));
        self.count = self.map.len();
        let map = &self.map;
        self.ring.retain(|k| map.contains_key(k));
        before - self.count
    }
}
