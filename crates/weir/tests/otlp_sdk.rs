//! The official OpenTelemetry Rust SDK and `opentelemetry-otlp` exporter, as a
//! real client, send logs, traces and metrics through the real weir binary
//! (otlp receiver → otlp exporter) to a second OTLP endpoint; every item arrives
//! once with resource, scope, attributes and ids intact. Run over gRPC, and over
//! HTTP/protobuf with and without gzip.

mod sdk_support;
mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use sdk_support::{Client, LOGS, SPANS, Sink, emit, start_sink};
use support::Weir;
use weir_core::otlp::common::v1::{AnyValue, KeyValue as PKeyValue, any_value};
use weir_core::otlp::metrics::v1::metric;

fn weir_to(dir: &std::path::Path, sink_url: &str) -> Weir {
    let yaml = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: 127.0.0.1:0 }}
      http: {{ endpoint: 127.0.0.1:0 }}
exporters:
  otlp:
    protocol: grpc
    endpoint: {sink_url}
service:
  telemetry: {{ metrics: {{ address: none }} }}
  pipelines:
    logs: {{ receivers: [otlp], exporters: [otlp] }}
    traces: {{ receivers: [otlp], exporters: [otlp] }}
    metrics: {{ receivers: [otlp], exporters: [otlp] }}
"#
    );
    let p = dir.join("relay.yaml");
    std::fs::write(&p, yaml).unwrap();
    Weir::start(&p, &[])
}

fn str_attr(attrs: &[PKeyValue], key: &str) -> Option<any_value::Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.clone())
        .and_then(|v: AnyValue| v.value)
}

fn check_resource_and_scope(
    resource: &Option<weir_core::otlp::resource::v1::Resource>,
    scope: &Option<weir_core::otlp::common::v1::InstrumentationScope>,
) {
    let attrs = &resource.as_ref().expect("resource").attributes;
    assert_eq!(
        str_attr(attrs, "service.name"),
        Some(any_value::Value::StringValue("weir-e2e".into()))
    );
    assert_eq!(
        str_attr(attrs, "host.cores"),
        Some(any_value::Value::IntValue(2))
    );
    let scope = scope.as_ref().expect("scope");
    assert_eq!(scope.name, "weir.e2e");
    assert_eq!(scope.version, "1.2.3");
    assert_eq!(
        str_attr(&scope.attributes, "scope.attr"),
        Some(any_value::Value::BoolValue(true))
    );
}

