//! Tests of the `otlp` exporter against real local servers.

mod grpc;
mod http;
mod passthrough;
mod servers;
mod splitting;

use std::net::SocketAddr;

use bytes::Bytes;
use weir_core::otlp::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_core::otlp::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use weir_core::otlp::resource::v1::Resource;
use weir_core::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span};
use weir_core::telemetry::Kind;
use weir_core::{
    Batch, BatchMeta, BuildContext, ComponentConfig, ExportError, ExportOutcome, Exporter,
    ExporterFactory, Signal, SignalData,
};

use super::OtlpExporterFactory;

/// Installs the TLS provider the binary installs at start (ignoring "already done").
pub fn init_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// An exporter from YAML config.
pub fn exporter(yaml: &str) -> Box<dyn Exporter> {
    init_tls();
    let cx = BuildContext::for_test("otlp", Kind::Exporter, &Signal::ALL);
    let cfg = ComponentConfig::from_yaml(yaml).unwrap();
    OtlpExporterFactory.build(&cfg, &cx).unwrap()
}

/// An exporter of `protocol` to `addr` with extra YAML lines.
pub fn exporter_to(protocol: &str, addr: SocketAddr, extra: &str) -> Box<dyn Exporter> {
    exporter(&format!(
        "protocol: {protocol}\nendpoint: http://{addr}\n{extra}"
    ))
}

fn text(s: String) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(s)),
    })
}

fn resource(i: usize) -> Option<Resource> {
    Some(Resource {
        attributes: vec![KeyValue {
            key: "service.name".into(),
            key_strindex: 0,
            value: text(format!("svc-{i}")),
        }],
        ..Default::default()
    })
}

fn scope(name: String) -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name,
        version: "1.0".into(),
        ..Default::default()
    })
}

/// `resources` × `scopes` × `records` log records with bodies of `body` bytes.
pub fn logs(resources: usize, scopes: usize, records: usize, body: usize) -> SignalData {
    SignalData::Logs(
        (0..resources)
            .map(|r| ResourceLogs {
                resource: resource(r),
                scope_logs: (0..scopes)
                    .map(|s| ScopeLogs {
                        scope: scope(format!("scope-{r}-{s}")),
                        log_records: (0..records)
                            .map(|i| LogRecord {
                                time_unix_nano: i as u64,
                                severity_number: 9,
                                body: text(format!("{r}/{s}/{i} {}", "x".repeat(body))),
                                ..Default::default()
                            })
                            .collect(),
                        schema_url: String::new(),
                    })
                    .collect(),
                schema_url: String::new(),
            })
            .collect(),
    )
}

/// `n` spans.
pub fn traces(n: usize) -> SignalData {
    SignalData::Traces(vec![ResourceSpans {
        resource: resource(0),
        scope_spans: vec![ScopeSpans {
            scope: scope("tracer".into()),
            spans: (0..n)
                .map(|i| Span {
                    trace_id: vec![1; 16],
                    span_id: (i as u64 + 1).to_be_bytes().to_vec(),
                    name: format!("span-{i}"),
                    start_time_unix_nano: 1,
                    end_time_unix_nano: 2,
                    ..Default::default()
                })
                .collect(),
            schema_url: String::new(),
        }],
        schema_url: String::new(),
    }])
}

/// One gauge with `n` data points.
pub fn metrics(n: usize) -> SignalData {
    SignalData::Metrics(vec![ResourceMetrics {
        resource: resource(0),
        scope_metrics: vec![ScopeMetrics {
            scope: scope("meter".into()),
            metrics: vec![Metric {
                name: "queue.depth".into(),
                data: Some(metric::Data::Gauge(Gauge {
                    data_points: (0..n)
                        .map(|i| NumberDataPoint {
                            time_unix_nano: 5,
                            value: Some(number_data_point::Value::AsInt(i as i64)),
                            ..Default::default()
                        })
                        .collect(),
                })),
                ..Default::default()
            }],
            schema_url: String::new(),
        }],
        schema_url: String::new(),
    }])
}

/// The protobuf bytes of `data`, and a batch holding them as received.
pub fn received(data: &SignalData) -> (Batch, Bytes) {
    let mut buf = Vec::new();
    data.encode_to(&mut buf);
    let bytes = Bytes::from(buf);
    let batch = Batch::from_encoded(
        data.signal(),
        bytes.clone(),
        data.item_count(),
        BatchMeta::default(),
    );
    (batch, bytes)
}

/// One batch of each signal (3 items each), as received.
pub fn one_of_each() -> Vec<(Batch, Bytes)> {
    [logs(1, 1, 3, 20), traces(3), metrics(3)]
        .iter()
        .map(received)
        .collect()
}

/// Calls export the way the harness does: again after each retryable error,
/// waiting what it asks, until success, a permanent error or `max_tries`.
pub async fn drive(
    exporter: &dyn Exporter,
    batch: &Batch,
    max_tries: usize,
) -> (Vec<ExportError>, Result<ExportOutcome, ExportError>) {
    let mut retried = Vec::new();
    for _ in 1..max_tries {
        match exporter.export(batch).await {
            Err(e) if e.is_retryable() => {
                if let ExportError::Retryable { after, .. } = &e {
                    tokio::time::sleep(after.unwrap_or_default()).await;
                }
                retried.push(e);
            }
            other => return (retried, other),
        }
    }
    (retried, exporter.export(batch).await)
}

/// The `after` of a retryable error (panics on a permanent one).
pub fn after(e: &ExportError) -> Option<std::time::Duration> {
    match e {
        ExportError::Retryable { after, .. } => *after,
        ExportError::Permanent { .. } => panic!("expected retryable, got {e}"),
    }
}

#[test]
fn factory_validates_without_io() {
    // Outside any runtime, like `weir validate`: building must neither spawn
    // nor connect.
    init_tls();
    let cx = BuildContext::for_test("otlp", Kind::Exporter, &Signal::ALL);
    for yaml in [
        "endpoint: http://127.0.0.1:1",
        "endpoint: https://example.invalid:4317",
        "protocol: http/protobuf\nendpoint: https://example.invalid",
        "protocol: http/json\nendpoint: http://127.0.0.1:1/custom",
    ] {
        let cfg = ComponentConfig::from_yaml(yaml).unwrap();
        assert!(OtlpExporterFactory.build(&cfg, &cx).is_ok(), "{yaml}");
    }
    let cfg = ComponentConfig::from_yaml("endpoint: udp://x").unwrap();
    let err = OtlpExporterFactory.build(&cfg, &cx).err().unwrap();
    assert_eq!(err.path.as_deref(), Some("endpoint"));
}
