//! The Ledger-compatible routes: what Ledger accepts is accepted with the
//! same counts; what it refuses gets the same status and error shape.

use serde_json::{Value as Json, json};
use weir_core::otlp::common::v1::any_value::Value;
use weir_core::otlp::trace::v1::span::SpanKind;
use weir_ledger::Timestamp;

use super::*;
use weir_otlp::civil::now_unix_nano;

const BATCH: &str = "/api/v1/ingest/batch";

/// RFC 3339 for `offset_secs` from now.
fn at(offset_secs: i64) -> String {
    let now = now_unix_nano() as i64;
    Timestamp::from_unix_nano((now + offset_secs * 1_000_000_000) as u64).to_string()
}

fn entry(message: &str) -> Json {
    json!({ "timestamp": at(-1), "level": "info", "message": message })
}

async fn post_json(s: &Server, path: &str, body: &Json) -> Reply {
    s.post(path, &[JSON], serde_json::to_vec(body).unwrap())
        .await
}

#[tokio::test]
async fn accepted_batches_answer_like_ledger_and_map_every_field() {
    let s = start("").await;
    let body = json!({ "logs": [
        {
            "timestamp": "2025-01-15T10:30:45.123Z",
            "level": "error",
            "log_type": "exception",
            "importance": "high",
            "message": "Payment processing failed",
            "error_type": "PaymentGatewayError",
            "error_message": "Gateway timeout after 30 seconds",
            "stack_trace": "Traceback (most recent call last):\n  File 'pay.py', line 45",
            "environment": "production",
            "release": "v1.2.3",
            "attributes": {
                "user_id": "usr_123", "amount": 99.99, "retries": 3,
                "trace_id": "5b8efff798038103d269b633813fc60c", "span_id": "eee19b7ec3c1b174"
            },
            "sdk_version": "1.0.0", "platform": "python", "platform_version": "3.12"
        },
        entry("second"),
    ]});
    let r = post_json(&s, BATCH, &body).await;
    assert_eq!(r.status, 202, "{:?}", r.json());
    let answer = r.json();
    assert_eq!(
        (answer["accepted"].as_u64(), answer["rejected"].as_u64()),
        (Some(2), Some(0))
    );
    assert!(answer["errors"].is_null());
    assert!(answer["message"].is_string());

    let records = s.records();
    assert_eq!(records.len(), 2);
    let r0 = &records[0];
    assert_eq!(r0.time_unix_nano, 1_736_937_045_123_000_000);
    assert_eq!(
        (r0.severity_number, r0.severity_text.as_str()),
        (17, "error")
    );
    assert_eq!(str_of(r0.body.as_ref()), "Payment processing failed");
    let a = &r0.attributes;
    let s_ = |v: &str| Some(Value::StringValue(v.into()));
    assert_eq!(
        attr(a, "exception.type").cloned(),
        s_("PaymentGatewayError")
    );
    assert_eq!(
        attr(a, "exception.message").cloned(),
        s_("Gateway timeout after 30 seconds")
    );
    assert!(attr(a, "exception.stacktrace").is_some());
    assert_eq!(
        attr(a, "deployment.environment.name").cloned(),
        s_("production")
    );
    assert_eq!(attr(a, "service.version").cloned(), s_("v1.2.3"));
    // `exception` follows from `exception.type`: no `ledger.log_type` needed.
    assert!(attr(a, "ledger.log_type").is_none());
    assert_eq!(attr(a, "ledger.importance").cloned(), s_("high"));
    assert_eq!(attr(a, "ledger.platform").cloned(), s_("python"));
    assert_eq!(attr(a, "user_id").cloned(), s_("usr_123"));
    assert_eq!(attr(a, "amount").cloned(), Some(Value::DoubleValue(99.99)));
    assert_eq!(attr(a, "retries").cloned(), Some(Value::IntValue(3)));
    assert_eq!(r0.trace_id.len(), 16, "trace_id moved to the record");
    assert_eq!(r0.span_id.len(), 8);
    assert!(attr(a, "trace_id").is_none());
    s.stop().await.unwrap();
}

