//! `ledger-gzip`: OTLP gRPC logs → weir (`adaptive_batch` to 1000 records,
//! the `ledger` exporter with gzip, `ordered: true`) → the stand-in Ledger
//! (`weir-ledger-standin`, validating every entry as Ledger does, limits set
//! far above the load, counting instead of keeping entries). The load
//! generator and the stand-in share the harness's core; weir has its own.
//!
//! `received` is what the stand-in accepted; the note gives the sustained
//! rate (records accepted over load plus drain time), requests per 1000
//! records, and weir's CPU.

use std::time::{Duration, Instant};

use weir_core::Signal;
use weir_ledger_standin::{DEFAULT_API_KEY, Standin, StandinConfig};

use crate::loadgen::{self, LoadConfig, Protocol};
use crate::otlp_scenarios::flat_out;
use crate::otlp_scenarios::weir::{Sampler, Weir, pin_harness, pin_note};
use crate::{BenchEnv, BenchResult};

/// `ledger-gzip-unordered` is the same with `ordered: false` (requests
/// concurrently, up to the harness's 4 in flight).
fn name(ordered: bool) -> &'static str {
    if ordered {
        "ledger-gzip"
    } else {
        "ledger-gzip-unordered"
    }
}

fn pipeline(ledger: &str, ordered: bool) -> String {
    format!(
        "receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: 127.0.0.1:0 }}
      http: {{ endpoint: 127.0.0.1:0 }}
processors:
  adaptive_batch: {{ max_items: 1000, min_delay: 5ms, target_latency: 100ms }}
exporters:
  ledger:
    endpoint: {ledger}
    api_key: {DEFAULT_API_KEY}
    compression: gzip
    ordered: {ordered}
service:
  telemetry:
    metrics: {{ address: none }}
  pipelines:
    logs:
      receivers: [otlp]
      processors: [adaptive_batch]
      exporters: [ledger]
"
    )
}

/// Runs the scenario.
pub fn run(env: &BenchEnv, ordered: bool) -> Result<BenchResult, String> {
    let name = name(ordered);
    let pinned = pin_harness();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let standin = rt
        .block_on(Standin::start(StandinConfig {
            requests_per_minute: 10_000_000,
            requests_per_hour: 100_000_000,
            daily_quota: u64::MAX / 2,
            record_entries: false,
            ..StandinConfig::default()
        }))
        .map_err(|e| format!("starting the stand-in: {e}"))?;
    let dir = env.scratch.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let weir = Weir::start(env, &dir, &pipeline(&standin.base_url(), ordered), pinned)?;
    let mut cfg = LoadConfig::new(
        format!("http://{}", weir.grpc),
        Protocol::Grpc,
        Signal::Logs,
    );
    flat_out(&mut cfg, env.quick);
    let sampler = Sampler::start(weir.pid());
    let started = Instant::now();
    let report = rt.block_on(loadgen::run(&cfg))?;
    // Drain: until the stand-in has what weir acknowledged (at most 60 s).
    let deadline = Instant::now() + Duration::from_secs(60);
    while standin.stats().accepted_logs < report.ok_items && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let wall = started.elapsed();
    let usage = sampler.stop();
    let code = weir.stop()?;
    let stats = standin.stats();
    rt.block_on(standin.stop());
    let received = stats.accepted_logs;
    let per_1000 = stats.requests as f64 * 1000.0 / received.max(1) as f64;
    Ok(BenchResult {
        scenario: name.into(),
        sent: report.ok_items,
        received,
        seconds: wall.as_secs_f64(),
        cpu_seconds: usage.cpu_seconds,
        peak_rss: usage.peak_rss,
        errors: report.error_count()
            + u64::from(code != Some(0))
            + stats.rejected_logs
            + stats
                .by_status
                .iter()
                .filter(|(s, _)| **s >= 400)
                .map(|(_, n)| n)
                .sum::<u64>(),
        note: format!(
            "grpc logs x{} in flight → adaptive_batch 1000 → ledger gzip{} → stand-in; {:.0} records/s sustained (accepted over load + drain), {:.2} requests per 1000 records, {:.0} KiB sent per 1000; weir cpu {:.0}% of a core; refused {}; {}",
            cfg.concurrency,
            if ordered { " ordered" } else { " unordered" },
            received as f64 / wall.as_secs_f64().max(1e-9),
            per_1000,
            stats.bytes_received as f64 / 1024.0 / (received.max(1) as f64 / 1000.0),
            usage.cpu_percent(),
            report.refused_requests,
            pin_note(pinned),
        ),
    })
}
