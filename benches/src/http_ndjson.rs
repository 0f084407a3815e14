//! `http-ndjson-file`: NDJSON log lines POSTed to the `http` receiver, written
//! by the file exporter as OTLP/JSON. Bodies are pre-built (1000 lines of
//! ~300 bytes, the shape of a structured app log) and sent over keep-alive
//! HTTP/1.1 connections by plain socket writes, so the client costs next to
//! nothing; weir runs on a core of its own. Items/s per core is records
//! written over weir's CPU time from the first request to its exit (the
//! drain to the file included).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::otlp_scenarios::weir::{Sampler, Weir, pin_harness, pin_note};
use crate::{BenchEnv, BenchResult};

const NAME: &str = "http-ndjson-file";
const LINES_PER_REQUEST: usize = 1000;

/// One request body: `LINES_PER_REQUEST` NDJSON lines.
fn body() -> Vec<u8> {
    let mut out = Vec::with_capacity(LINES_PER_REQUEST * 320);
    for i in 0..LINES_PER_REQUEST {
        let line = format!(
            r#"{{"ts":"2026-12-06T10:00:00.{:03}Z","level":"info","msg":"GET /api/v1/items/{i} served in {} ms","user_id":{i},"route":"/api/v1/items","status":200,"duration_ms":{},"request_id":"req-{i:08}-7f3b9a2c","region":"eu-west-1","client":{{"ip":"203.0.113.{}","agent":"curl/8.4"}}}}"#,
            i % 1000,
            i % 97,
            i % 97,
            i % 250,
        );
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out
}

fn pipeline(out: &std::path::Path) -> String {
    format!(
        "receivers:
  http:
    endpoint: 127.0.0.1:0
    max_request_bytes: 4MiB
exporters:
  file:
    path: {}
service:
  telemetry:
    metrics: {{ address: none }}
  pipelines:
    logs:
      receivers: [http]
      exporters: [file]
",
        out.display()
    )
}

/// Sends `requests` POSTs of `body` on one keep-alive connection; counts the
/// records accepted (200) into `ok` and any other answer into `bad`.
fn client(addr: SocketAddr, body: Arc<Vec<u8>>, requests: u64, ok: &AtomicU64, bad: &AtomicU64) {
    let Ok(stream) = TcpStream::connect(addr) else {
        bad.fetch_add(requests, Ordering::Relaxed);
        return;
    };
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut writer = stream;
    let head = format!(
        "POST /v1/json HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-ndjson\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let mut line = String::new();
    for _ in 0..requests {
        if writer
            .write_all(head.as_bytes())
            .and_then(|()| writer.write_all(&body))
            .is_err()
        {
            bad.fetch_add(1, Ordering::Relaxed);
            return;
        }
        // Status line, headers, then the (small) body.
        line.clear();
        if reader.read_line(&mut line).is_err() {
            bad.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let status_ok = line.split_whitespace().nth(1) == Some("200");
        let mut length = 0usize;
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut answer = vec![0; length];
        if reader.read_exact(&mut answer).is_err() {
            bad.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if status_ok {
            ok.fetch_add(LINES_PER_REQUEST as u64, Ordering::Relaxed);
        } else {
            bad.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Records in the OTLP/JSON file(s) under `dir`.
fn count_records(dir: &std::path::Path) -> Result<u64, String> {
    let finder = memchr::memmem::Finder::new(b"\"observedTimeUnixNano\"");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path
            .file_name()
            .is_some_and(|f| f.to_string_lossy().starts_with("out"))
        {
            let data = std::fs::read(&path).map_err(|e| e.to_string())?;
            n += finder.find_iter(&data).count() as u64;
        }
    }
    Ok(n)
}

/// Runs the scenario.
pub fn run(env: &BenchEnv) -> Result<BenchResult, String> {
    let pinned = pin_harness();
    let dir = env.scratch.join(NAME);
    let _ = std::fs::remove_dir_all(&dir);
    let out_dir = dir.join("out");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let yaml = pipeline(&out_dir.join("out.jsonl"));
    let weir = Weir::start(env, &dir.join("weir"), &yaml, pinned)?;
    let (connections, per_connection) = if env.quick { (2, 10) } else { (4, 500) };
    let body = Arc::new(body());
    let ok = AtomicU64::new(0);
    let bad = AtomicU64::new(0);
    let sampler = Sampler::start(weir.pid());
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..connections {
            let body = body.clone();
            let (ok, bad) = (&ok, &bad);
            s.spawn(move || client(weir.http, body, per_connection, ok, bad));
        }
    });
    let sent_for = started.elapsed();
    let code = weir.stop()?;
    // The sampler keeps the last reading after weir exits.
    std::thread::sleep(Duration::from_millis(20));
    let usage = sampler.stop();
    let received = count_records(&out_dir)?;
    let _ = std::fs::remove_dir_all(&dir);
    let sent = ok.load(Ordering::Relaxed);
    let errors = bad.load(Ordering::Relaxed) + u64::from(code != Some(0));
    Ok(BenchResult {
        scenario: NAME.into(),
        sent,
        received,
        seconds: sent_for.as_secs_f64(),
        cpu_seconds: usage.cpu_seconds,
        peak_rss: usage.peak_rss,
        errors,
        note: format!(
            "ndjson x{connections} connections, {LINES_PER_REQUEST} lines of ~{} B a request, {:.0} req/s; file out; weir cpu {:.0}% of a core to the end of the drain; {}",
            body.len() / LINES_PER_REQUEST,
            (sent / LINES_PER_REQUEST as u64) as f64 / sent_for.as_secs_f64().max(1e-9),
            usage.cpu_percent(),
            pin_note(pinned),
        ),
    })
}