#[tokio::test]
async fn schema_errors_get_fastapi_422_and_nothing_is_sent() {
    // 1001 logs need more than the 64 KiB of the other tests.
    let yaml = "endpoint: '127.0.0.1:0'\nmax_request_bytes: 1MiB\n";
    let s = start_with(yaml, None, &[Signal::Logs]).await;
    // A bad level.
    let mut bad = entry("x");
    bad["level"] = json!("fatal");
    let r = post_json(&s, BATCH, &json!({ "logs": [entry("ok"), bad] })).await;
    assert_eq!(r.status, 422);
    let d = &r.json()["detail"][0];
    assert_eq!(d["type"], "literal_error");
    assert_eq!(d["loc"], json!(["body", "logs", 1, "level"]));
    assert_eq!(
        d["msg"],
        "Input should be 'debug', 'info', 'warning', 'error' or 'critical'"
    );
    // 1001 logs.
    let many: Vec<Json> = (0..1001).map(|i| entry(&format!("m{i}"))).collect();
    let r = post_json(&s, BATCH, &json!({ "logs": many })).await;
    assert_eq!(r.status, 422);
    let d = &r.json()["detail"][0];
    assert_eq!(
        (d["type"].as_str(), d["loc"].clone()),
        (Some("too_long"), json!(["body", "logs"]))
    );
    assert_eq!(
        d["msg"],
        "List should have at most 1000 items after validation, not 1001"
    );
    // Zero logs.
    let r = post_json(&s, BATCH, &json!({ "logs": [] })).await;
    assert_eq!(
        (r.status, r.json()["detail"][0]["type"].as_str()),
        (422, Some("too_short"))
    );
    // An over-long message (10,001 characters, not bytes).
    let mut long = entry("");
    long["message"] = json!("é".repeat(10_001));
    let r = post_json(&s, BATCH, &json!({ "logs": [long] })).await;
    assert_eq!(r.status, 422);
    let d = &r.json()["detail"][0];
    assert_eq!(d["type"], "string_too_long");
    assert_eq!(d["loc"], json!(["body", "logs", 0, "message"]));
    assert_eq!(d["msg"], "String should have at most 10000 characters");
    // Exactly 10,000 is fine.
    let mut edge = entry("");
    edge["message"] = json!("é".repeat(10_000));
    assert_eq!(
        post_json(&s, BATCH, &json!({ "logs": [edge] }))
            .await
            .status,
        202
    );
    // Not JSON.
    let r = s.post(BATCH, &[JSON], "{\"logs\": [").await;
    assert_eq!(
        (r.status, r.json()["detail"][0]["type"].as_str()),
        (422, Some("json_invalid"))
    );
    assert_eq!(s.records().len(), 1, "only the good batch went on");
    s.stop().await.unwrap();
}

