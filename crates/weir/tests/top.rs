//! `weir top` against a running weir: `--once` prints the rows of the
//! receiver and the exporter with the traffic they carry, live mode off a
//! terminal prints a table per interval, and an address where nothing listens
//! fails with a clear message.

mod otlp_support;
mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use otlp_support::write_pipeline;
use support::{WEIR, Weir, metric, wait_metrics};

/// POSTs an OTLP/JSON logs request of `n` records; returns the status.
fn post_logs(addr: &str, n: usize) -> u16 {
    let records: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"body":{{"stringValue":"line {i}"}}}}"#))
        .collect();
    let body = format!(
        r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{}]}}]}}]}}"#,
        records.join(",")
    );
    let mut s = TcpStream::connect(addr).expect("connect to the otlp receiver");
    write!(
        s,
        "POST /v1/logs HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// The cells of the table row for `component`: the first six columns and
/// the last (the queue cell may hold spaces).
fn row<'a>(table: &'a str, component: &str) -> Option<(Vec<&'a str>, &'a str)> {
    table.lines().find_map(|l| {
        let cells: Vec<&str> = l.split_whitespace().collect();
        (cells.first() == Some(&component) && cells.len() >= 8)
            .then(|| (cells[..6].to_vec(), *cells.last().unwrap()))
    })
}

fn rate(cell: &str) -> f64 {
    let (num, mult) = match cell.strip_suffix('k') {
        Some(n) => (n, 1e3),
        None => (cell, 1.0),
    };
    num.parse::<f64>()
        .unwrap_or_else(|_| panic!("not a rate: {cell}"))
        * mult
}

#[test]
fn top_once_prints_the_rows_of_a_running_weir() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let yaml = format!(
        r#"
receivers:
  otlp:
    protocols: {{ http: {{ endpoint: 127.0.0.1:0 }} }}
exporters:
  file/out: {{ path: {}, format: json }}
service:
  telemetry: {{ metrics: {{ address: 127.0.0.1:0 }} }}
  pipelines:
    logs: {{ receivers: [otlp], exporters: [file/out] }}
"#,
        out.display()
    );
    let pipeline = write_pipeline(dir.path(), "pipeline.yaml", &yaml);
    let weir = Weir::start(&pipeline, &[]);
    let (_, http) = weir.otlp_addrs();
    let metrics_addr = weir.metrics_addr();
    for _ in 0..5 {
        assert_eq!(post_logs(&http, 10), 200);
    }
    wait_metrics(&metrics_addr, |t| {
        metric(
            t,
            "weir_exporter_sent_items_total",
            &[("component", "file/out")],
        ) >= 50.0
    });

    // Traffic goes on while top measures, so the rates are not zero.
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let (stop, http) = (stop.clone(), http.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                assert_eq!(post_logs(&http, 10), 200);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let top = Command::new(WEIR)
        .args(["top", "--once", "--interval", "700ms", "--address"])
        .arg(&metrics_addr)
        .output()
        .expect("run weir top");
    let table = String::from_utf8_lossy(&top.stdout).into_owned();
    assert!(
        top.status.success(),
        "{table}\n{}",
        String::from_utf8_lossy(&top.stderr)
    );
    let mut lines = table.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with(&format!("weir top  {metrics_addr}  up ")),
        "{table}"
    );
    assert_eq!(
        lines.next().unwrap().split_whitespace().collect::<Vec<_>>(),
        [
            "COMPONENT",
            "KIND",
            "SIGNAL",
            "IN/S",
            "OUT/S",
            "DROPPED",
            "QUEUE",
            "ERRORS"
        ]
    );
    let (receiver, errors) = row(&table, "otlp").expect("a receiver row");
    assert_eq!(receiver[..3], ["otlp", "receiver", "logs"], "{table}");
    assert!(
        rate(receiver[3]) > 0.0 && rate(receiver[4]) > 0.0,
        "{table}"
    );
    assert_eq!((receiver[5], errors), ("0", "-"), "{table}");
    let (exporter, errors) = row(&table, "file/out").expect("an exporter row");
    assert_eq!(exporter[..3], ["file/out", "exporter", "logs"], "{table}");
    assert!(
        rate(exporter[3]) > 0.0 && rate(exporter[4]) > 0.0,
        "{table}"
    );
    assert_eq!((exporter[5], errors), ("0", "0"), "{table}");
    assert!(
        table.contains("(cap 16 batches)"),
        "the queue shows its capacity: {table}"
    );
    assert_eq!(table.lines().count(), 4, "one row each: {table}");

    // Live, off a terminal: one table per interval.
    let mut live = Command::new(WEIR)
        .args(["top", "--interval", "200ms", "--address"])
        .arg(&metrics_addr)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut headers = 0;
    for line in BufReader::new(live.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        assert!(
            !line.contains('\x1b'),
            "no escapes off a terminal: {line:?}"
        );
        headers += usize::from(line.starts_with("COMPONENT"));
        if headers == 3 {
            break;
        }
    }
    live.kill().unwrap();
    live.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    sender.join().unwrap();
}

#[test]
fn top_once_without_weir_fails_with_a_clear_message() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let top = Command::new(WEIR)
        .args(["top", "--once", "--interval", "100ms", "--address", &addr])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&top.stderr);
    assert_eq!(top.status.code(), Some(1), "{stderr}");
    assert!(top.stdout.is_empty());
    assert!(
        stderr.starts_with(&format!("weir top: cannot reach weir at {addr}: ")),
        "{stderr}"
    );
    assert!(
        stderr.contains("service.telemetry.metrics.address"),
        "{stderr}"
    );
}
