//! OTLP pass-through across two real weir processes:
//! tonic client → weir A (`otlp` receiver, gRPC) → `otlp` exporter (gRPC, gzip)
//! → weir B (`otlp` receiver) → `file` exporters (`format: proto`, one per signal).
//!
//! B's files hold each request as the protobuf bytes B received; they must equal,
//! byte for byte, what the client sent to A: resource, scope, attributes, ids,
//! timestamps and every other field pass through both hops unchanged, and
//! neither weir re-encoded anything.

mod otlp_support;
mod support;

use std::path::Path;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics,
    ScopeMetrics, exemplar, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use prost::Message;

use otlp_support::{kv, logs_request, runtime, wait_exit, write_pipeline};
use support::{Weir, metric as sample, wait_metrics};

const TRACE_ID: [u8; 16] = [
    0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c,
];
const SPAN_ID: [u8; 8] = [0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74];

fn value(v: any_value::Value) -> Option<AnyValue> {
    Some(AnyValue { value: Some(v) })
}

fn rich_attributes() -> Vec<KeyValue> {
    use any_value::Value as V;
    let kv = |key: &str, v| KeyValue {
        key: key.into(),
        value: value(v),
        ..Default::default()
    };
    vec![
        kv("s", V::StringValue("text".into())),
        kv("b", V::BoolValue(true)),
        kv("i", V::IntValue(-7)),
        kv("d", V::DoubleValue(2.5)),
        kv("bytes", V::BytesValue(vec![0, 1, 0xff])),
        kv(
            "arr",
            V::ArrayValue(ArrayValue {
                values: vec![AnyValue::default(), value(V::IntValue(1)).unwrap()],
            }),
        ),
        kv(
            "kv",
            V::KvlistValue(KeyValueList {
                values: vec![kv("inner", V::StringValue("x".into()))],
            }),
        ),
    ]
}

fn resource(service: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![kv("service.name", service), kv("host.name", "box-1")],
        dropped_attributes_count: 1,
        ..Default::default()
    })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "passthrough".into(),
        version: "9.9.9".into(),
        attributes: vec![kv("scope.k", "v")],
        dropped_attributes_count: 2,
    })
}

fn logs() -> ExportLogsServiceRequest {
    let mut req = logs_request("pass", 5);
    let rl = &mut req.resource_logs[0];
    rl.resource = resource("logs-app");
    rl.schema_url = "https://opentelemetry.io/schemas/1.21.0".into();
    let sl = &mut rl.scope_logs[0];
    sl.scope = scope();
    for r in &mut sl.log_records {
        r.observed_time_unix_nano = r.time_unix_nano + 1;
        r.trace_id = TRACE_ID.to_vec();
        r.span_id = SPAN_ID.to_vec();
        r.flags = 1;
        r.severity_text = "INFO".into();
        r.attributes.extend(rich_attributes());
        r.dropped_attributes_count = 3;
        r.event_name = "evt".into();
    }
    req
}

fn traces() -> ExportTraceServiceRequest {
    let span = Span {
        trace_id: TRACE_ID.to_vec(),
        span_id: SPAN_ID.to_vec(),
        trace_state: "rojo=00f067aa0ba902b7".into(),
        parent_span_id: vec![1; 8],
        flags: 0x301,
        name: "GET /x".into(),
        kind: 2,
        start_time_unix_nano: 1_544_712_660_000_000_000,
        end_time_unix_nano: 1_544_712_661_000_000_000,
        attributes: rich_attributes(),
        dropped_attributes_count: 4,
        events: vec![span::Event {
            time_unix_nano: 1_544_712_660_500_000_000,
            name: "exception".into(),
            attributes: vec![kv("exception.type", "E")],
            dropped_attributes_count: 1,
        }],
        dropped_events_count: 5,
        links: vec![span::Link {
            trace_id: vec![0xaa; 16],
            span_id: vec![0xbb; 8],
            trace_state: "a=b".into(),
            attributes: vec![kv("l", "1")],
            dropped_attributes_count: 6,
            flags: 257,
        }],
        dropped_links_count: 7,
        status: Some(Status {
            message: "boom".into(),
            code: 2,
        }),
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource("traces-app"),
            scope_spans: vec![ScopeSpans {
                scope: scope(),
                spans: vec![
                    span.clone(),
                    Span {
                        name: "second".into(),
                        span_id: vec![2; 8],
                        ..span
                    },
                ],
                schema_url: "https://opentelemetry.io/schemas/1.24.0".into(),
            }],
            schema_url: String::new(),
        }],
    }
}

