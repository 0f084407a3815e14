//! Realistic OTLP export requests, built and encoded once: logs (~10 mixed
//! attributes, ~300-byte bodies, trace context), spans (~8 attributes and an
//! event each), metrics (gauges, sums and histograms of a few points each).

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use weir_core::otlp::common::v1::any_value::Value;
use weir_core::otlp::common::v1::{AnyValue, ArrayValue, InstrumentationScope, KeyValue};
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_core::otlp::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric, number_data_point,
};
use weir_core::otlp::resource::v1::Resource;
use weir_core::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span, status};
use weir_core::{Signal, SignalData};
use weir_otlp::compression::{Encoding, compress};

/// The attribute that carries a send timestamp (unix nanoseconds as 20 ASCII
/// digits) on the first item of a stamped request, for end-to-end latency.
pub const STAMP_KEY: &str = "weir.bench.sent_unix_nano";
/// Digits of a stamp.
pub const STAMP_DIGITS: usize = 20;

/// How a request body is encoded on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// OTLP protobuf (gRPC, HTTP/protobuf).
    Protobuf,
    /// OTLP/JSON (HTTP/JSON).
    Json,
}

/// One pre-encoded export request, reused for every send.
#[derive(Debug, Clone)]
pub struct Payload {
    /// Its signal.
    pub signal: Signal,
    /// Items it carries (log records, spans, data points).
    pub items: u64,
    /// The body as sent (encoded, then gzip-compressed when `gzip`).
    pub body: Bytes,
    /// Its format.
    pub format: BodyFormat,
    /// Whether `body` is gzip-compressed.
    pub gzip: bool,
    /// Offset of the stamp digits in `body` (protobuf, uncompressed, logs or
    /// traces only).
    pub stamp_at: Option<usize>,
}

impl Payload {
    /// Builds a request of `signal` with about `items` items (metrics round to
    /// whole metrics).
    pub fn build(signal: Signal, items: usize, format: BodyFormat, gzip: bool) -> Payload {
        let data = data(signal, items.max(1));
        let items = data.item_count() as u64;
        let mut raw = Vec::new();
        match format {
            BodyFormat::Protobuf => data.encode_to(&mut raw),
            BodyFormat::Json => weir_otlp::json::encode(&data, &mut raw),
        }
        let stamp_at = if format == BodyFormat::Protobuf && !gzip {
            let key = memchr::memmem::find(&raw, STAMP_KEY.as_bytes());
            key.and_then(|k| {
                let zeros = [b'0'; STAMP_DIGITS];
                memchr::memmem::find(&raw[k..], &zeros).map(|z| k + z)
            })
        } else {
            None
        };
        let body = if gzip {
            compress(Encoding::Gzip, &raw, None)
        } else {
            raw
        };
        Payload {
            signal,
            items,
            body: body.into(),
            format,
            gzip,
            stamp_at,
        }
    }

    /// The body with the current time stamped in (a copy), or the shared body
    /// when it has no stamp slot.
    pub fn stamped(&self) -> Bytes {
        let Some(at) = self.stamp_at else {
            return self.body.clone();
        };
        let mut body = self.body.to_vec();
        let digits = format!("{:020}", unix_nanos());
        body[at..at + STAMP_DIGITS].copy_from_slice(digits.as_bytes());
        body.into()
    }
}

/// Nanoseconds since the Unix epoch.
pub fn unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Finds a stamp in the first few KiB of an uncompressed protobuf body.
pub fn find_stamp(body: &[u8]) -> Option<u64> {
    let head = &body[..body.len().min(16 * 1024)];
    let k = memchr::memmem::find(head, STAMP_KEY.as_bytes())? + STAMP_KEY.len();
    // key, then AnyValue tag + length + string tag + length: a few bytes.
    let rest = &head[k..head.len().min(k + 8 + STAMP_DIGITS)];
    let start = rest.iter().position(u8::is_ascii_digit)?;
    let digits = rest.get(start..start + STAMP_DIGITS)?;
    let stamp: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    // An unstamped request carries zeros.
    (stamp != 0).then_some(stamp)
}

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn s(v: &str) -> Value {
    Value::StringValue(v.into())
}

fn resource() -> Resource {
    Resource {
        attributes: vec![
            kv("service.name", s("checkout")),
            kv("service.version", s("2.14.1")),
            kv("service.namespace", s("shop")),
            kv("service.instance.id", s("checkout-7d9f8b6c4-x2x7q")),
            kv("host.name", s("ip-10-0-12-34.eu-west-1.compute.internal")),
            kv("host.arch", s("amd64")),
            kv("deployment.environment.name", s("production")),
            kv("k8s.namespace.name", s("shop")),
            kv("k8s.pod.name", s("checkout-7d9f8b6c4-x2x7q")),
            kv("telemetry.sdk.language", s("rust")),
            kv("telemetry.sdk.name", s("opentelemetry")),
            kv("telemetry.sdk.version", s("0.31.0")),
        ],
        ..Default::default()
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: "checkout.http".into(),
        version: "2.14.1".into(),
        ..Default::default()
    }
}

