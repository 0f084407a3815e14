//! OTLP scenarios: the load generator drives weir (OTLP receiver → OTLP gRPC
//! exporter) into the counting sink, all on 127.0.0.1.
//!
//! - pass-through (`otlp-grpc-{logs,traces,metrics}`, `otlp-grpc-logs-zstd`,
//!   `otlp-http-logs`): flat out; items/s per core is weir's CPU time during
//!   the load only;
//! - `steady-10k`: 10 requests/s of 1000 logs, after an idle spell: CPU% of a
//!   core and RSS, idle and under load;
//! - `overload-10x`: flat out against a sink that answers slowly: refusals must
//!   be 503/UNAVAILABLE, memory bounded, everything acknowledged delivered;
//! - `otlp-grpc-latency`: a moderate fixed rate straight to the sink, then
//!   through weir: the latency weir adds.
//!
//! `sent` is what weir acknowledged, `received` what reached the sink.

pub mod release;
pub mod weir;

use std::time::{Duration, Instant};

use tokio::runtime::Runtime;
use weir_core::Signal;

use crate::loadgen::histogram::{Histogram, fmt_p50_p99, ms};
use crate::loadgen::{self, LoadConfig, LoadReport, Protocol, Stop};
use crate::sink::{Sink, SinkConfig};
use crate::{BenchEnv, BenchResult};
use weir::{Sampler, Usage, Weir, pin_harness, pin_note, pipeline};

const MIB: f64 = 1024.0 * 1024.0;

/// A pass-through scenario.
#[derive(Debug, Clone, Copy)]
pub struct PassThrough {
    /// Scenario name.
    pub name: &'static str,
    /// Protocol from the load generator to weir.
    pub protocol: Protocol,
    /// Signal.
    pub signal: Signal,
    /// The exporter's `compression`.
    pub export_compression: &'static str,
    /// The pipeline's processors: `processors:` YAML and the ids in order
    /// (empty for a pure pass-through).
    pub processors: Option<(&'static str, &'static str)>,
    /// The exporter queues on disk (`queue: { storage: disk }`, default
    /// `fsync: interval`) instead of in memory.
    pub disk_queue: bool,
    /// `metrics: { level: none }`: weir's own metrics off, to measure what
    /// they cost against the same scenario with them on (issue 9).
    pub metrics_off: bool,
}

/// The four built-in processors as an edge gateway would run them (the
/// `otlp-processing` pipeline's shape): five attribute actions with DAS
/// markers, a sampler with rules that keeps everything (so that nothing lost
/// can be checked at the sink), a per-service rate limit far above the load,
/// and adaptive batching.
pub const ALL_FOUR: (&str, &str) = (
    "processors:
  enrich:
    attributes:
      - { key: deployment.environment.name, value: production, target: resource }
      - { key: pipeline, value: edge }
      - { key: region, action: upsert, value: eu-west-1 }
      - { key: user.id, action: hash }
      - { key: client.address, action: rename, to: client.ip }
    das: {}
  sample:
    ratio: 1.0
    rules:
      - { name: severe, min_severity: error }
      - { name: health, attribute: url.path, equals: /healthz, action: drop }
  rate_limit:
    rate: 1e9
    key: { resource_attribute: service.name }
  adaptive_batch:
    max_items: 8192
    min_delay: 5ms
    target_latency: 100ms
",
    "[enrich, sample, rate_limit, adaptive_batch]",
);

/// The pass-through scenarios.
pub const PASS_THROUGH: &[PassThrough] = &[
    PassThrough {
        name: "otlp-grpc-logs",
        protocol: Protocol::Grpc,
        signal: Signal::Logs,
        export_compression: "none",
        processors: None,
        disk_queue: false,
        metrics_off: false,
    },
    PassThrough {
        name: "otlp-grpc-logs-metrics-off",
        protocol: Protocol::Grpc,
        signal: Signal::Logs,
        export_compression: "none",
        processors: None,
        disk_queue: false,
        metrics_off: true,
    },
    PassThrough {
        name: "otlp-grpc-traces",
        protocol: Protocol::Grpc,
        signal: Signal::Traces,
        export_compression: "none",
        processors: None,
        disk_queue: false,
        metrics_off: false,
    },
    PassThrough {
        name: "otlp-grpc-metrics",
        protocol: Protocol::Grpc,
        signal: Signal::Metrics,
        export_compression: "none",
        processors: None,
        disk_queue: false,
        metrics_off: false,
    },
    PassThrough {
        name: "otlp-grpc-logs-zstd",
        protocol: Protocol::Grpc,
        signal: Signal::Logs,
        export_compression: "zstd",
        processors: None,
        disk_queue: false,
        metrics_off: false,
    },
    PassThrough {
        name: "otlp-grpc-logs-processors",
        protocol: Protocol::Grpc,
        signal: Signal::Logs,
        export_compression: "none",
        processors: Some(ALL_FOUR),
        disk_queue: false,
        metrics_off: false,
    },
    PassThrough {
        name: "otlp-grpc-logs-disk",
        protocol: Protocol::Grpc,
        signal: Signal::Logs,
        export_compression: "none",
        processors: None,
        disk_queue: true,
        metrics_off: false,
    },
    PassThrough {
        name: "otlp-http-logs",
        protocol: Protocol::HttpProtobuf,
        signal: Signal::Logs,
        export_compression: "none",
        processors: None,
        disk_queue: false,
        metrics_off: false,
    },
];

