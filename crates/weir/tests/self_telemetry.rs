//! weir's own telemetry over OTLP, across two real weir processes:
//! weir A (stdin → file) pushes its metrics and export traces with the
//! OpenTelemetry SDK (`service.telemetry.metrics.otlp`, `traces.otlp`) to weir
//! B's `otlp` receiver, whose `file` exporters write them as OTLP/JSON. The
//! counters that arrive must equal what A's `/metrics` says.

mod support;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Weir, http_get, metric, wait_metrics};

const LINES: usize = 700;

/// Every OTLP/JSON export request in `path` (one per line), or none yet.
fn requests(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn attr_is(attrs: &Value, key: &str, want: &str) -> bool {
    attrs.as_array().is_some_and(|a| {
        a.iter()
            .any(|kv| kv["key"] == key && kv["value"]["stringValue"] == want)
    })
}

/// The latest value of the sum `name` whose attributes include
/// `component=<component>`, in the metrics B wrote.
fn latest_sum(path: &Path, name: &str, component: &str) -> Option<u64> {
    let mut latest: Option<(u64, u64)> = None; // (time, value)
    for req in requests(path) {
        for rm in req["resourceMetrics"].as_array().into_iter().flatten() {
            for sm in rm["scopeMetrics"].as_array().into_iter().flatten() {
                for m in sm["metrics"].as_array().into_iter().flatten() {
                    if m["name"] != name {
                        continue;
                    }
                    for dp in m["sum"]["dataPoints"].as_array().into_iter().flatten() {
                        if !attr_is(&dp["attributes"], "component", component) {
                            continue;
                        }
                        let t = dp["timeUnixNano"].as_str()?.parse().ok()?;
                        let v = dp["asInt"].as_str()?.parse().ok()?;
                        if latest.is_none_or(|(lt, _)| t >= lt) {
                            latest = Some((t, v));
                        }
                    }
                }
            }
        }
    }
    latest.map(|(_, v)| v)
}

/// Waits until `cond` holds for what B wrote to `path` (at most 30 s).
fn wait_for(path: &Path, what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "{what} never arrived; {} holds:\n{}",
            path.display(),
            std::fs::read_to_string(path).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn own_metrics_and_export_traces_reach_a_second_weir_and_match_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let metrics_out = dir.path().join("b-metrics.jsonl");
    let traces_out = dir.path().join("b-traces.jsonl");
    let b_yaml = dir.path().join("b.yaml");
    std::fs::write(
        &b_yaml,
        format!(
            "receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: 127.0.0.1:0 }}
exporters:
  file/metrics: {{ path: {}, flush_interval: 100ms }}
  file/traces: {{ path: {}, flush_interval: 100ms }}
service:
  telemetry: {{ metrics: {{ address: none }} }}
  pipelines:
    metrics: {{ receivers: [otlp], exporters: [file/metrics] }}
    traces: {{ receivers: [otlp], exporters: [file/traces] }}
",
            metrics_out.display(),
            traces_out.display()
        ),
    )
    .unwrap();
    let mut b = Weir::start(&b_yaml, &[]);
    let (b_grpc, _) = b.otlp_addrs();

    let a_yaml = dir.path().join("a.yaml");
    std::fs::write(
        &a_yaml,
        format!(
            "receivers:
  stdin: {{ max_batch: 100, max_delay: 50ms }}
exporters:
  file: {{ path: {} }}
service:
  telemetry:
    metrics:
      address: 127.0.0.1:0
      otlp: {{ endpoint: http://{b_grpc}, interval: 500ms }}
    traces:
      otlp: {{ endpoint: http://{b_grpc}, interval: 200ms }}
  pipelines:
    logs: {{ receivers: [stdin], exporters: [file] }}
",
            dir.path().join("a-logs.jsonl").display()
        ),
    )
    .unwrap();
    let mut a = Weir::start(&a_yaml, &[]);
    let a_metrics = a.metrics_addr();
    {
        let stdin = a.child.stdin.as_mut().unwrap();
        for i in 0..LINES {
            writeln!(stdin, "line {i}").unwrap();
        }
        stdin.flush().unwrap();
    }
    // A has taken and delivered everything; its counters are still now.
    let text = wait_metrics(&a_metrics, |t| {
        metric(
            t,
            "weir_exporter_sent_items_total",
            &[("component", "file")],
        ) >= LINES as f64
    });
    let accepted = metric(
        &text,
        "weir_receiver_accepted_items_total",
        &[("component", "stdin")],
    );
    let sent = metric(
        &text,
        "weir_exporter_sent_items_total",
        &[("component", "file")],
    );
    assert_eq!((accepted, sent), (LINES as f64, LINES as f64));

    // The next push carries the same numbers.
    wait_for(&metrics_out, "A's counters at their final values", || {
        latest_sum(&metrics_out, "weir_receiver_accepted_items_total", "stdin")
            == Some(LINES as u64)
            && latest_sum(&metrics_out, "weir_exporter_sent_items_total", "file")
                == Some(LINES as u64)
    });
    let (_, again) = http_get(&a_metrics, "/metrics");
    assert_eq!(
        metric(
            &again,
            "weir_receiver_accepted_items_total",
            &[("component", "stdin")]
        ),
        accepted,
        "/metrics moved on while the pushed value was read"
    );

    // Histograms arrive with their buckets: one send-duration observation per
    // export call that delivered.
    let calls = metric(
        &again,
        "weir_exporter_send_duration_seconds_count",
        &[("component", "file")],
    );
    assert!(calls >= 1.0);
    wait_for(&metrics_out, "the send-duration histogram", || {
        requests(&metrics_out).iter().any(|req| {
            req["resourceMetrics"][0]["scopeMetrics"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|sm| sm["metrics"].as_array().into_iter().flatten())
                .filter(|m| m["name"] == "weir_exporter_send_duration_seconds")
                .flat_map(|m| {
                    m["histogram"]["dataPoints"]
                        .as_array()
                        .into_iter()
                        .flatten()
                })
                .any(|dp| {
                    attr_is(&dp["attributes"], "component", "file")
                        && dp["count"].as_str().and_then(|c| c.parse::<f64>().ok()) == Some(calls)
                })
        })
    });

    // Each delivery by A's file exporter is a span.
    wait_for(&traces_out, "export spans", || {
        requests(&traces_out).iter().any(|req| {
            req["resourceSpans"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|rs| rs["scopeSpans"].as_array().into_iter().flatten())
                .flat_map(|ss| ss["spans"].as_array().into_iter().flatten())
                .any(|s| {
                    s["name"] == "weir.export"
                        && attr_is(&s["attributes"], "weir.component", "file")
                        && attr_is(&s["attributes"], "weir.outcome", "delivered")
                })
        })
    });
    let service_names: Vec<Value> = requests(&metrics_out)
        .iter()
        .flat_map(|r| r["resourceMetrics"].as_array().cloned().unwrap_or_default())
        .map(|rm| rm["resource"]["attributes"].clone())
        .collect();
    assert!(
        service_names
            .iter()
            .all(|a| attr_is(a, "service.name", "weir")),
        "{service_names:?}"
    );

    drop(a.child.stdin.take());
    assert_eq!(a.wait(), 0, "{}", a.stderr());
    b.signal("TERM");
    assert_eq!(b.wait(), 0, "{}", b.stderr());
}
