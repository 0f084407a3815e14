//! OTLP/JSON round trip on the real binary: fixtures written from the OTLP
//! specification (every AnyValue type, every metric type with exemplars, span
//! events, links and status, resource and scope attributes, ids, flags, dropped
//! counts) are POSTed to the `otlp` receiver, and the `file` exporter (one per
//! signal, `format: json`) must write back exactly the fixture.
//!
//! The fixtures (`fixtures/otlp/*.json`) are in the canonical form the spec asks
//! encoders to emit: lowerCamelCase, enums as integers, 64-bit integers as
//! strings, default values left out. Each is also sent gzip-compressed, and as a
//! lenient variant derived from it (snake_case keys, enum names, 64-bit integers
//! as JSON numbers, unknown fields): all three must come out as the fixture.

mod otlp_support;
mod support;

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Map, Value, json};

use otlp_support::{http_client, json_diff, runtime, wait_exit, write_pipeline};
use support::{Weir, metric, wait_metrics};

const LOGS: &str = include_str!("fixtures/otlp/logs.json");
const TRACES: &str = include_str!("fixtures/otlp/traces.json");
const METRICS: &str = include_str!("fixtures/otlp/metrics.json");

/// (signal, URL path, fixture, items in the fixture: records, spans, data points)
const SIGNALS: [(&str, &str, &str, usize); 3] = [
    ("logs", "/v1/logs", LOGS, 6),
    ("traces", "/v1/traces", TRACES, 5),
    ("metrics", "/v1/metrics", METRICS, 9),
];

/// JSON keys whose values are 64-bit integers (strings in the canonical form).
const INT64_KEYS: [&str; 8] = [
    "timeUnixNano",
    "observedTimeUnixNano",
    "startTimeUnixNano",
    "endTimeUnixNano",
    "intValue",
    "asInt",
    "count",
    "zeroCount",
];

/// Lists whose elements are messages that may carry unknown fields in the
/// lenient variant.
const MESSAGE_LISTS: [&str; 15] = [
    "resourceLogs",
    "resourceSpans",
    "resourceMetrics",
    "scopeLogs",
    "scopeSpans",
    "scopeMetrics",
    "logRecords",
    "spans",
    "events",
    "links",
    "metrics",
    "dataPoints",
    "exemplars",
    "quantileValues",
    "entityRefs",
];

