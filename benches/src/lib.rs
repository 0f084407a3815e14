//! weir's end-to-end benchmark harness. `cargo xtask bench` builds release
//! binaries and runs every scenario in full; the test suite runs each in
//! `quick` mode against the debug binary so the harness never rots.
#![forbid(unsafe_code)]

pub mod faults;
pub mod http_ndjson;
pub mod ledger_scenario;
pub mod loadgen;
pub mod otlp_scenarios;
pub mod procstat;
pub mod report;
pub mod sink;
pub mod stdin_file;

use std::path::PathBuf;

/// How a scenario is run.
#[derive(Debug, Clone)]
pub struct BenchEnv {
    /// The weir binary under test.
    pub weir: PathBuf,
    /// The workspace root (for `pipelines/`).
    pub workspace: PathBuf,
    /// A scratch folder (tmpfs in full runs, so the disk is not what is measured).
    pub scratch: PathBuf,
    /// A few seconds instead of a full run.
    pub quick: bool,
}

/// One scenario's result: a row of the report.
#[derive(Debug, Clone)]
pub struct BenchResult {
    /// Scenario name.
    pub scenario: String,
    /// Items put in.
    pub sent: u64,
    /// Items that came out the other end.
    pub received: u64,
    /// Wall-clock seconds from start to exit.
    pub seconds: f64,
    /// CPU seconds weir used (user + system).
    pub cpu_seconds: f64,
    /// Peak resident memory of weir, bytes.
    pub peak_rss: u64,
    /// Errors seen (non-zero exit, refused requests, ...).
    pub errors: u64,
    /// Anything worth a note.
    pub note: String,
}

impl BenchResult {
    /// Items per wall-clock second.
    pub fn items_per_sec(&self) -> f64 {
        self.received as f64 / self.seconds.max(1e-9)
    }
    /// Items per second of weir CPU time: throughput per core used.
    pub fn items_per_cpu_sec(&self) -> f64 {
        self.received as f64 / self.cpu_seconds.max(1e-9)
    }
}

/// Every scenario by name.
pub const SCENARIOS: &[&str] = &[
    "stdin-file-text",
    "stdin-file-json",
    "stdin-file-gzip",
    "otlp-grpc-logs",
    "otlp-grpc-logs-metrics-off",
    "otlp-grpc-traces",
    "otlp-grpc-metrics",
    "otlp-grpc-logs-zstd",
    "otlp-grpc-logs-processors",
    "otlp-http-logs",
    "steady-10k",
    "overload-10x",
    "otlp-grpc-latency",
    "http-ndjson-file",
    "ledger-gzip",
    "ledger-gzip-unordered",
];

/// Runs scenario `name` (one of [`SCENARIOS`] or [`faults::FAULT_SCENARIOS`]).
pub fn run(name: &str, env: &BenchEnv) -> Result<BenchResult, String> {
    if name.starts_with("faults-") {
        if name == "faults-disk-full"
            && let Err(why) = faults::spool::tmpfs_available()
        {
            return Ok(BenchResult {
                scenario: name.into(),
                sent: 0,
                received: 0,
                seconds: 0.0,
                cpu_seconds: 0.0,
                peak_rss: 0,
                errors: 0,
                note: format!("skipped: no size-limited tmpfs here ({why})"),
            });
        }
        // A full run needs an optimised load generator and sink too.
        if let Some(result) = otlp_scenarios::release::delegate(name, env) {
            return result;
        }
        return match faults::run(name, env) {
            Some(report) => {
                let report = report?;
                eprintln!("{}", report.summary());
                Ok(report.to_bench())
            }
            None => Err(format!(
                "unknown fault scenario `{name}`; known: {}",
                faults::FAULT_SCENARIOS.join(", ")
            )),
        };
    }
    if name.starts_with("otlp-")
        || name.starts_with("http-")
        || name.starts_with("ledger-")
        || name == "steady-10k"
        || name == "overload-10x"
    {
        // A full run needs an optimised load generator and sink.
        if let Some(result) = otlp_scenarios::release::delegate(name, env) {
            return result;
        }
    }
    match name {
        "stdin-file-text" => stdin_file::run(env, stdin_file::Input::Text, false),
        "stdin-file-json" => stdin_file::run(env, stdin_file::Input::Json, false),
        "stdin-file-gzip" => stdin_file::run(env, stdin_file::Input::Text, true),
        "steady-10k" => otlp_scenarios::steady_10k(env),
        "overload-10x" => otlp_scenarios::overload(env),
        "otlp-grpc-latency" => otlp_scenarios::latency(env),
        "http-ndjson-file" => http_ndjson::run(env),
        "ledger-gzip" => ledger_scenario::run(env, true),
        "ledger-gzip-unordered" => ledger_scenario::run(env, false),
        other => match otlp_scenarios::PASS_THROUGH
            .iter()
            .find(|p| p.name == other)
        {
            Some(p) => otlp_scenarios::pass_through(env, p),
            None => Err(format!(
                "unknown scenario `{other}`; known: {}",
                SCENARIOS.join(", ")
            )),
        },
    }
}