fn run_client(client: Client) {
    // reqwest is built without a default crypto provider, as in the binary.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sink = Sink::default();
    let url = rt.block_on(start_sink(sink.clone()));
    let dir = tempfile::tempdir().unwrap();
    let mut weir = weir_to(dir.path(), &url);
    let (grpc, http) = weir.otlp_addrs();
    let sent = emit(client, &grpc, &http, &rt);

    // Wait until everything went through weir.
    let deadline = Instant::now() + Duration::from_secs(30);
    let count = |s: &Sink| {
        let spans: usize = s
            .traces
            .lock()
            .unwrap()
            .iter()
            .flat_map(|r| &r.resource_spans)
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum();
        let logs: usize = s
            .logs
            .lock()
            .unwrap()
            .iter()
            .flat_map(|r| &r.resource_logs)
            .flat_map(|r| &r.scope_logs)
            .map(|s| s.log_records.len())
            .sum();
        let metrics = !s.metrics.lock().unwrap().is_empty();
        (spans, logs, metrics)
    };
    while count(&sink) != (SPANS, LOGS, true) {
        assert!(
            Instant::now() < deadline,
            "{client:?}: got {:?}\n{}",
            count(&sink),
            weir.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        count(&sink),
        (SPANS, LOGS, true),
        "{client:?}: duplicates arrived"
    );

    // Spans: every id once, with resource, scope and attributes.
    let mut seen = HashSet::new();
    for req in sink.traces.lock().unwrap().iter() {
        for rs in &req.resource_spans {
            for ss in &rs.scope_spans {
                check_resource_and_scope(&rs.resource, &ss.scope);
                for s in &ss.spans {
                    assert!(
                        seen.insert((s.trace_id.clone(), s.span_id.clone())),
                        "span twice"
                    );
                    if s.name.starts_with("child-") {
                        let i: i64 = s.name[6..].parse().unwrap();
                        assert_eq!(
                            str_attr(&s.attributes, "i"),
                            Some(any_value::Value::IntValue(i))
                        );
                        assert_eq!(
                            str_attr(&s.attributes, "ratio"),
                            Some(any_value::Value::DoubleValue(0.5))
                        );
                        assert_eq!(s.events[0].name, "checkpoint");
                        assert_eq!(s.parent_span_id, sent.log_trace.1, "parent link kept");
                    }
                }
            }
        }
    }
    assert_eq!(seen, sent.span_ids, "{client:?}: span ids intact");

    // Logs: bodies once each, severity, attributes, trace context.
    let mut bodies = HashSet::new();
    for req in sink.logs.lock().unwrap().iter() {
        for rl in &req.resource_logs {
            for sl in &rl.scope_logs {
                check_resource_and_scope(&rl.resource, &sl.scope);
                for r in &sl.log_records {
                    let Some(any_value::Value::StringValue(b)) =
                        r.body.clone().and_then(|b| b.value)
                    else {
                        panic!("string body expected: {r:?}");
                    };
                    assert!(bodies.insert(b.clone()), "log twice: {b}");
                    let i: i64 = b[4..].parse().unwrap();
                    assert_eq!(
                        str_attr(&r.attributes, "i"),
                        Some(any_value::Value::IntValue(i))
                    );
                    assert_eq!(r.severity_number, 13);
                    assert_eq!(r.severity_text, "WARN");
                    assert_eq!(r.trace_id, sent.log_trace.0);
                    assert_eq!(r.span_id, sent.log_trace.1);
                }
            }
        }
    }
    assert_eq!(bodies.len(), LOGS);

    // Metrics: the counter's two series and the histogram.
    let mut requests_total = 0;
    let mut hist_count = 0;
    for req in sink.metrics.lock().unwrap().iter() {
        for rm in &req.resource_metrics {
            for sm in &rm.scope_metrics {
                check_resource_and_scope(&rm.resource, &sm.scope);
                for m in &sm.metrics {
                    match (&*m.name, &m.data) {
                        ("requests", Some(metric::Data::Sum(s))) => {
                            for p in &s.data_points {
                                if let Some(
                                    weir_core::otlp::metrics::v1::number_data_point::Value::AsInt(
                                        v,
                                    ),
                                ) = p.value
                                {
                                    requests_total += v;
                                }
                            }
                        }
                        ("latency", Some(metric::Data::Histogram(h))) => {
                            hist_count += h.data_points.iter().map(|p| p.count).sum::<u64>();
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    // The periodic reader may export more than once (cumulative): at least once.
    assert!(
        requests_total >= 7 && requests_total % 7 == 0,
        "{client:?}: {requests_total}"
    );
    assert!(hist_count >= 1, "{client:?}");

    weir.signal("TERM");
    assert_eq!(weir.wait(), 0, "{}", weir.stderr());
    rt.shutdown_background();
}

#[test]
fn sdk_over_grpc_through_weir() {
    run_client(Client::Grpc);
}

#[test]
fn sdk_over_http_protobuf_through_weir() {
    run_client(Client::Http { gzip: false });
}

#[test]
fn sdk_over_http_protobuf_gzip_through_weir() {
    run_client(Client::Http { gzip: true });
}

/// `weir run` with no file: the embedded default pipeline takes OTLP and writes
/// one file per signal under ./weir-data.
#[test]
fn default_pipeline_takes_otlp_and_writes_files() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut weir = Weir::start_default(
        dir.path(),
        &[
            ("WEIR_OTLP_GRPC_ENDPOINT", "127.0.0.1:0"),
            ("WEIR_OTLP_HTTP_ENDPOINT", "127.0.0.1:0"),
            ("WEIR_METRICS_ADDRESS", "none"),
        ],
    );
    let (grpc, http) = weir.otlp_addrs();
    emit(Client::Grpc, &grpc, &http, &rt);
    let data = dir.path().join("weir-data");
    let deadline = Instant::now() + Duration::from_secs(30);
    let records = |f: &str| {
        std::fs::read_to_string(data.join(f))
            .map(|s| s.matches("\"spanId\"").count() + s.matches("\"severityNumber\"").count())
            .unwrap_or(0)
    };
    // Files are flushed every second; wait for every span and log record.
    while records("traces.jsonl") < SPANS || records("logs.jsonl") < LOGS {
        assert!(Instant::now() < deadline, "{}", weir.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    weir.signal("INT");
    assert_eq!(weir.wait(), 0, "{}", weir.stderr());
    assert!(
        std::fs::read_to_string(data.join("metrics.jsonl"))
            .unwrap()
            .contains("\"requests\"")
    );
    assert!(
        weir.stderr().contains("traces batch"),
        "debug summary lines on stderr"
    );
    rt.shutdown_background();
}