fn snake(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn enum_name(key: &str, n: i64) -> Option<String> {
    let name = match key {
        "severityNumber" => {
            const LEVELS: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
            let level = LEVELS[((n - 1) / 4) as usize];
            let step = (n - 1) % 4 + 1;
            let suffix = if step == 1 {
                String::new()
            } else {
                step.to_string()
            };
            format!("SEVERITY_NUMBER_{level}{suffix}")
        }
        "kind" => format!(
            "SPAN_KIND_{}",
            [
                "UNSPECIFIED",
                "INTERNAL",
                "SERVER",
                "CLIENT",
                "PRODUCER",
                "CONSUMER"
            ][n as usize]
        ),
        "code" => format!("STATUS_CODE_{}", ["UNSET", "OK", "ERROR"][n as usize]),
        "aggregationTemporality" => format!(
            "AGGREGATION_TEMPORALITY_{}",
            ["UNSPECIFIED", "DELTA", "CUMULATIVE"][n as usize]
        ),
        _ => return None,
    };
    Some(name)
}

/// The lenient variant of a canonical OTLP/JSON value: snake_case keys, enums
/// by name, 64-bit integers as JSON numbers, unknown fields in every message.
fn lenient(v: &Value, in_list: Option<&str>) -> Value {
    match v {
        Value::Object(obj) => {
            let mut out = Map::new();
            for (k, val) in obj {
                let new = match (k.as_str(), val) {
                    (k, Value::String(s)) if INT64_KEYS.contains(&k) => {
                        let n: i128 = s.parse().expect("int64 string");
                        serde_json::from_str(&n.to_string()).unwrap()
                    }
                    ("bucketCounts", Value::Array(a)) => Value::Array(
                        a.iter()
                            .map(|s| {
                                let n: u64 = s.as_str().unwrap().parse().unwrap();
                                json!(n)
                            })
                            .collect(),
                    ),
                    (k, Value::Number(n)) => match enum_name(k, n.as_i64().unwrap_or(-1)) {
                        Some(name) => Value::String(name),
                        None => val.clone(),
                    },
                    (k, Value::Array(a)) if MESSAGE_LISTS.contains(&k) => {
                        Value::Array(a.iter().map(|item| lenient(item, Some(k))).collect())
                    }
                    _ => lenient(val, None),
                };
                out.insert(snake(k), new);
            }
            if in_list.is_some() {
                out.insert(
                    "someFutureField".into(),
                    json!({"nested": [1, "two", {"three": 3}]}),
                );
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| lenient(x, None)).collect()),
        other => other.clone(),
    }
}

fn root_lenient(fixture: &Value) -> Value {
    let mut v = lenient(fixture, None);
    v.as_object_mut()
        .unwrap()
        .insert("unknown_top_level".into(), json!(true));
    v
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(body).unwrap();
    enc.finish().unwrap()
}

#[test]
fn lenient_variant_differs_from_the_canonical_form_where_it_should() {
    // Guards the transform itself: a no-op would make the round trip vacuous.
    let logs: Value = serde_json::from_str(LOGS).unwrap();
    let text = root_lenient(&logs).to_string();
    for expected in [
        "\"resource_logs\"",
        "\"time_unix_nano\":1700000000123456789",
        "\"observed_time_unix_nano\":18446744073709551615",
        "\"severity_number\":\"SEVERITY_NUMBER_ERROR\"",
        "\"severity_number\":\"SEVERITY_NUMBER_INFO\"",
        "\"severity_number\":\"SEVERITY_NUMBER_FATAL4\"",
        "\"int_value\":-9223372036854775808",
        "\"kvlist_value\"",
        "\"trace_id\"",
        "\"dropped_attributes_count\"",
        "\"someFutureField\"",
    ] {
        assert!(text.contains(expected), "{expected} not in {text}");
    }
    let traces: Value = serde_json::from_str(TRACES).unwrap();
    let text = root_lenient(&traces).to_string();
    for expected in [
        "\"kind\":\"SPAN_KIND_SERVER\"",
        "\"kind\":\"SPAN_KIND_CONSUMER\"",
        "\"code\":\"STATUS_CODE_ERROR\"",
        "\"parent_span_id\"",
        "\"dropped_links_count\"",
    ] {
        assert!(text.contains(expected), "{expected} not in {text}");
    }
    let metrics: Value = serde_json::from_str(METRICS).unwrap();
    let text = root_lenient(&metrics).to_string();
    for expected in [
        "\"aggregation_temporality\":\"AGGREGATION_TEMPORALITY_CUMULATIVE\"",
        "\"bucket_counts\":[1,2,0,7]",
        "\"exponential_histogram\"",
        "\"zero_count\":1",
        "\"count\":18446744073709551615",
        "\"as_int\":9223372036854775807",
    ] {
        assert!(text.contains(expected), "{expected} not in {text}");
    }
}

#[test]
fn the_comparison_sees_a_one_field_change() {
    let want: Value = serde_json::from_str(METRICS).unwrap();
    let mut got = want.clone();
    assert_eq!(json_diff(&want, &got, "metrics"), None);
    got["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][3]["histogram"]["dataPoints"][1]
        .as_object_mut()
        .unwrap()
        .remove("min");
    let d = json_diff(&want, &got, "metrics").expect("a difference");
    assert!(d.contains("dataPoints[1].min: missing"), "{d}");
}

#[test]
fn otlp_json_requests_round_trip_through_the_file_exporter() {
    let dir = tempfile::tempdir().unwrap();
    let out = |s: &str| dir.path().join(format!("{s}.jsonl"));
    let yaml = format!(
        r#"
receivers:
  otlp:
    protocols: {{ http: {{ endpoint: 127.0.0.1:0 }} }}
exporters:
  file/logs: {{ path: {logs}, format: json }}
  file/traces: {{ path: {traces}, format: json }}
  file/metrics: {{ path: {metrics}, format: json }}
service:
  shutdown_timeout: 10s
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
    let pipeline = write_pipeline(dir.path(), "pipeline.yaml", &yaml);
    let mut weir = Weir::start(&pipeline, &[]);
    let (grpc, http) = weir.otlp_addrs();
    assert_eq!(grpc, "off");
    let metrics_addr = weir.metrics_addr();

    let rt = runtime();
    let client = http_client();
    for (signal, path, fixture, _) in SIGNALS {
        let canonical: Value = serde_json::from_str(fixture).unwrap();
        let compact = canonical.to_string().into_bytes();
        let lenient = root_lenient(&canonical).to_string().into_bytes();
        let variants: [(&str, Vec<u8>, Option<&str>); 3] = [
            ("canonical", compact.clone(), None),
            ("canonical, gzip", gzip(&compact), Some("gzip")),
            ("lenient", lenient, None),
        ];
        for (variant, body, encoding) in variants {
            let mut req = client
                .post(format!("http://{http}{path}"))
                .header("content-type", "application/json")
                .body(body);
            if let Some(e) = encoding {
                req = req.header("content-encoding", e);
            }
            let (status, content_type, answer) = rt.block_on(async {
                let resp = req.send().await.expect("POST");
                let ct = resp
                    .headers()
                    .get("content-type")
                    .map(|v| v.to_str().unwrap().to_string());
                (resp.status().as_u16(), ct, resp.bytes().await.unwrap())
            });
            let answer_text = String::from_utf8_lossy(&answer);
            assert_eq!(status, 200, "{signal} ({variant}): {answer_text}");
            assert_eq!(
                content_type.as_deref(),
                Some("application/json"),
                "{signal} ({variant})"
            );
            let answer: Value = serde_json::from_slice(&answer).unwrap_or_else(|e| {
                panic!("{signal} ({variant}): answer not JSON ({e}): {answer_text}")
            });
            let obj = answer.as_object().expect("the answer is a JSON object");
            // Full success: no partialSuccess, or one that rejected nothing.
            if let Some(p) = obj.get("partialSuccess") {
                let rejected = p
                    .as_object()
                    .unwrap()
                    .iter()
                    .filter(|(k, _)| k.starts_with("rejected"))
                    .map(|(_, v)| {
                        v.as_str()
                            .map_or_else(|| v.as_i64().unwrap(), |s| s.parse().unwrap())
                    })
                    .sum::<i64>();
                assert_eq!(rejected, 0, "{signal} ({variant}): {answer}");
            }
        }
    }

    // Each of the three requests per signal was accepted whole.
    wait_metrics(&metrics_addr, |m| {
        SIGNALS.iter().all(|(signal, _, _, items)| {
            metric(
                m,
                "weir_receiver_accepted_items_total",
                &[("signal", signal)],
            ) == (3 * items) as f64
        })
    });
    weir.signal("TERM");
    let code = wait_exit(&mut weir);
    assert_eq!(code, 0, "{}", weir.stderr());

    for (signal, _, fixture, _) in SIGNALS {
        let want: Value = serde_json::from_str(fixture).unwrap();
        let text = std::fs::read_to_string(out(signal)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines.len(),
            3,
            "{signal}: one line per request (canonical, gzip, lenient):\n{text}"
        );
        for (line, variant) in lines.iter().zip(["canonical", "gzip", "lenient"]) {
            let got: Value = serde_json::from_str(line).expect("a JSON line");
            if let Some(d) = json_diff(&want, &got, signal) {
                panic!("{signal} ({variant}) did not round-trip: {d}\nwrote: {line}");
            }
        }
    }
}
