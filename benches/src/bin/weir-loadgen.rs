//! `weir-loadgen`: the OTLP load generator and counting sink of weir's
//! benchmarks, standalone.
//!
//! ```text
//! weir-loadgen send --endpoint http://127.0.0.1:4317 --protocol grpc --signal logs \
//!     [--gzip] [--concurrency 8] [--connections 2] [--rate 100] [--duration 10s | --requests N]
//! weir-loadgen sink [--grpc 127.0.0.1:4317] [--http 127.0.0.1:4318] [--delay 20ms]
//! ```
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use weir_bench::loadgen::{self, LoadConfig, Protocol, Stop};
use weir_bench::sink::{Sink, SinkConfig};
use weir_core::Signal;

/// OTLP load generator and counting sink.
#[derive(Debug, Parser)]
#[command(name = "weir-loadgen", about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Send pre-encoded OTLP requests and print a one-line summary.
    Send(SendArgs),
    /// Count OTLP items received (gRPC and/or HTTP) until Ctrl-C.
    Sink(SinkArgs),
    /// Run benchmark scenarios against a given weir binary (no build, no
    /// BENCHMARKS.md) and print the table; `cargo xtask bench` is the full run.
    Scenario(ScenarioArgs),
}

#[derive(Debug, Args)]
struct ScenarioArgs {
    /// The weir binary.
    #[arg(long, default_value = "target/release/weir")]
    weir: std::path::PathBuf,
    /// The workspace root (for `pipelines/`).
    #[arg(long, default_value = ".")]
    workspace: std::path::PathBuf,
    /// Scratch folder (default: a fresh one under the temp dir).
    #[arg(long)]
    scratch: Option<std::path::PathBuf>,
    /// Quick mode (what the test suite runs).
    #[arg(long)]
    quick: bool,
    /// Also print each result as a JSON line (for `cargo xtask bench`).
    #[arg(long)]
    json: bool,
    /// Scenario names (default: all).
    names: Vec<String>,
}

#[derive(Debug, Args)]
struct SendArgs {
    /// `http://host:port` (HTTP: `/v1/<signal>` is appended unless a path is given).
    #[arg(long, default_value = "http://127.0.0.1:4317")]
    endpoint: String,
    /// grpc, http/protobuf or http/json.
    #[arg(long, default_value = "grpc")]
    protocol: Protocol,
    /// logs, traces or metrics.
    #[arg(long, default_value = "logs")]
    signal: Signal,
    /// gzip the requests.
    #[arg(long)]
    gzip: bool,
    /// Items per request.
    #[arg(long, default_value_t = 1000)]
    items: usize,
    /// Requests in flight.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// gRPC connections.
    #[arg(long, default_value_t = 2)]
    connections: usize,
    /// Requests per second (default: flat out).
    #[arg(long)]
    rate: Option<f64>,
    /// How long to send (e.g. `10s`).
    #[arg(long, value_parser = humantime::parse_duration, conflicts_with = "requests")]
    duration: Option<Duration>,
    /// How many requests to send.
    #[arg(long)]
    requests: Option<u64>,
    /// Per-request timeout.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "30s")]
    timeout: Duration,
}

#[derive(Debug, Args)]
struct SinkArgs {
    /// gRPC listen address.
    #[arg(long)]
    grpc: Option<SocketAddr>,
    /// HTTP listen address.
    #[arg(long)]
    http: Option<SocketAddr>,
    /// Delay before answering each request (a slow destination).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "0s")]
    delay: Duration,
    /// Print the counts this often.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "1s")]
    every: Duration,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Cmd::Scenario(a) = cli.command {
        return scenarios(a);
    }
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("weir-loadgen: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Cmd::Send(a) => rt.block_on(send(a)),
        Cmd::Sink(a) => rt.block_on(sink(a)),
        Cmd::Scenario(_) => unreachable!("handled above"),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("weir-loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn send(a: SendArgs) -> Result<ExitCode, String> {
    let mut cfg = LoadConfig::new(a.endpoint, a.protocol, a.signal);
    cfg.gzip = a.gzip;
    cfg.items_per_request = a.items;
    cfg.concurrency = a.concurrency;
    cfg.connections = a.connections;
    cfg.rate = a.rate;
    cfg.timeout = a.timeout;
    cfg.stop = match (a.duration, a.requests) {
        (_, Some(n)) => Stop::Requests(n),
        (Some(d), None) => Stop::After(d),
        (None, None) => Stop::After(Duration::from_secs(10)),
    };
    let report = loadgen::run(&cfg).await?;
    println!(
        "{} {}{} x{}: {}",
        cfg.protocol,
        cfg.signal,
        if cfg.gzip { " gzip" } else { "" },
        cfg.concurrency,
        report.summary()
    );
    Ok(if report.error_count() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn sink(a: SinkArgs) -> Result<ExitCode, String> {
    let (grpc, http) = match (a.grpc, a.http) {
        (None, None) => (
            Some("127.0.0.1:4317".parse().expect("address")),
            Some("127.0.0.1:4318".parse().expect("address")),
        ),
        other => other,
    };
    let sink = Sink::start(SinkConfig {
        grpc,
        http,
        delay: a.delay,
        record_ids: false,
    })
    .await
    .map_err(|e| format!("starting the sink: {e}"))?;
    let show = |a: Option<SocketAddr>| a.map_or_else(|| "off".into(), |a| a.to_string());
    eprintln!(
        "sink: grpc {}, http {}, delay {:?}; Ctrl-C to stop",
        show(sink.grpc_addr),
        show(sink.http_addr),
        a.delay
    );
    let started = Instant::now();
    let mut tick = tokio::time::interval(a.every);
    tick.tick().await;
    let mut last = 0;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = tick.tick() => {
                let now = sink.total_items();
                if now != last {
                    eprintln!("sink: {:.0} items/s; {}", (now - last) as f64 / a.every.as_secs_f64(), sink.summary());
                    last = now;
                }
            }
        }
    }
    println!(
        "sink: {:.1} s: {}; end-to-end of stamped requests {}",
        started.elapsed().as_secs_f64(),
        sink.summary(),
        weir_bench::loadgen::histogram::fmt_p50_p99(&sink.e2e_latency())
    );
    Ok(ExitCode::SUCCESS)
}

fn scenarios(a: ScenarioArgs) -> ExitCode {
    let own_scratch = a.scratch.is_none();
    let scratch = a.scratch.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("weir-loadgen-{}", std::process::id()))
    });
    let env = weir_bench::BenchEnv {
        weir: a.weir,
        workspace: a.workspace,
        scratch: scratch.clone(),
        quick: a.quick,
    };
    let names: Vec<String> = if a.names.is_empty() {
        weir_bench::SCENARIOS
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        a.names
    };
    let mut results = Vec::new();
    let mut failed = false;
    for name in &names {
        if !a.json {
            eprintln!("running {name}...");
        }
        match weir_bench::run(name, &env) {
            Ok(r) => {
                failed |= r.sent != r.received || r.errors > 0;
                if a.json {
                    println!("{}", weir_bench::otlp_scenarios::release::to_json(&r));
                }
                results.push(r);
            }
            Err(e) => {
                eprintln!("{name}: {e}");
                failed = true;
            }
        }
    }
    if own_scratch {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    if !a.json {
        println!("{}", weir_bench::report::table(&results));
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
