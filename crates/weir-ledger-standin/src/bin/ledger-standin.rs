//! `ledger-standin`: the stand-in Ledger server on its own, for trying a
//! client by hand and for benchmarks.
//!
//! Prints `listening on http://127.0.0.1:<port>` on the first line of
//! stdout (scripts read the address from it), then serves until Ctrl-C or
//! SIGTERM, and prints the counters as one JSON line when it stops (and
//! every `--stats-every` if given).
#![forbid(unsafe_code)]

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::Parser;
use serde_json::json;
use weir_ledger_standin::{DEFAULT_API_KEY, Standin, StandinConfig, Stats};

// Parsing allocates per field; mimalloc keeps that cheap (as in weir itself).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A stand-in Ledger v1 ingest server.
#[derive(Parser, Debug)]
#[command(name = "ledger-standin", version)]
struct Args {
    /// The valid API key.
    #[arg(long, env = "LEDGER_STANDIN_KEY", default_value = DEFAULT_API_KEY)]
    key: String,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Ingest requests per minute per key.
    #[arg(long, default_value_t = 1_000)]
    rpm: u32,
    /// Ingest requests per hour per key.
    #[arg(long, default_value_t = 50_000)]
    rph: u32,
    /// Daily log quota.
    #[arg(long, default_value_t = 100_000)]
    quota: u64,
    /// Most logs per batch (at most 1000).
    #[arg(long, default_value_t = 1_000)]
    max_batch: usize,
    /// Length of the rate limit's "minute" (e.g. `60s`, `500ms`).
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    minute_window: Duration,
    /// Keep only counts, not the entries (benchmarks).
    #[arg(long)]
    no_record: bool,
    /// Print the counters every so often (e.g. `5s`).
    #[arg(long, value_parser = humantime::parse_duration)]
    stats_every: Option<Duration>,
}

fn stats_line(s: &Stats) -> String {
    json!({
        "requests": s.requests,
        "by_status": s.by_status,
        "dropped": s.dropped,
        "accepted_logs": s.accepted_logs,
        "rejected_logs": s.rejected_logs,
        "accepted_spans": s.accepted_spans,
        "rejected_spans": s.rejected_spans,
        "bytes_received": s.bytes_received,
        "bytes_decoded": s.bytes_decoded,
        "gzip_requests": s.gzip_requests,
        "max_requests_in_any_minute": s.max_requests_in_any_minute,
        "quota_usage": s.quota_usage,
    })
    .to_string()
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let config = StandinConfig {
        bind: SocketAddr::new(args.host, args.port),
        api_key: args.key,
        requests_per_minute: args.rpm,
        requests_per_hour: args.rph,
        daily_quota: args.quota,
        max_batch_size: args.max_batch,
        minute_window: args.minute_window,
        record_entries: !args.no_record,
        ..StandinConfig::default()
    };
    let standin = Standin::start(config).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", standin.base_url())?;
        out.flush()?;
    }
    let control = standin.control();
    let ticker = args.stats_every.filter(|d| !d.is_zero()).map(|every| {
        let control = control.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                println!("{}", stats_line(&control.stats()));
            }
        })
    });
    shutdown_signal().await;
    if let Some(t) = ticker {
        t.abort();
    }
    standin.stop().await;
    println!("{}", stats_line(&control.stats()));
    Ok(())
}
