//! The debug text, checked line by line.

use super::*;
use weir_core::BatchMeta;
use weir_core::otlp::common::v1::{ArrayValue, KeyValueList};
use weir_core::otlp::logs::v1::{ResourceLogs, ScopeLogs};
use weir_core::otlp::metrics::v1::{Gauge, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum};
use weir_core::otlp::trace::v1::{ResourceSpans, ScopeSpans};

fn value(v: any_value::Value) -> Option<AnyValue> {
    Some(AnyValue { value: Some(v) })
}

fn kv(key: &str, v: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: value(v),
        key_strindex: 0,
    }
}

fn render(batch: &Batch, verbosity: Verbosity) -> String {
    let mut out = Vec::new();
    write_batch(&mut out, "debug/x", batch, verbosity).unwrap();
    String::from_utf8(out).unwrap()
}

fn log_batch() -> Batch {
    use any_value::Value as V;
    let record = LogRecord {
        time_unix_nano: 1_795_688_100_000_000_000,
        severity_number: 17,
        severity_text: "ERROR".into(),
        body: value(V::StringValue("disk \"full\"\nnext line".into())),
        attributes: vec![
            kv("host", V::StringValue("a".into())),
            kv("retries", V::IntValue(3)),
            kv("ok", V::BoolValue(false)),
            kv("ratio", V::DoubleValue(0.5)),
            kv("raw", V::BytesValue(vec![0xca, 0xfe])),
            kv(
                "list",
                V::ArrayValue(ArrayValue {
                    values: vec![value(V::IntValue(1)).unwrap(), AnyValue::default()],
                }),
            ),
            kv(
                "map",
                V::KvlistValue(KeyValueList {
                    values: vec![kv("k", V::StringValue("v".into()))],
                }),
            ),
        ],
        ..Default::default()
    };
    let untimed = LogRecord {
        observed_time_unix_nano: 0,
        ..Default::default()
    };
    Batch::logs(
        vec![
            ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![record, untimed],
                    ..Default::default()
                }],
                ..Default::default()
            },
            ResourceLogs::default(),
        ],
        BatchMeta::default(),
    )
}

#[test]
fn basic_is_one_summary_line() {
    let batch = log_batch();
    let size = batch.size_bytes();
    assert_eq!(
        render(&batch, Verbosity::Basic),
        format!("debug/x: logs batch: 2 items, 2 resources, {size} bytes\n")
    );
}

#[test]
fn basic_counts_resources_of_received_bytes_without_decoding() {
    let data = log_batch().into_data().unwrap();
    let mut buf = Vec::new();
    data.encode_to(&mut buf);
    let len = buf.len();
    let batch = Batch::from_encoded(data.signal(), buf.into(), 2, BatchMeta::default());
    assert_eq!(
        render(&batch, Verbosity::Basic),
        format!("debug/x: logs batch: 2 items, 2 resources, {len} bytes\n")
    );
    assert!(!batch.is_decoded());
    assert_eq!(count_resources(&[0x0a, 0x00, 0x0a, 0x01, 0x08]), Some(2));
    assert_eq!(count_resources(&[0x0a, 0x05]), None, "truncated");
}

#[test]
fn detailed_logs() {
    let text = render(&log_batch(), Verbosity::Detailed);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[1],
        r#"  log 2026-11-26T10:15:00.000000000Z ERROR/17 "disk \"full\"\nnext line" host="a" retries=3 ok=false ratio=0.5 raw=0xcafe list=[1, -] map={k="v"}"#
    );
    assert_eq!(lines[2], "  log - -/0 -");
}

#[test]
fn detailed_spans_and_metrics() {
    let span = Span {
        trace_id: vec![0xab; 16],
        span_id: vec![0x01; 8],
        name: "GET /".into(),
        kind: 2,
        start_time_unix_nano: 1_000_000,
        end_time_unix_nano: 2_500_000,
        ..Default::default()
    };
    let batch = Batch::traces(
        vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![span, Span::default()],
                ..Default::default()
            }],
            ..Default::default()
        }],
        BatchMeta::default(),
    );
    let text = render(&batch, Verbosity::Detailed);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("debug/x: traces batch: 2 items, 1 resources, "));
    assert_eq!(
        lines[1],
        r#"  span trace=abababababababababababababababab span=0101010101010101 name="GET /" kind=server duration=1.5ms"#
    );
    assert_eq!(
        lines[2],
        r#"  span trace=- span=- name="" kind=unspecified duration=0ns"#
    );

    let point = NumberDataPoint::default();
    let metrics = vec![
        Metric {
            name: "temp".into(),
            data: Some(metric::Data::Gauge(Gauge {
                data_points: vec![point.clone()],
            })),
            ..Default::default()
        },
        Metric {
            name: "requests".into(),
            data: Some(metric::Data::Sum(Sum {
                data_points: vec![point.clone(), point.clone(), point],
                ..Default::default()
            })),
            ..Default::default()
        },
        Metric {
            name: "empty".into(),
            ..Default::default()
        },
    ];
    let batch = Batch::metrics(
        vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
        BatchMeta::default(),
    );
    let text = render(&batch, Verbosity::Detailed);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("debug/x: metrics batch: 4 items, 1 resources, "));
    assert_eq!(lines[1], r#"  metric name="temp" type=gauge points=1"#);
    assert_eq!(lines[2], r#"  metric name="requests" type=sum points=3"#);
    assert_eq!(lines[3], r#"  metric name="empty" type=none points=0"#);
}

#[test]
fn undecodable_bytes_are_an_error() {
    let batch = Batch::from_encoded(
        weir_core::Signal::Logs,
        vec![0x0a, 0x05, 0x01].into(),
        1,
        BatchMeta::default(),
    );
    assert!(write_batch(&mut Vec::new(), "debug", &batch, Verbosity::Basic).is_err());
}