fn runtime() -> Result<Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))
}

fn start_sink(rt: &Runtime, delay: Duration) -> Result<Sink, String> {
    let cfg = SinkConfig {
        delay,
        ..SinkConfig::local()
    };
    rt.block_on(Sink::start(cfg))
        .map_err(|e| format!("starting the sink: {e}"))
}

fn endpoint(weir: &Weir, protocol: Protocol) -> String {
    match protocol {
        Protocol::Grpc => format!("http://{}", weir.grpc),
        _ => format!("http://{}", weir.http),
    }
}

/// Runs `cfg` while sampling `pid`.
fn load_sampled(rt: &Runtime, cfg: &LoadConfig, pid: u32) -> Result<(LoadReport, Usage), String> {
    let sampler = Sampler::start(pid);
    let report = rt.block_on(loadgen::run(cfg));
    let usage = sampler.stop();
    Ok((report?, usage))
}

/// Waits until the sink holds `expected` more items than `base` and stops
/// growing, or stops growing for 3 s short of it (at most 60 s).
fn wait_drain(sink: &Sink, base: u64, expected: u64) -> Duration {
    let started = Instant::now();
    let mut last = sink.total_items();
    let mut changed = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let now = sink.total_items();
        if now != last {
            last = now;
            changed = Instant::now();
        }
        let quiet = changed.elapsed();
        let enough = now - base >= expected;
        if (enough && quiet >= Duration::from_millis(200))
            || quiet >= Duration::from_secs(3)
            || started.elapsed() >= Duration::from_secs(60)
        {
            return started.elapsed();
        }
    }
}

/// Flat-out load: 8 requests in flight on 2 connections for 10 s (quick: 2
/// on 1 for 1.5 s).
pub fn flat_out(cfg: &mut LoadConfig, quick: bool) {
    if quick {
        cfg.concurrency = 2;
        cfg.connections = 1;
        cfg.stop = Stop::After(Duration::from_millis(1500));
    } else {
        cfg.concurrency = 8;
        cfg.connections = 2;
        cfg.stop = Stop::After(Duration::from_secs(10));
    }
}

