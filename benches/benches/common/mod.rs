//! Test data shared by the criterion benches: OTLP requests shaped like real
//! application telemetry (DESIGN.md §3 measured with the same shape), built
//! deterministically so runs compare.
//!
//! - Logs: 1000 records per request, each with 10 attributes of mixed types
//!   (strings, ints, a double, a bool, a string array), a ~300-byte string body,
//!   trace context and severity; one resource with 6 attributes, one scope.
//! - Spans: 1000 per request, each with 8 attributes, a status and ids.
//! - Log lines: a 1 KB text line and a ~600-byte structured JSON line.
//!
//! Values vary per record from a seeded generator, and ids are random bytes, so
//! the data compresses like real telemetry rather than repeated bytes (gzip-1
//! 3.4x, zstd-1 4.1x on the logs request: if anything harder than typical logs).

// Each bench uses part of this module.
#![allow(dead_code)]

use prost::Message;
use weir_core::otlp::collector::logs::v1::ExportLogsServiceRequest;
use weir_core::otlp::collector::trace::v1::ExportTraceServiceRequest;
use weir_core::otlp::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, any_value::Value,
};
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_core::otlp::resource::v1::Resource;
use weir_core::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span, status};

/// Records (or spans) per request, as an SDK batch processor sends them.
pub const RECORDS: usize = 1000;

const BASE_TIME_NANOS: u64 = 1_714_560_000_000_000_000;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }

    fn hex(&mut self, n: usize) -> String {
        self.bytes(n).iter().map(|b| format!("{b:02x}")).collect()
    }
}

const WORDS: &[&str] = &[
    "request",
    "completed",
    "user",
    "order",
    "payment",
    "inventory",
    "cache",
    "upstream",
    "latency",
    "retrying",
    "connection",
    "pool",
    "timeout",
    "checkout",
    "session",
    "validated",
    "queued",
    "shipment",
    "warehouse",
    "token",
    "refreshed",
    "database",
    "query",
    "rows",
    "returned",
    "after",
    "with",
    "for",
    "the",
    "from",
];
const ROUTES: &[&str] = &[
    "/api/v1/orders/{id}",
    "/api/v1/cart",
    "/api/v1/checkout",
    "/api/v1/users/{id}/profile",
    "/healthz",
    "/api/v2/inventory/{sku}",
];
const METHODS: &[&str] = &["GET", "GET", "GET", "POST", "PUT", "DELETE"];
const THREADS: &[&str] = &[
    "http-worker-1",
    "http-worker-2",
    "http-worker-3",
    "scheduler",
];
const REGIONS: &[&str] = &["eu-west-1", "us-east-1", "ap-south-1"];

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn s(v: impl Into<String>) -> Value {
    Value::StringValue(v.into())
}

fn resource(service: &str) -> Resource {
    Resource {
        attributes: vec![
            kv("service.name", s(service)),
            kv("service.version", s("2.14.1")),
            kv(
                "service.instance.id",
                s("7f3c9a2e-5b1d-4c8e-9f0a-1d2e3f4a5b6c"),
            ),
            kv("host.name", s("ip-10-0-12-34.eu-west-1.compute.internal")),
            kv("k8s.pod.name", s(format!("{service}-6d8f7b9c5-x2k4p"))),
            kv("k8s.namespace.name", s("shop")),
        ],
        ..Default::default()
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: "com.example.shop.checkout".to_owned(),
        version: "1.4.2".to_owned(),
        ..Default::default()
    }
}

/// A body of about `len` bytes: a request summary, then words.
fn body(rng: &mut Rng, len: usize) -> String {
    let mut b = format!(
        "{} {} completed in {} ms for user u-{:06}:",
        rng.pick(METHODS),
        rng.pick(ROUTES),
        rng.below(2000),
        rng.below(1_000_000)
    );
    while b.len() < len {
        b.push(' ');
        b.push_str(rng.pick(WORDS));
        if rng.below(6) == 0 {
            b.push_str(&format!(" {}", rng.below(100_000)));
        }
    }
    b.truncate(len);
    b
}

