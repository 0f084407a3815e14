//! How fast the stand-in takes 1000-record gzip batches on one core while
//! recording. Ignored by default (it wants a release build):
//! `cargo test --release -p weir-ledger-standin --test throughput -- --ignored --nocapture`
//!
//! The stand-in runs alone on one thread; its rate is counted against that
//! thread's CPU time (from `/proc`, on Linux), so a busy machine slows the
//! wall clock but not the verdict.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::*;
use weir_ledger_standin::{Standin, StandinConfig};

// As in the `ledger-standin` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// CPU time of the calling thread, where `/proc` tells it.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the parenthesized command name; utime and stime are the
    // 12th and 13th of those, in clock ticks (100 per second on Linux).
    let mut rest = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let utime: u64 = rest.next()?.parse().ok()?;
    let stime: u64 = rest.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// An entry like the exporter sends: a 300-byte message and ten attributes.
fn realistic(i: usize) -> Value {
    json!({
        "timestamp": at(-1), "level": "info", "log_type": "logger", "importance": "standard",
        "message": format!("{i:08} {}", "request handled without trouble ".repeat(9)),
        "environment": "production", "release": "1.4.2",
        "attributes": {
            "service.name": "checkout", "host.name": "web-7f9c", "http.method": "POST",
            "http.route": "/api/orders", "http.status_code": 201, "duration_ms": 12.5,
            "user_id": format!("usr_{i}"), "region": "eu-west-1",
            "trace_id": "5b8efff798038103d269b633813fc60c", "span_id": "eee19b7ec3c1b174"
        },
        "sdk_version": "weir-0.1.0", "platform": "otlp"
    })
}

#[test]
#[ignore = "a measurement: run with --release"]
fn keeps_up_with_200k_records_a_second_on_one_core() {
    const REQUESTS: usize = 400;
    const CONCURRENCY: usize = 4;
    let logs: Vec<Value> = (0..1000).map(realistic).collect();
    let body = gzip(&serde_json::to_vec(&json!({ "logs": logs })).unwrap());

    // The stand-in alone on one thread; the client on another.
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let s = Standin::start(StandinConfig {
                requests_per_minute: u32::MAX,
                requests_per_hour: u32::MAX,
                daily_quota: u64::MAX,
                ..StandinConfig::default()
            })
            .await
            .unwrap();
            let cpu = thread_cpu();
            addr_tx.send((s.addr(), s.control())).unwrap();
            let _ = stop_rx.await;
            s.stop().await;
            cpu.zip(thread_cpu()).map(|(a, b)| b - a)
        })
    });
    let (addr, control) = addr_rx.recv().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..CONCURRENCY {
            let body = body.clone();
            tasks.push(tokio::spawn(async move {
                let auth = bearer();
                let headers = [
                    ("authorization", auth.as_str()),
                    ("content-encoding", "gzip"),
                    ("content-type", "application/json"),
                ];
                for _ in 0..REQUESTS / CONCURRENCY {
                    let r = send(addr, "POST", BATCH, &headers, body.clone())
                        .await
                        .unwrap();
                    assert_eq!(r.status, 202);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    let elapsed = started.elapsed();
    stop_tx.send(()).unwrap();
    let cpu = server.join().unwrap();
    let stats = control.stats();
    assert_eq!(stats.accepted_logs, (REQUESTS * 1000) as u64);
    assert_eq!(control.entries().len(), REQUESTS * 1000);
    let records = stats.accepted_logs as f64;
    let wall_rate = records / elapsed.as_secs_f64();
    println!(
        "{records} records in {elapsed:?}: {wall_rate:.0} records/s by the wall clock \
         ({} bytes gzip per request)",
        body.len()
    );
    // One core's worth: by the server thread's CPU time where known.
    let rate = match cpu {
        Some(cpu) => {
            let rate = records / cpu.as_secs_f64().max(0.01);
            println!("server thread CPU {cpu:?}: {rate:.0} records/s per core");
            rate
        }
        None => wall_rate,
    };
    if !cfg!(debug_assertions) {
        assert!(rate >= 200_000.0, "{rate:.0} records/s");
    }
}
