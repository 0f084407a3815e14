//! The real binary's lifecycle and self-telemetry: SIGTERM mid-stream loses
//! nothing read, `/metrics` counts what flowed, `/readyz` turns ready.

mod support;

use std::io::Write;
use std::time::Duration;

use support::{Weir, http_get, metric, read_records, wait_metrics};

fn pipeline(dir: &std::path::Path, out: &std::path::Path, stdin_cfg: &str) -> std::path::PathBuf {
    let yaml = format!(
        r#"
receivers:
  stdin: {stdin_cfg}
exporters:
  file:
    path: {out}
service:
  telemetry:
    metrics: {{ address: 127.0.0.1:0 }}
  pipelines:
    logs:
      receivers: [stdin]
      exporters: [file]
"#,
        out = out.display()
    );
    let p = dir.join("pipeline.yaml");
    std::fs::write(&p, yaml).unwrap();
    p
}

#[test]
fn sigterm_mid_stream_keeps_every_line_read() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    // A long max_delay: the last 500 lines sit in the receiver's open batch until
    // shutdown flushes them.
    let p = pipeline(dir.path(), &out, "{ max_batch: 1000, max_delay: 1h }");
    let mut weir = Weir::start(&p, &[]);
    let addr = weir.metrics_addr();
    let mut stdin = weir.child.stdin.take().unwrap();
    for i in 0..2500 {
        writeln!(stdin, "line {i}").unwrap();
    }
    stdin.flush().unwrap();
    wait_metrics(&addr, |m| {
        metric(
            m,
            "weir_receiver_accepted_items_total",
            &[("component", "stdin")],
        ) >= 2000.0
    });
    // Give the reader a moment to take the rest off the pipe.
    std::thread::sleep(Duration::from_millis(300));
    weir.signal("TERM");
    let code = weir.wait();
    assert_eq!(code, 0, "{}", weir.stderr());
    drop(stdin);
    let bodies: Vec<String> = read_records(&out)
        .iter()
        .map(|r| r["body"]["stringValue"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(bodies.len(), 2500, "{}", weir.stderr());
    for (i, b) in bodies.iter().enumerate() {
        assert_eq!(b, &format!("line {i}"), "order kept");
    }
}

#[test]
fn metrics_count_what_flowed_and_readyz_turns_ready() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let p = pipeline(dir.path(), &out, "{ max_batch: 100, max_delay: 20ms }");
    let mut weir = Weir::start(&p, &[]);
    let addr = weir.metrics_addr();
    assert_eq!(http_get(&addr, "/healthz").0, 200);
    let mut stdin = weir.child.stdin.take().unwrap();
    for i in 0..1234 {
        writeln!(stdin, r#"{{"msg":"m{i}","level":"info"}}"#).unwrap();
    }
    stdin.flush().unwrap();
    let text = wait_metrics(&addr, |m| {
        metric(
            m,
            "weir_exporter_sent_items_total",
            &[("component", "file")],
        ) >= 1234.0
    });
    let (ready, body) = http_get(&addr, "/readyz");
    assert_eq!((ready, body.trim()), (200, "running"));
    let labels = [
        ("component", "stdin"),
        ("kind", "receiver"),
        ("signal", "logs"),
    ];
    assert_eq!(
        metric(&text, "weir_receiver_accepted_items_total", &labels),
        1234.0
    );
    let labels = [
        ("component", "file"),
        ("kind", "exporter"),
        ("signal", "logs"),
    ];
    assert_eq!(
        metric(&text, "weir_exporter_sent_items_total", &labels),
        1234.0
    );
    assert_eq!(metric(&text, "weir_exporter_failed_items_total", &[]), 0.0);
    assert_eq!(
        metric(&text, "weir_exporter_queue_items", &[("component", "file")]),
        0.0
    );
    assert!(
        metric(
            &text,
            "weir_exporter_queue_capacity",
            &[("component", "file")]
        ) >= 1.0
    );
    assert!(metric(&text, "weir_exporter_send_duration_seconds_count", &[]) >= 1.0);
    assert!(metric(&text, "weir_process_resident_memory_bytes", &[]) > 0.0);
    drop(stdin);
    assert_eq!(weir.wait(), 0, "{}", weir.stderr());
    assert_eq!(read_records(&out).len(), 1234);
}