fn scratch(env: &BenchEnv, name: &str) -> std::path::PathBuf {
    let dir = env.scratch.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn exit_error(code: Option<i32>) -> u64 {
    u64::from(code != Some(0))
}

fn errors_note(r: &LoadReport, sink: &Sink, code: Option<i32>) -> String {
    let mut parts = Vec::new();
    if !r.errors.is_empty() {
        parts.push(format!("errors {:?}", r.errors));
    }
    if sink.invalid() > 0 {
        parts.push(format!("sink refused {} invalid requests", sink.invalid()));
    }
    if code != Some(0) {
        parts.push(format!("weir exit {code:?}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("; {}", parts.join("; "))
    }
}

/// Pass-through flat out.
pub fn pass_through(env: &BenchEnv, p: &PassThrough) -> Result<BenchResult, String> {
    let pinned = pin_harness();
    let rt = runtime()?;
    let sink = start_sink(&rt, Duration::ZERO)?;
    let sink_addr = sink.grpc_addr.ok_or("sink has no gRPC address")?;
    let mut yaml = pipeline(
        p.signal,
        sink_addr,
        p.export_compression,
        None,
        p.processors,
    );
    // The spool goes on a real disk (the scratch folder may be tmpfs, where
    // fsync is free), and is removed after the run.
    let spool = std::env::temp_dir().join(format!("weir-bench-spool-{}", p.name));
    let _ = std::fs::remove_dir_all(&spool);
    if p.disk_queue {
        let compression = format!("    compression: {}\n", p.export_compression);
        let queue = format!(
            "{compression}    queue: {{ storage: disk, path: \"{}\" }}\n",
            spool.display()
        );
        yaml = yaml.replacen(&compression, &queue, 1);
    }
    if p.metrics_off {
        // Both runs count (`address: none` keeps the counters); this one does not.
        yaml = yaml.replacen(
            "metrics: { address: none }",
            "metrics: { address: none, level: none }",
            1,
        );
        if !yaml.contains("level: none") {
            return Err("the pipeline's metrics line changed: cannot switch metrics off".into());
        }
    }
    let weir = Weir::start(env, &scratch(env, p.name), &yaml, pinned)?;
    let mut cfg = LoadConfig::new(endpoint(&weir, p.protocol), p.protocol, p.signal);
    flat_out(&mut cfg, env.quick);
    let (report, usage) = load_sampled(&rt, &cfg, weir.pid())?;
    let drain = wait_drain(&sink, 0, report.ok_items);
    let code = weir.stop()?;
    let _ = std::fs::remove_dir_all(&spool);
    let received = sink.total_items();
    Ok(BenchResult {
        scenario: p.name.to_string(),
        sent: report.ok_items,
        received,
        seconds: report.elapsed.as_secs_f64(),
        cpu_seconds: usage.cpu_seconds,
        peak_rss: usage.peak_rss,
        errors: report.error_count() + exit_error(code) + sink.invalid(),
        note: format!(
            "{} {} x{} in flight, {:.0} req/s of {}; {}{}{}export {}; weir cpu {:.0}% of a core; ack {}; refused {}; drain {:.2} s; {}{}",
            p.protocol,
            p.signal,
            cfg.concurrency,
            report.requests_per_sec(),
            cfg.items_per_request,
            if p.processors.is_some() {
                "enrich, sample, rate_limit, adaptive_batch; "
            } else {
                ""
            },
            if p.disk_queue {
                "disk queue, fsync interval; "
            } else {
                ""
            },
            if p.metrics_off { "metrics off; " } else { "" },
            p.export_compression,
            usage.cpu_percent(),
            fmt_p50_p99(&report.ok_latency),
            report.refused_requests,
            drain.as_secs_f64(),
            pin_note(pinned),
            errors_note(&report, &sink, code),
        ),
    })
}

/// 10,000 logs/s (10 requests of 1000 a second), after an idle spell.
pub fn steady_10k(env: &BenchEnv) -> Result<BenchResult, String> {
    let name = "steady-10k";
    let pinned = pin_harness();
    let rt = runtime()?;
    let sink = start_sink(&rt, Duration::ZERO)?;
    let sink_addr = sink.grpc_addr.ok_or("sink has no gRPC address")?;
    let yaml = pipeline(Signal::Logs, sink_addr, "none", None, None);
    let weir = Weir::start(env, &scratch(env, name), &yaml, pinned)?;
    let (idle_for, load_for) = if env.quick {
        (Duration::from_millis(500), Duration::from_secs(2))
    } else {
        (Duration::from_secs(3), Duration::from_secs(10))
    };
    let idle = Sampler::start(weir.pid());
    std::thread::sleep(idle_for);
    let idle = idle.stop();
    let mut cfg = LoadConfig::new(
        endpoint(&weir, Protocol::Grpc),
        Protocol::Grpc,
        Signal::Logs,
    );
    cfg.rate = Some(10.0);
    cfg.concurrency = 4;
    cfg.connections = 1;
    cfg.stop = Stop::After(load_for);
    let (report, usage) = load_sampled(&rt, &cfg, weir.pid())?;
    wait_drain(&sink, 0, report.ok_items);
    let code = weir.stop()?;
    Ok(BenchResult {
        scenario: name.to_string(),
        sent: report.ok_items,
        received: sink.total_items(),
        seconds: report.elapsed.as_secs_f64(),
        cpu_seconds: usage.cpu_seconds,
        peak_rss: usage.peak_rss,
        errors: report.error_count() + exit_error(code) + sink.invalid(),
        note: format!(
            "cpu {:.1}% of a core, rss {:.1} MiB at {:.0} items/s; idle ({:.0} s): rss {:.1} MiB, cpu {:.1}%; ack {}; {}{}",
            usage.cpu_percent(),
            usage.rss as f64 / MIB,
            report.items_per_sec(),
            idle.wall.as_secs_f64(),
            idle.rss as f64 / MIB,
            idle.cpu_percent(),
            fmt_p50_p99(&report.ok_latency),
            pin_note(pinned),
            errors_note(&report, &sink, code),
        ),
    })
}

/// Flat out, many in flight, into a sink that takes `delay` per request.
pub fn overload(env: &BenchEnv) -> Result<BenchResult, String> {
    let name = "overload-10x";
    let pinned = pin_harness();
    let rt = runtime()?;
    let delay = Duration::from_millis(50);
    let sink = start_sink(&rt, delay)?;
    let sink_addr = sink.grpc_addr.ok_or("sink has no gRPC address")?;
    let yaml = pipeline(Signal::Logs, sink_addr, "none", Some("100ms"), None);
    let weir = Weir::start(env, &scratch(env, name), &yaml, pinned)?;
    let mut cfg = LoadConfig::new(
        endpoint(&weir, Protocol::Grpc),
        Protocol::Grpc,
        Signal::Logs,
    );
    if env.quick {
        cfg.concurrency = 8;
        cfg.connections = 1;
        cfg.stop = Stop::After(Duration::from_millis(1500));
    } else {
        cfg.concurrency = 64;
        cfg.connections = 4;
        cfg.stop = Stop::After(Duration::from_secs(5));
    }
    let (report, usage) = load_sampled(&rt, &cfg, weir.pid())?;
    let drain = wait_drain(&sink, 0, report.ok_items);
    let code = weir.stop()?;
    let accepted = report.ok_requests as f64 / report.elapsed.as_secs_f64().max(1e-9);
    Ok(BenchResult {
        scenario: name.to_string(),
        sent: report.ok_items,
        received: sink.total_items(),
        seconds: report.elapsed.as_secs_f64(),
        cpu_seconds: usage.cpu_seconds,
        peak_rss: usage.peak_rss,
        errors: report.error_count() + exit_error(code) + sink.invalid(),
        note: format!(
            "offered {:.0} req/s x{} in flight, {:.1}x the {accepted:.0} req/s accepted (sink takes {} ms a request); refused {} req ({} items, all 503/UNAVAILABLE), accepted {}; ack {}; drain {:.2} s; {}{}",
            report.requests_per_sec(),
            cfg.concurrency,
            report.requests_per_sec() / accepted.max(1e-9),
            delay.as_millis(),
            report.refused_requests,
            report.refused_items,
            report.ok_requests,
            fmt_p50_p99(&report.ok_latency),
            drain.as_secs_f64(),
            pin_note(pinned),
            errors_note(&report, &sink, code),
        ),
    })
}

fn added(with: &Histogram, without: &Histogram, q: f64) -> f64 {
    ms(with.quantile(q)) - ms(without.quantile(q))
}

/// A moderate fixed rate of small log requests, straight to the sink and then
/// through weir: request (ack) latency and arrival-at-sink latency, and what
/// weir adds to each.
pub fn latency(env: &BenchEnv) -> Result<BenchResult, String> {
    let name = "otlp-grpc-latency";
    let pinned = pin_harness();
    let rt = runtime()?;
    let sink = start_sink(&rt, Duration::ZERO)?;
    let sink_addr = sink.grpc_addr.ok_or("sink has no gRPC address")?;
    let (rate, run_for) = if env.quick {
        (50.0, Duration::from_secs(1))
    } else {
        (200.0, Duration::from_secs(10))
    };
    let config = |endpoint: String| {
        let mut cfg = LoadConfig::new(endpoint, Protocol::Grpc, Signal::Logs);
        cfg.items_per_request = 100;
        cfg.rate = Some(rate);
        cfg.concurrency = 16;
        cfg.connections = 1;
        cfg.stamp = true;
        cfg.stop = Stop::After(run_for);
        cfg
    };
    // Without weir.
    let direct = rt.block_on(loadgen::run(&config(format!("http://{sink_addr}"))))?;
    let direct_received = sink.total_items();
    let direct_e2e = sink.e2e_latency();
    sink.reset_e2e();
    let direct_lost = u64::from(direct_received != direct.ok_items);
    // Through weir.
    let yaml = pipeline(Signal::Logs, sink_addr, "none", None, None);
    let weir = Weir::start(env, &scratch(env, name), &yaml, pinned)?;
    let cfg = config(endpoint(&weir, Protocol::Grpc));
    let (report, usage) = load_sampled(&rt, &cfg, weir.pid())?;
    wait_drain(&sink, direct_received, report.ok_items);
    let code = weir.stop()?;
    let e2e = sink.e2e_latency();
    Ok(BenchResult {
        scenario: name.to_string(),
        sent: report.ok_items,
        received: sink.total_items() - direct_received,
        seconds: report.elapsed.as_secs_f64(),
        cpu_seconds: usage.cpu_seconds,
        peak_rss: usage.peak_rss,
        errors: report.error_count()
            + direct.error_count()
            + direct_lost
            + exit_error(code)
            + sink.invalid(),
        note: format!(
            "{rate:.0} req/s of {} logs; ack: direct {}, via weir {} (added p50 {:+.2} ms, p99 {:+.2} ms); at sink: direct {}, via weir {} (added p50 {:+.2} ms, p99 {:+.2} ms); {}{}",
            cfg.items_per_request,
            fmt_p50_p99(&direct.ok_latency),
            fmt_p50_p99(&report.ok_latency),
            added(&report.ok_latency, &direct.ok_latency, 0.5),
            added(&report.ok_latency, &direct.ok_latency, 0.99),
            fmt_p50_p99(&direct_e2e),
            fmt_p50_p99(&e2e),
            added(&e2e, &direct_e2e, 0.5),
            added(&e2e, &direct_e2e, 0.99),
            pin_note(pinned),
            errors_note(&report, &sink, code),
        ),
    })
}
