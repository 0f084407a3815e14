//! The process-wide memory budget (`service.memory_limit`): receivers ask it
//! before they read more, and refuse (network) or wait (stdin) while the
//! process is over it.
//!
//! ## What it counts
//!
//! The estimate of what the process uses is `base + leased`:
//!
//! - `leased`: the request bodies receivers hold right now (read, being
//!   decompressed or decoded), added and removed exactly as requests come
//!   and go ([`MemoryBudget::lease`]);
//! - `base`: everything else, from the resident set size the runtime samples
//!   every [`SAMPLE_INTERVAL`] ([`MemoryBudget::record_resident`]), minus what
//!   was leased at that moment so no body is counted twice.
//!
//! Neither alone is enough. The resident size lags by up to a sampling
//! period, and a burst of large requests in between would all be admitted;
//! the leases see each one as it arrives. The leases alone miss everything
//! else weir holds (queues, decoded batches, allocator slack). Where there is
//! no `/proc` the runtime records nothing, `base` stays 0 and the budget
//! counts leases only.
//!
//! ## When it says no
//!
//! [`MemoryBudget::is_over`] is true above the high-water mark,
//! [`HIGH_WATER_PERCENT`] of the limit. The headroom is for what is already
//! admitted when the mark is crossed: requests being read and decoded (an
//! OTLP/JSON body decodes to several times its size), batches on their way
//! to the queues, and the growth of a sampling period. Refusing at the limit
//! itself would let those carry the process past it.
//!
//! ## Cost
//!
//! The check is two relaxed atomic loads and an add, with no lock, so a
//! receiver may ask on every request. An unlimited budget (no
//! `memory_limit`, and every test context) is one branch.
//!
//! ```
//! use weir_core::ByteSize;
//! use weir_core::memory::MemoryBudget;
//!
//! let budget = MemoryBudget::new(ByteSize::mib(100));
//! budget.record_resident(80 << 20); // the runtime's sample: 80 MiB resident
//! assert!(!budget.is_over());
//! let body = budget.lease(15 << 20); // a 15 MiB request is being decoded
//! assert!(budget.is_over(), "95 MiB is over the 90 MiB high-water mark");
//! drop(body);
//! assert!(!budget.is_over());
//! assert!(!MemoryBudget::unlimited().is_over());
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::ByteSize;

/// Receivers refuse above this share of the limit, in percent (see the
/// [module docs](self) for why not 100).
pub const HIGH_WATER_PERCENT: u64 = 90;

/// How often the runtime samples the resident set size. Reading
/// `/proc/self/status` takes a few microseconds; at this period that is far
/// below 0.1% of a core, while a burst between two samples is still seen
/// by the leases.
pub const SAMPLE_INTERVAL: Duration = Duration::from_millis(50);

/// How often [`MemoryBudget::wait_until_under`] looks again.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

#[derive(Debug)]
struct Inner {
    limit: u64,
    high_water: u64,
    /// Resident bytes at the last sample, less what was leased then.
    base: AtomicU64,
    /// Bytes receivers hold now.
    leased: AtomicU64,
}

/// A handle on the process's memory budget; see the [module docs](self).
/// Cheap to clone: clones share the same numbers.
#[derive(Debug, Clone, Default)]
pub struct MemoryBudget(Option<Arc<Inner>>);

impl MemoryBudget {
    /// A budget that never refuses (no `service.memory_limit`).
    pub fn unlimited() -> Self {
        MemoryBudget(None)
    }

    /// A budget of `limit` bytes; receivers refuse above
    /// [`HIGH_WATER_PERCENT`] of it.
    pub fn new(limit: ByteSize) -> Self {
        let limit = limit.bytes().max(1);
        let high_water = u64::try_from(u128::from(limit) * u128::from(HIGH_WATER_PERCENT) / 100)
            .unwrap_or(u64::MAX);
        MemoryBudget(Some(Arc::new(Inner {
            limit,
            high_water,
            base: AtomicU64::new(0),
            leased: AtomicU64::new(0),
        })))
    }

    /// The configured limit; `None` when unlimited.
    pub fn limit(&self) -> Option<ByteSize> {
        self.0.as_ref().map(|i| ByteSize(i.limit))
    }

    /// The estimate above which receivers refuse; `None` when unlimited.
    pub fn high_water(&self) -> Option<u64> {
        self.0.as_ref().map(|i| i.high_water)
    }