const T0: u64 = 1_795_000_000_000_000_000;
const ROUTES: [&str; 5] = [
    "/api/v1/cart",
    "/api/v1/checkout",
    "/api/v1/items/{id}",
    "/api/v1/payment",
    "/healthz",
];

fn ids(i: usize) -> (Vec<u8>, Vec<u8>) {
    let x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut trace = x.to_be_bytes().to_vec();
    trace.extend_from_slice(&(x ^ 0xA5A5_5A5A_DEAD_BEEF).to_be_bytes());
    (trace, (x.rotate_left(17) | 1).to_be_bytes().to_vec())
}

fn stamp_attr() -> KeyValue {
    kv(STAMP_KEY, s(&"0".repeat(STAMP_DIGITS)))
}

fn log_record(i: usize) -> LogRecord {
    let route = ROUTES[i % ROUTES.len()];
    let status = [200, 200, 200, 201, 404, 500][i % 6];
    let mut body = format!(
        "request {i} {route} completed with status {status} for user u-{:06} after {} ms; ",
        i * 7919 % 1_000_000,
        i % 250
    );
    let filler = "cart=3 items, total=129.90 EUR, payment=card, shipping=standard, coupon=none; ";
    while body.len() < 300 {
        body.push_str(filler);
    }
    body.truncate(300);
    let (trace_id, span_id) = ids(i);
    let mut attributes = vec![
        kv("http.request.method", s(["GET", "POST"][i % 2])),
        kv("http.route", s(route)),
        kv("http.response.status_code", Value::IntValue(status)),
        kv(
            "http.server.duration_ms",
            Value::DoubleValue((i % 250) as f64 * 1.25),
        ),
        kv("user.id", s(&format!("u-{:06}", i * 7919 % 1_000_000))),
        kv(
            "client.address",
            s(&format!("10.0.{}.{}", i % 256, i * 7 % 256)),
        ),
        kv("retry", Value::BoolValue(i % 10 == 0)),
        kv("response.bytes", Value::IntValue((i as i64 * 37) % 65_536)),
        kv("region", s(["eu-west-1", "us-east-1", "ap-south-1"][i % 3])),
        kv(
            "tags",
            Value::ArrayValue(ArrayValue {
                values: vec![
                    AnyValue {
                        value: Some(s("web")),
                    },
                    AnyValue {
                        value: Some(s("checkout")),
                    },
                ],
            }),
        ),
    ];
    if i == 0 {
        attributes.push(stamp_attr());
    }
    let sev = [9, 9, 9, 13, 17][i % 5];
    LogRecord {
        time_unix_nano: T0 + i as u64 * 1000,
        observed_time_unix_nano: T0 + i as u64 * 1000 + 500,
        severity_number: sev,
        severity_text: match sev {
            9 => "INFO",
            13 => "WARN",
            _ => "ERROR",
        }
        .into(),
        body: Some(AnyValue {
            value: Some(Value::StringValue(body)),
        }),
        attributes,
        flags: 1,
        trace_id,
        span_id,
        ..Default::default()
    }
}

