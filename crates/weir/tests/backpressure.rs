//! Backpressure and the shutdown deadline on the real binary.

mod support;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use support::{Weir, http_get, metric, wait_metrics};

fn write_pipeline(dir: &std::path::Path, yaml: &str) -> std::path::PathBuf {
    let p = dir.join("pipeline.yaml");
    std::fs::write(&p, yaml).unwrap();
    p
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[test]
fn slow_exporter_with_capacity_one_slows_the_reader_and_loses_nothing() {
    const LINES: usize = 5000;
    let dir = tempfile::tempdir().unwrap();
    let p = write_pipeline(
        dir.path(),
        r#"
receivers:
  stdin: { max_batch: 100, max_delay: 50ms }
exporters:
  blackhole: { delay: 100ms, queue: { capacity: 1 }, max_in_flight: 1 }
service:
  telemetry: { metrics: { address: 127.0.0.1:0 } }
  pipelines:
    logs: { receivers: [stdin], exporters: [blackhole], channel_capacity: 1 }
"#,
    );
    let mut weir = Weir::start(&p, &[]);
    let addr = weir.metrics_addr();
    let mut stdin = weir.child.stdin.take().unwrap();
    let written = Arc::new(AtomicUsize::new(0));
    let w = written.clone();
    let writer = std::thread::spawn(move || {
        let line = format!("{}\n", "x".repeat(1023));
        for _ in 0..LINES {
            stdin.write_all(line.as_bytes()).unwrap();
            w.fetch_add(line.len(), Ordering::SeqCst);
        }
        stdin // kept open until the final metrics are read
    });
    // The sink takes 100 lines (100 KiB) per 100 ms. After a second the writer
    // must be held back: what it wrote is what was delivered plus the bounded
    // buffers (pipe, reader chunks, one open batch, one queued, one in export).
    std::thread::sleep(Duration::from_millis(1000));
    let text = http_get(&addr, "/metrics").1;
    let delivered = metric(&text, "weir_exporter_sent_items_total", &[]) as usize * 1024;
    let in_flight = written.load(Ordering::SeqCst).saturating_sub(delivered);
    assert!(
        in_flight < 2 << 20,
        "the writer ran {in_flight} bytes ahead of delivery: no backpressure"
    );
    assert!(metric(&text, "weir_exporter_queue_items", &[]) <= 100.0);
    let stdin = writer.join().unwrap();
    let text = wait_metrics(&addr, |m| {
        metric(m, "weir_exporter_sent_items_total", &[]) >= LINES as f64
    });
    assert_eq!(
        metric(&text, "weir_receiver_accepted_items_total", &[]),
        LINES as f64
    );
    let peak = rss_kib(weir.child.id());
    assert!(peak < 64 * 1024, "peak RSS {peak} KiB");
    drop(stdin);
    assert_eq!(weir.wait(), 0, "{}", weir.stderr());
}

#[test]
fn data_left_at_the_shutdown_deadline_is_counted_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_pipeline(
        dir.path(),
        r#"
receivers:
  stdin: { max_batch: 100, max_delay: 10ms }
exporters:
  blackhole: { delay: 1h }
service:
  shutdown_timeout: 500ms
  telemetry: { metrics: { address: none } }
  pipelines:
    logs: { receivers: [stdin], exporters: [blackhole] }
"#,
    );
    let mut weir = Weir::start(&p, &[]);
    let mut stdin = weir.child.stdin.take().unwrap();
    for i in 0..300 {
        writeln!(stdin, "line {i}").unwrap();
    }
    drop(stdin); // EOF: drain, but the sink never answers
    let code = weir.wait();
    let err = weir.stderr();
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("300 item(s) abandoned"), "{err}");
}