#[tokio::test]
async fn per_log_checks_reject_inside_a_202() {
    let s = start("").await;
    let mut no_type = entry("boom");
    no_type["log_type"] = json!("exception");
    no_type["error_message"] = json!("it broke");
    let mut ahead = entry("from the future");
    ahead["timestamp"] = json!(at(3600));
    let mut endpoint = entry("GET /x");
    endpoint["log_type"] = json!("endpoint");
    endpoint["attributes"] = json!({ "endpoint": { "method": "GET", "status_code": 200 } });
    let body = json!({ "logs": [entry("fine"), no_type, ahead, endpoint, entry("also fine")] });
    let r = post_json(&s, BATCH, &body).await;
    assert_eq!(r.status, 202);
    let a = r.json();
    assert_eq!(
        (a["accepted"].as_u64(), a["rejected"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(
        a["errors"],
        json!([
            "Log 1: error_type is required when log_type is 'exception'",
            "Log 2: Timestamp cannot be more than 5 minutes in the future",
            "Log 3: attributes.endpoint missing required fields: path, duration_ms",
        ])
    );
    let bodies: Vec<String> = s
        .records()
        .iter()
        .map(|r| str_of(r.body.as_ref()).to_string())
        .collect();
    assert_eq!(bodies, ["fine", "also fine"]);
    assert_eq!(
        s.refused(Signal::Logs, weir_core::telemetry::reasons::INVALID),
        3
    );
    s.stop().await.unwrap();
}

#[tokio::test]
async fn single_spans_and_settings_routes() {
    let s = start("ledger: { settings: { rate_limits: { requests_per_minute: 6000 } } }\n").await;
    let r = post_json(&s, "/api/v1/ingest/single", &entry("alone")).await;
    assert_eq!((r.status, r.json()["accepted"].as_u64()), (202, Some(1)));
    assert_eq!(s.records().len(), 1);

    let span = |kind: i64, id: &str| {
        let now = now_unix_nano() as i64;
        json!({
            "trace_id": "5b8efff798038103d269b633813fc60c", "span_id": id,
            "parent_span_id": "", "name": "GET /users", "kind": kind,
            "start_unix_nano": now - 5_000_000, "end_unix_nano": now, "status": 2,
            "status_message": "boom", "attributes": { "http.method": "GET" },
            "events": [], "service_name": "users-api"
        })
    };
    let body = json!({ "spans": [span(0, "eee19b7ec3c1b174"), span(1, "eee19b7ec3c1b175"), span(0, "not-hex")] });
    let r = post_json(&s, "/api/v1/ingest/spans/batch", &body).await;
    assert_eq!(r.status, 202);
    assert_eq!(r.json(), json!({ "accepted": 2, "rejected": 1 }));
    let batches = s.batches();
    let SignalData::Traces(traces) = batches[0].data().unwrap() else {
        panic!("traces")
    };
    let spans = &traces[0].scope_spans[0].spans;
    assert_eq!(spans.len(), 2);
    // Ledger's server 0 and client 1 are OTLP's SERVER 2 and CLIENT 3.
    assert_eq!(spans[0].kind, SpanKind::Server as i32);
    assert_eq!(spans[1].kind, SpanKind::Client as i32);
    assert_eq!(
        attr(
            &traces[0].resource.as_ref().unwrap().attributes,
            "service.name"
        ),
        Some(&Value::StringValue("users-api".into()))
    );

    let get = crate::test_support::req("GET", s.addr, "/api/v1/settings", &[], Bytes::new());
    let r = crate::test_support::send(&mut crate::test_support::connect(s.addr).await, get).await;
    assert_eq!(r.status, 200);
    let settings = r.json();
    assert_eq!(settings["rate_limits"]["requests_per_minute"], 6000);
    assert_eq!(
        settings["rate_limits"]["requests_per_hour"], 50000,
        "the rest keeps Ledger's defaults"
    );
    assert_eq!(settings["constraints"]["max_batch_size"], 1000);
    s.stop().await.unwrap();
}

#[tokio::test]
async fn keys_gzip_and_unknown_routes_answer_like_ledger() {
    let s = start("api_keys: ['ledger_abc']\n").await;
    let body = serde_json::to_vec(&json!({ "logs": [entry("k")] })).unwrap();
    let r = s.post(BATCH, &[JSON], body.clone()).await;
    assert_eq!(
        (r.status, r.header("www-authenticate")),
        (401, Some("Bearer"))
    );
    assert!(r.json()["detail"].is_string());
    let r = s
        .post(BATCH, &[JSON, ("x-api-key", "ledger_abc")], body.clone())
        .await;
    assert_eq!(r.status, 202);
    let r = s
        .post(
            BATCH,
            &[
                JSON,
                ("authorization", "Bearer ledger_abc"),
                ("content-encoding", "gzip"),
            ],
            gzip(&body),
        )
        .await;
    assert_eq!(r.status, 202);
    let r = s
        .post(
            BATCH,
            &[
                JSON,
                ("authorization", "Bearer ledger_abc"),
                ("content-encoding", "gzip"),
            ],
            body.clone(),
        )
        .await;
    assert_eq!(r.status, 400, "bad gzip is 400, as at Ledger");
    assert!(r.json()["detail"].is_string());
    let r = s.post("/api/v1/nothing", &[JSON], "{}").await;
    assert_eq!(
        (r.status, r.json()),
        (404, json!({ "detail": "Not Found" }))
    );
    let r = s.post("/api/v1/settings", &[JSON], "{}").await;
    assert_eq!((r.status, r.header("allow")), (405, Some("GET")));
    assert_eq!(s.records().len(), 2);
    s.stop().await.unwrap();
}

#[tokio::test]
async fn the_advertised_request_limits_are_kept_with_429_and_rate_headers() {
    let s = start(
        "api_keys: ['k1', 'k2']\nledger: { settings: { rate_limits: { requests_per_minute: 2 } } }\n",
    )
    .await;
    let body = serde_json::to_vec(&json!({ "logs": [entry("x")] })).unwrap();
    let send = |key: &'static str| {
        let body = body.clone();
        let s = &s;
        async move { s.post(BATCH, &[JSON, ("x-api-key", key)], body).await }
    };
    let first = send("k1").await;
    assert_eq!(first.status, 202);
    assert_eq!(first.header("x-ratelimit-limit-minute"), Some("2"));
    assert_eq!(first.header("x-ratelimit-remaining-minute"), Some("1"));
    assert_eq!(first.header("x-ratelimit-limit-hour"), Some("50000"));
    assert_eq!(send("k1").await.status, 202);
    let third = send("k1").await;
    assert_eq!(third.status, 429);
    assert_eq!(third.header("retry-after"), Some("60"));
    assert_eq!(third.header("x-ratelimit-remaining-minute"), Some("0"));
    assert_eq!(
        third.json()["detail"],
        "Rate limit exceeded: 2 requests per minute"
    );
    assert_eq!(send("k2").await.status, 202, "limits are per key");
    assert_eq!(s.records().len(), 3, "the refused request sent nothing");
    s.stop().await.unwrap();
}