fn log_record(rng: &mut Rng, i: usize) -> LogRecord {
    let (severity_number, severity_text) = match rng.below(10) {
        0 => (17, "ERROR"),
        1 | 2 => (13, "WARN"),
        _ => (9, "INFO"),
    };
    let time = BASE_TIME_NANOS + i as u64 * 1_000_000 + rng.below(1_000_000);
    LogRecord {
        time_unix_nano: time,
        observed_time_unix_nano: time + 150_000,
        severity_number,
        severity_text: severity_text.to_owned(),
        body: Some(AnyValue {
            value: Some(s(body(rng, 300))),
        }),
        attributes: vec![
            kv("http.request.method", s(rng.pick(METHODS))),
            kv("http.route", s(rng.pick(ROUTES))),
            kv(
                "http.response.status_code",
                Value::IntValue([200, 200, 200, 201, 404, 500][rng.below(6) as usize]),
            ),
            kv(
                "http.response.body.size",
                Value::IntValue(rng.below(64 * 1024) as i64),
            ),
            kv(
                "duration_ms",
                Value::DoubleValue(rng.below(500_000) as f64 / 100.0),
            ),
            kv("user.id", s(format!("u-{:06}", rng.below(1_000_000)))),
            kv("cache.hit", Value::BoolValue(rng.below(2) == 0)),
            kv("thread.name", s(rng.pick(THREADS))),
            kv("cloud.region", s(rng.pick(REGIONS))),
            kv(
                "feature_flags",
                Value::ArrayValue(ArrayValue {
                    values: vec![
                        AnyValue {
                            value: Some(s("new-checkout")),
                        },
                        AnyValue {
                            value: Some(s(format!("exp-{}", rng.below(8)))),
                        },
                    ],
                }),
            ),
        ],
        trace_id: rng.bytes(16),
        span_id: rng.bytes(8),
        flags: 1,
        ..Default::default()
    }
}

/// An OTLP logs export request of `n` records.
pub fn logs_request(n: usize) -> ExportLogsServiceRequest {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(resource("checkout")),
            scope_logs: vec![ScopeLogs {
                scope: Some(scope()),
                log_records: (0..n).map(|i| log_record(&mut rng, i)).collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn span(rng: &mut Rng, i: usize) -> Span {
    let start = BASE_TIME_NANOS + i as u64 * 1_000_000;
    let failed = rng.below(20) == 0;
    Span {
        trace_id: rng.bytes(16),
        span_id: rng.bytes(8),
        parent_span_id: rng.bytes(8),
        name: format!("{} {}", rng.pick(METHODS), rng.pick(ROUTES)),
        kind: span::SpanKind::Server as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: start + rng.below(200_000_000),
        attributes: vec![
            kv("http.request.method", s(rng.pick(METHODS))),
            kv("http.route", s(rng.pick(ROUTES))),
            kv(
                "http.response.status_code",
                Value::IntValue(if failed { 500 } else { 200 }),
            ),
            kv("url.scheme", s("https")),
            kv("server.address", s("checkout.shop.svc.cluster.local")),
            kv("server.port", Value::IntValue(8443)),
            kv("user_agent.original", s("okhttp/4.12.0")),
            kv("retry", Value::BoolValue(rng.below(10) == 0)),
        ],
        status: Some(Status {
            code: if failed {
                status::StatusCode::Error as i32
            } else {
                status::StatusCode::Ok as i32
            },
            message: if failed {
                "upstream timed out".to_owned()
            } else {
                String::new()
            },
        }),
        flags: 0x100,
        ..Default::default()
    }
}

/// An OTLP traces export request of `n` spans.
pub fn traces_request(n: usize) -> ExportTraceServiceRequest {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource("checkout")),
            scope_spans: vec![ScopeSpans {
                scope: Some(scope()),
                spans: (0..n).map(|i| span(&mut rng, i)).collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// `msg` encoded as protobuf bytes.
pub fn encode(msg: &impl Message) -> bytes::Bytes {
    msg.encode_to_vec().into()
}

/// A plain-text log line of exactly 1024 bytes (no newline).
pub fn text_line_1k() -> Vec<u8> {
    let mut rng = Rng(0xA076_1D64_78BD_642F);
    let mut line = format!(
        "2024-05-01T12:00:00.123456Z INFO [{}] trace_id={} ",
        rng.pick(THREADS),
        rng.hex(16)
    );
    line.push_str(&body(&mut rng, 1024 - line.len()));
    assert_eq!(line.len(), 1024);
    line.into_bytes()
}

/// A structured JSON log line (~600 bytes): timestamp, level, message, ids, and
/// further fields of every JSON type, one nested object among them.
pub fn json_line() -> Vec<u8> {
    let mut rng = Rng(0xE703_7ED1_A0B4_28DB);
    format!(
        concat!(
            r#"{{"timestamp":"2024-05-01T12:00:00.123456Z","level":"info","msg":"{}","#,
            r#""trace_id":"{}","span_id":"{}","user_id":"u-{:06}","#,
            r#""http":{{"method":"{}","route":"{}","status":{}}},"#,
            r#""duration_ms":{}.{:02},"cache_hit":{},"attempt":{},"region":"{}"}}"#
        ),
        body(&mut rng, 300),
        rng.hex(16),
        rng.hex(8),
        rng.below(1_000_000),
        rng.pick(METHODS),
        rng.pick(ROUTES),
        200,
        rng.below(5000),
        rng.below(100),
        rng.below(2) == 0,
        rng.below(3),
        rng.pick(REGIONS),
    )
    .into_bytes()
}
