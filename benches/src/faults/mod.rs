//! Fault injection (issue 8): scenarios that drive a real weir binary with an
//! identity load (every log record carries a unique id, see [`ids`]) into a
//! destination that counts the ids it receives, break something on the way,
//! and hold weir to:
//!
//! - **nothing lost**: every record acknowledged to the client arrives;
//! - **duplicates bounded**, by what the fault can make weir send twice;
//! - **memory bounded**: weir's peak RSS (VmHWM) stays under a budget;
//! - **clean exits**: SIGTERM ends every run with exit code 0;
//! - **only retryable refusals**: a client is told 429/503 or
//!   UNAVAILABLE/RESOURCE_EXHAUSTED, never anything else;
//!
//! plus each scenario's own bounds. The test suite runs them short
//! (`crates/weir/tests/faults.rs`, `quick`), `cargo xtask bench faults` long,
//! on the release binary. `docs/faults.md` describes each.

pub mod destination;
pub mod ids;
pub mod ledger;
pub mod lifecycle;
pub mod load;
pub mod pipeline;
pub mod pressure;
pub mod report;
pub mod rig;
pub mod spool;

use std::time::Duration;

pub use report::FaultReport;

use crate::BenchEnv;

/// Export calls weir keeps in flight per exporter (its default
/// `max_in_flight`): what a fault can catch mid-request.
pub const MAX_IN_FLIGHT: u64 = 4;

/// weir's peak RSS budget in every scenario.
pub const RSS_BUDGET: u64 = 128 << 20;

/// The longest wait for acknowledged records to arrive after the load.
pub const DRAIN: Duration = Duration::from_secs(90);

/// Every fault scenario, as `cargo xtask bench` names them.
pub const FAULT_SCENARIOS: &[&str] = &[
    "faults-down-otlp",
    "faults-down-ledger",
    "faults-slow",
    "faults-throttle",
    "faults-sigterm",
    "faults-overload",
    "faults-kill9",
    "faults-sigterm-disk",
    "faults-spool-full",
    "faults-disk-full",
];

/// Control experiments: scenarios that must break a bound, to show the
/// harness sees it (`faults-kill9-memory-control`: `kill -9` with the memory
/// queue must lose acknowledged records).
pub const CONTROLS: &[&str] = &["faults-kill9-memory-control"];

/// `quick` in quick mode, else `full`.
pub fn pick<T>(env: &BenchEnv, quick: T, full: T) -> T {
    if env.quick { quick } else { full }
}

/// Runs fault scenario `name`; `None` when there is none by that name.
pub fn run(name: &str, env: &BenchEnv) -> Option<Result<FaultReport, String>> {
    Some(match name {
        "faults-down-otlp" => destination::down_otlp(env),
        "faults-down-ledger" => destination::down_ledger(env),
        "faults-slow" => destination::slow(env),
        "faults-throttle" => destination::throttle(env),
        "faults-sigterm" => lifecycle::sigterm(env),
        "faults-overload" => pressure::overload(env),
        "faults-kill9" => lifecycle::kill9(env, lifecycle::Queue::Disk),
        "faults-kill9-memory-control" => lifecycle::kill9(env, lifecycle::Queue::Memory),
        "faults-sigterm-disk" => lifecycle::sigterm_disk(env),
        "faults-spool-full" => spool::spool_full(env, spool::Limit::MaxBytes),
        "faults-disk-full" => spool::spool_full(env, spool::Limit::Tmpfs),
        _ => return None,
    })
}
