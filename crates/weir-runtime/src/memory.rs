//! `service.memory_limit`: the [`MemoryBudget`] receivers respect, and the
//! task that feeds it the process's resident set size.
//!
//! The budget itself (what it counts, why receivers refuse at 90%) is
//! [`weir_core::memory`]; this is the part with I/O. Reading
//! `/proc/self/status` every [`SAMPLE_INTERVAL`] costs a few microseconds a
//! time. Where it cannot be read (not Linux), nothing is recorded and the
//! budget counts the request bodies receivers hold.

use std::time::Duration;

use weir_core::memory::{MemoryBudget, SAMPLE_INTERVAL};
use weir_core::{ByteSize, Shutdown};

/// The budget for `limit` (unlimited when `None`). With a limit, a task
/// samples the resident set size into it until `stop` fires, logging when
/// the process goes over the high-water mark and back under.
pub fn budget(limit: Option<ByteSize>, stop: Shutdown) -> MemoryBudget {
    let Some(limit) = limit else {
        return MemoryBudget::unlimited();
    };
    let budget = MemoryBudget::new(limit);
    let Some(first) = resident_bytes() else {
        tracing::warn!(
            limit = limit.bytes(),
            "cannot read this process's resident memory: memory_limit counts request bodies only"
        );
        return budget;
    };
    budget.record_resident(first);
    tokio::spawn(sample(budget.clone(), stop, SAMPLE_INTERVAL));
    budget
}

async fn sample(budget: MemoryBudget, stop: Shutdown, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut over = false;
    loop {
        tokio::select! {
            () = stop.wait() => return,
            _ = ticker.tick() => {}
        }
        let Some(rss) = resident_bytes() else { return };
        budget.record_resident(rss);
        let now_over = budget.is_over();
        if now_over != over {
            over = now_over;
            let (used, limit) = (budget.used(), budget.limit().map_or(0, ByteSize::bytes));
            if over {
                tracing::warn!(
                    used,
                    limit,
                    "over 90% of memory_limit: receivers refuse new data"
                );
            } else {
                tracing::info!(
                    used,
                    limit,
                    "back under 90% of memory_limit: receivers take data again"
                );
            }
        }
    }
}

/// The process's resident set size in bytes (`VmRSS` of `/proc/self/status`,
/// in kB, so no page size is assumed); `None` where there is no such file.
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_plausible_resident_size_on_linux() {
        if cfg!(target_os = "linux") {
            let rss = resident_bytes().expect("VmRSS");
            assert!(rss > 1 << 20 && rss < 1 << 40, "{rss}");
        }
    }

    #[tokio::test]
    async fn the_sampler_keeps_the_budget_current_until_stopped() {
        let (trigger, stop) = Shutdown::new();
        // A limit far below any process: over as soon as it is sampled.
        let budget = MemoryBudget::new(ByteSize::kib(1));
        let task = tokio::spawn(sample(budget.clone(), stop, Duration::from_millis(5)));
        if cfg!(target_os = "linux") {
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert!(budget.used() > 1 << 20);
            assert!(budget.is_over());
        }
        trigger.trigger();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("stopped")
            .unwrap();
    }

    #[tokio::test]
    async fn no_limit_is_an_unlimited_budget() {
        let (_trigger, stop) = Shutdown::new();
        let b = budget(None, stop);
        assert_eq!(b.limit(), None);
        assert!(!b.is_over());
    }
}