    /// What the process is estimated to use now: the last resident sample
    /// with the current leases in place of those of the sample. 0 when
    /// unlimited (nothing is tracked).
    pub fn used(&self) -> u64 {
        self.0.as_ref().map_or(0, |i| {
            i.base
                .load(Ordering::Relaxed)
                .saturating_add(i.leased.load(Ordering::Relaxed))
        })
    }

    /// Whether the process is over the high-water mark: a receiver refuses
    /// (or waits) before reading more. Lock-free.
    pub fn is_over(&self) -> bool {
        match &self.0 {
            None => false,
            Some(i) => {
                i.base
                    .load(Ordering::Relaxed)
                    .saturating_add(i.leased.load(Ordering::Relaxed))
                    > i.high_water
            }
        }
    }

    /// Records a sample of the process's resident set size, in bytes. The
    /// runtime calls it every [`SAMPLE_INTERVAL`]; tests call it to set the
    /// reading they want.
    pub fn record_resident(&self, bytes: u64) {
        if let Some(i) = &self.0 {
            let leased = i.leased.load(Ordering::Relaxed);
            i.base
                .store(bytes.saturating_sub(leased), Ordering::Relaxed);
        }
    }

    /// Counts `bytes` of a request as held until the lease is dropped. Grow
    /// it with [`MemoryLease::grow`] as the request expands (decompressed,
    /// decoded).
    pub fn lease(&self, bytes: usize) -> MemoryLease {
        let mut lease = MemoryLease {
            inner: self.0.clone(),
            bytes: 0,
        };
        lease.grow(bytes);
        lease
    }

    /// Completes once the process is under the high-water mark (at once
    /// when it is): for receivers that slow down instead of refusing.
    pub async fn wait_until_under(&self) {
        while self.is_over() {
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

/// Bytes a receiver holds for one request, counted in the [`MemoryBudget`]
/// until dropped.
#[derive(Debug)]
#[must_use = "the bytes are counted only while the lease is held"]
pub struct MemoryLease {
    inner: Option<Arc<Inner>>,
    bytes: u64,
}

impl MemoryLease {
    /// Counts `bytes` more.
    pub fn grow(&mut self, bytes: usize) {
        if let Some(i) = &self.inner {
            let n = bytes as u64;
            i.leased.fetch_add(n, Ordering::Relaxed);
            self.bytes += n;
        }
    }

    /// The bytes this lease counts.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for MemoryLease {
    fn drop(&mut self) {
        if let Some(i) = &self.inner {
            i.leased.fetch_sub(self.bytes, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_above_the_high_water_mark_of_resident_plus_leases() {
        let b = MemoryBudget::new(ByteSize(1000));
        assert_eq!(b.high_water(), Some(900));
        b.record_resident(900);
        assert!(!b.is_over(), "at the mark is not over it");
        b.record_resident(901);
        assert!(b.is_over());
        b.record_resident(500);
        let mut lease = b.lease(300);
        assert!(!b.is_over());
        lease.grow(101);
        assert!(b.is_over());
        assert_eq!(b.used(), 901);
        drop(lease);
        assert_eq!(b.used(), 500);
    }

    #[test]
    fn a_sample_does_not_count_the_leased_bodies_twice() {
        let b = MemoryBudget::new(ByteSize(1000));
        let lease = b.lease(400);
        // The resident size includes the 400 leased bytes.
        b.record_resident(600);
        assert_eq!(b.used(), 600);
        drop(lease);
        assert_eq!(b.used(), 200, "released bodies leave the estimate at once");
    }

    #[test]
    fn unlimited_never_refuses_and_tracks_nothing() {
        let b = MemoryBudget::unlimited();
        b.record_resident(u64::MAX);
        let l = b.lease(usize::MAX);
        assert!(!b.is_over());
        assert_eq!((b.used(), l.bytes(), b.limit()), (0, 0, None));
    }

    #[tokio::test]
    async fn wait_until_under_returns_once_memory_is_released() {
        let b = MemoryBudget::new(ByteSize(100));
        b.record_resident(95);
        let sampler = b.clone();
        let waiter = tokio::spawn(async move { b.wait_until_under().await });
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(!waiter.is_finished());
        sampler.record_resident(10);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("woke up")
            .unwrap();
    }
}