fn span(i: usize) -> Span {
    let route = ROUTES[i % ROUTES.len()];
    let (trace_id, span_id) = ids(i);
    let (_, parent) = ids(i + 1_000_003);
    let start = T0 + i as u64 * 10_000;
    let mut attributes = vec![
        kv("http.request.method", s(["GET", "POST"][i % 2])),
        kv("http.route", s(route)),
        kv("http.response.status_code", Value::IntValue(200)),
        kv("url.scheme", s("https")),
        kv("server.address", s("checkout.shop.svc.cluster.local")),
        kv("server.port", Value::IntValue(8443)),
        kv(
            "user_agent.original",
            s("Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"),
        ),
        kv("network.protocol.version", s("1.1")),
    ];
    if i == 0 {
        attributes.push(stamp_attr());
    }
    Span {
        trace_id,
        span_id,
        parent_span_id: parent,
        name: format!("HTTP {} {route}", ["GET", "POST"][i % 2]),
        kind: span::SpanKind::Server as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: start + 1_250_000 + (i as u64 % 97) * 10_000,
        attributes,
        events: vec![span::Event {
            time_unix_nano: start + 500_000,
            name: "cache.lookup".into(),
            attributes: vec![
                kv("cache.hit", Value::BoolValue(i % 3 != 0)),
                kv("cache.key", s(&format!("cart:{:08}", i * 31))),
            ],
            ..Default::default()
        }],
        status: Some(Status {
            code: status::StatusCode::Ok as i32,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn point_attrs(i: usize) -> Vec<KeyValue> {
    vec![
        kv("http.route", s(ROUTES[i % ROUTES.len()])),
        kv("http.request.method", s(["GET", "POST"][i % 2])),
        kv(
            "http.response.status_code",
            Value::IntValue([200, 404, 500][i % 3]),
        ),
    ]
}

fn number_points(m: usize, n: usize, double: bool) -> Vec<NumberDataPoint> {
    (0..n)
        .map(|p| NumberDataPoint {
            attributes: point_attrs(m * 7 + p),
            start_time_unix_nano: T0,
            time_unix_nano: T0 + 10_000_000_000,
            value: Some(if double {
                number_data_point::Value::AsDouble((m * 13 + p) as f64 * 0.75)
            } else {
                number_data_point::Value::AsInt((m * 1000 + p) as i64)
            }),
            ..Default::default()
        })
        .collect()
}

fn metric(m: usize) -> Metric {
    let data = match m % 3 {
        0 => metric::Data::Gauge(Gauge {
            data_points: number_points(m, 3, true),
        }),
        1 => metric::Data::Sum(Sum {
            data_points: number_points(m, 3, false),
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
            is_monotonic: true,
        }),
        _ => metric::Data::Histogram(Histogram {
            data_points: (0..2)
                .map(|p| {
                    let counts = vec![3, 10, 25, 40, 12, 5, 1, 0];
                    HistogramDataPoint {
                        attributes: point_attrs(m * 7 + p),
                        start_time_unix_nano: T0,
                        time_unix_nano: T0 + 10_000_000_000,
                        count: counts.iter().sum(),
                        sum: Some(4321.5 + m as f64),
                        bucket_counts: counts,
                        explicit_bounds: vec![5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0],
                        min: Some(0.4),
                        max: Some(812.0),
                        ..Default::default()
                    }
                })
                .collect(),
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        }),
    };
    let (name, unit) = match m % 3 {
        0 => ("process.memory.usage", "By"),
        1 => ("http.server.request.count", "{request}"),
        _ => ("http.server.request.duration", "ms"),
    };
    Metric {
        name: format!("{name}.{m}"),
        description: "a benchmark metric".into(),
        unit: unit.into(),
        data: Some(data),
        ..Default::default()
    }
}

/// The data of one request.
pub fn data(signal: Signal, items: usize) -> SignalData {
    match signal {
        Signal::Logs => SignalData::Logs(vec![ResourceLogs {
            resource: Some(resource()),
            scope_logs: vec![ScopeLogs {
                scope: Some(scope()),
                log_records: (0..items).map(log_record).collect(),
                ..Default::default()
            }],
            ..Default::default()
        }]),
        Signal::Traces => SignalData::Traces(vec![ResourceSpans {
            resource: Some(resource()),
            scope_spans: vec![ScopeSpans {
                scope: Some(scope()),
                spans: (0..items).map(span).collect(),
                ..Default::default()
            }],
            ..Default::default()
        }]),
        Signal::Metrics => {
            // 8 points per 3 metrics (3 + 3 + 2).
            let mut metrics = Vec::new();
            let mut points = 0;
            while points < items {
                let m = metric(metrics.len());
                points += weir_core::data_points(m.data.as_ref());
                metrics.push(m);
            }
            SignalData::Metrics(vec![ResourceMetrics {
                resource: Some(resource()),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(scope()),
                    metrics,
                    ..Default::default()
                }],
                ..Default::default()
            }])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_valid_and_counted() {
        for signal in Signal::ALL {
            let p = Payload::build(signal, 1000, BodyFormat::Protobuf, false);
            let summary = weir_otlp::wire::inspect(signal, &p.body).unwrap();
            assert_eq!(summary.items as u64, p.items, "{signal}");
            assert!((1000..1010).contains(&p.items), "{signal}: {}", p.items);
            let j = Payload::build(signal, 1000, BodyFormat::Json, false);
            let data = weir_otlp::json::decode(signal, &j.body).unwrap();
            assert_eq!(data.item_count() as u64, p.items);
        }
        let logs = Payload::build(Signal::Logs, 1000, BodyFormat::Protobuf, false);
        let per_record = logs.body.len() / 1000;
        assert!(
            (500..800).contains(&per_record),
            "{per_record} bytes a record"
        );
    }

    #[test]
    fn stamps_round_trip() {
        for signal in [Signal::Logs, Signal::Traces] {
            let p = Payload::build(signal, 10, BodyFormat::Protobuf, false);
            assert!(p.stamp_at.is_some(), "{signal}");
            let before = unix_nanos();
            let body = p.stamped();
            let stamp = find_stamp(&body).unwrap();
            assert!(stamp >= before && stamp <= unix_nanos());
            weir_otlp::wire::inspect(signal, &body).unwrap();
        }
    }
}