fn metrics() -> ExportMetricsServiceRequest {
    let exemplar = Exemplar {
        filtered_attributes: vec![kv("user", "u1")],
        time_unix_nano: 1_544_712_660_100_000_000,
        span_id: SPAN_ID.to_vec(),
        trace_id: TRACE_ID.to_vec(),
        value: Some(exemplar::Value::AsDouble(0.75)),
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource("metrics-app"),
            scope_metrics: vec![ScopeMetrics {
                scope: scope(),
                metrics: vec![
                    Metric {
                        name: "temp".into(),
                        unit: "Cel".into(),
                        data: Some(metric::Data::Gauge(Gauge {
                            data_points: vec![NumberDataPoint {
                                attributes: rich_attributes(),
                                start_time_unix_nano: 1,
                                time_unix_nano: 2,
                                exemplars: vec![exemplar.clone()],
                                flags: 1,
                                value: Some(number_data_point::Value::AsInt(-3)),
                            }],
                        })),
                        ..Default::default()
                    },
                    Metric {
                        name: "latency".into(),
                        description: "d".into(),
                        unit: "s".into(),
                        data: Some(metric::Data::Histogram(Histogram {
                            data_points: vec![HistogramDataPoint {
                                attributes: vec![kv("route", "/x")],
                                start_time_unix_nano: 1,
                                time_unix_nano: 2,
                                count: 10,
                                sum: Some(3.5),
                                bucket_counts: vec![1, 2, 7],
                                explicit_bounds: vec![0.1, 0.5],
                                exemplars: vec![exemplar],
                                flags: 0,
                                min: Some(0.0),
                                max: Some(1.5),
                            }],
                            aggregation_temporality: 2,
                        })),
                        metadata: vec![kv("m", "1")],
                    },
                ],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// The frames of a `format: proto` file: 4-byte big-endian length, then bytes.
fn frames(path: &Path) -> Vec<Vec<u8>> {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut out = Vec::new();
    let mut rest = &raw[..];
    while !rest.is_empty() {
        assert!(rest.len() >= 4, "truncated frame header");
        let n = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        assert!(rest.len() >= 4 + n, "truncated frame");
        out.push(rest[4..4 + n].to_vec());
        rest = &rest[4 + n..];
    }
    out
}

#[test]
fn otlp_grpc_passes_through_two_weirs_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let out = |s: &str| dir.path().join(format!("{s}.pb"));
    let b_yaml = format!(
        r#"
receivers:
  otlp: {{ protocols: {{ grpc: {{ endpoint: 127.0.0.1:0 }} }} }}
exporters:
  file/logs: {{ path: {logs}, format: proto }}
  file/traces: {{ path: {traces}, format: proto }}
  file/metrics: {{ path: {metrics}, format: proto }}
service:
  telemetry: {{ metrics: {{ address: 127.0.0.1:0 }} }}
  pipelines:
    logs: {{ receivers: [otlp], exporters: [file/logs] }}
    traces: {{ receivers: [otlp], exporters: [file/traces] }}
    metrics: {{ receivers: [otlp], exporters: [file/metrics] }}
"#,
        logs = out("logs").display(),
        traces = out("traces").display(),
        metrics = out("metrics").display(),
    );
    let mut b = Weir::start(&write_pipeline(dir.path(), "b.yaml", &b_yaml), &[]);
    let (b_grpc, _) = b.otlp_addrs();
    let b_metrics = b.metrics_addr();
    let a_yaml = format!(
        r#"
receivers:
  otlp: {{ protocols: {{ grpc: {{ endpoint: 127.0.0.1:0 }} }} }}
exporters:
  otlp: {{ protocol: grpc, endpoint: "http://{b_grpc}", compression: gzip }}
service:
  telemetry: {{ metrics: {{ address: none }} }}
  pipelines:
    logs: {{ receivers: [otlp], exporters: [otlp] }}
    traces: {{ receivers: [otlp], exporters: [otlp] }}
    metrics: {{ receivers: [otlp], exporters: [otlp] }}
"#
    );
    let mut a = Weir::start(&write_pipeline(dir.path(), "a.yaml", &a_yaml), &[]);
    let (a_grpc, _) = a.otlp_addrs();

    let (logs, traces, metrics) = (logs(), traces(), metrics());
    let rt = runtime();
    rt.block_on(async {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{a_grpc}"))
            .unwrap()
            .connect()
            .await
            .expect("connect to weir A");
        let r = LogsServiceClient::new(channel.clone())
            .export(logs.clone())
            .await
            .expect("logs accepted");
        assert_eq!(r.get_ref().partial_success, None);
        let r = TraceServiceClient::new(channel.clone())
            .export(traces.clone())
            .await
            .expect("traces accepted");
        assert_eq!(r.get_ref().partial_success, None);
        let r = MetricsServiceClient::new(channel)
            .export(metrics.clone())
            .await
            .expect("metrics accepted");
        assert_eq!(r.get_ref().partial_success, None);
    });

    // 5 records, 2 spans, 2 data points reach B's file exporters.
    wait_metrics(&b_metrics, |m| {
        [
            ("file/logs", 5.0),
            ("file/traces", 2.0),
            ("file/metrics", 2.0),
        ]
        .iter()
        .all(|(c, n)| sample(m, "weir_exporter_sent_items_total", &[("component", c)]) == *n)
    });
    a.signal("TERM");
    assert_eq!(wait_exit(&mut a), 0, "A: {}", a.stderr());
    b.signal("TERM");
    assert_eq!(wait_exit(&mut b), 0, "B: {}", b.stderr());

    let one = |signal: &str| {
        let f = frames(&out(signal));
        assert_eq!(f.len(), 1, "{signal}: one request");
        f.into_iter().next().unwrap()
    };
    let got = one("logs");
    assert_eq!(ExportLogsServiceRequest::decode(&got[..]).unwrap(), logs);
    assert_eq!(got, logs.encode_to_vec(), "logs bytes unchanged");
    let got = one("traces");
    assert_eq!(ExportTraceServiceRequest::decode(&got[..]).unwrap(), traces);
    assert_eq!(got, traces.encode_to_vec(), "trace bytes unchanged");
    let got = one("metrics");
    assert_eq!(
        ExportMetricsServiceRequest::decode(&got[..]).unwrap(),
        metrics
    );
    assert_eq!(got, metrics.encode_to_vec(), "metrics bytes unchanged");
}
