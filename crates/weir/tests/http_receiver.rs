//! The `http` receiver on the real binary: a real HTTP client (reqwest)
//! sends each accepted form (object, array, wrapper, NDJSON, gzip) and
//! Ledger SDK requests, and the records come out of the file exporters with
//! the right fields. Refusals get their status, and the server stays up.

mod support;

use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::blocking::Client;
use serde_json::{Value, json};

use support::{Weir, attr, read_records};

const KEY: &str = "ledger_e2e-test-key";

fn pipeline(dir: &Path) -> std::path::PathBuf {
    let yaml = format!(
        r#"
receivers:
  http:
    endpoint: 127.0.0.1:0
    api_keys: ["${{env:LEDGER_API_KEY}}"]
exporters:
  file/logs: {{ path: {logs} }}
  file/traces: {{ path: {traces} }}
service:
  telemetry: {{ metrics: {{ address: 127.0.0.1:0 }} }}
  pipelines:
    logs: {{ receivers: [http], exporters: [file/logs] }}
    traces: {{ receivers: [http], exporters: [file/traces] }}
"#,
        logs = dir.join("logs.jsonl").display(),
        traces = dir.join("traces.jsonl").display(),
    );
    let p = dir.join("pipeline.yaml");
    std::fs::write(&p, yaml).unwrap();
    p
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// RFC 3339 UTC for `offset` seconds from now.
fn rfc3339(offset: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64;
    weir_ledger::Timestamp::from_unix_micros(now + offset * 1_000_000).to_string()
}

fn text(v: Option<&Value>) -> &str {
    v.and_then(|v| v["stringValue"].as_str())
        .unwrap_or_default()
}

#[test]
fn json_forms_and_ledger_requests_reach_the_files_with_their_fields() {
    let dir = tempfile::tempdir().unwrap();
    let mut weir = Weir::start(&pipeline(dir.path()), &[("LEDGER_API_KEY", KEY)]);
    let base = format!("http://{}", weir.http_addr());
    // reqwest is built without a default TLS provider: weir uses ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = Client::new();
    let post = |path: &str, ctype: &str, gz: bool, body: Vec<u8>| {
        let mut r = client
            .post(format!("{base}{path}"))
            .header("content-type", ctype)
            .bearer_auth(KEY);
        let body = if gz {
            r = r.header("content-encoding", "gzip");
            gzip(&body)
        } else {
            body
        };
        let resp = r.body(body).send().expect("request sent");
        let status = resp.status().as_u16();
        let text = resp.text().unwrap_or_default();
        (
            status,
            serde_json::from_str::<Value>(&text).unwrap_or(Value::Null),
        )
    };
    let json_ct = "application/json";
    let nd = "application/x-ndjson";

    // Generic endpoint: every form.
    let forms: [(&str, bool, String, u64); 5] = [
        (json_ct, false, r#"{"msg":"object","level":"error","user":"ada"}"#.into(), 1),
        (json_ct, false, r#"[{"msg":"array-1"},{"msg":"array-2","level":"debug"}]"#.into(), 2),
        (
            json_ct,
            false,
            r#"{"resource":{"service.name":"billing"},"logs":[{"msg":"wrapped","order":42}]}"#.into(),
            1,
        ),
        (nd, false, "{\"msg\":\"nd-1\"}\n{\"msg\":\"nd-2\",\"trace_id\":\"5b8efff798038103d269b633813fc60c\"}\n".into(), 2),
        (nd, true, "{\"msg\":\"gz-1\"}\n{\"msg\":\"gz-2\"}\n".into(), 2),
    ];
    for (ctype, gz, body, n) in forms {
        let (status, answer) = post("/v1/json", ctype, gz, body.into_bytes());
        assert_eq!(
            (status, answer["accepted"].as_u64()),
            (200, Some(n)),
            "{answer}"
        );
    }

    // Refusals, each with its status; the server keeps serving.
    let (s, a) = post("/v1/json", json_ct, false, br#"[{"msg":"x"},5]"#.to_vec());
    assert_eq!((s, a["index"].as_u64()), (400, Some(1)));
    let (s, a) = post("/v1/json", nd, false, b"{\"msg\":\"x\"}\nnope\n".to_vec());
    assert_eq!((s, a["line"].as_u64()), (400, Some(2)));
    assert_eq!(post("/v1/json", "text/csv", false, b"a,b".to_vec()).0, 415);
    let no_key = client
        .post(format!("{base}/v1/json"))
        .header("content-type", json_ct)
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(no_key.status().as_u16(), 401);

    // Ledger: a batch Ledger accepts, with every field.
    let ledger_ok = json!({ "logs": [{
        "timestamp": rfc3339(-10), "level": "error", "log_type": "exception", "importance": "high",
        "message": "Payment failed", "error_type": "GatewayError", "error_message": "timeout",
        "stack_trace": "Traceback ...", "environment": "production", "release": "v1.2.3",
        "attributes": { "user_id": "usr_1", "trace_id": "5b8efff798038103d269b633813fc60c" },
        "sdk_version": "1.4.0", "platform": "python", "platform_version": "3.12"
    }, { "timestamp": rfc3339(-5), "level": "info", "message": "ledger-plain" }]});
    let (s, a) = post(
        "/api/v1/ingest/batch",
        json_ct,
        true,
        serde_json::to_vec(&ledger_ok).unwrap(),
    );
    assert_eq!(
        (s, a["accepted"].as_u64(), a["rejected"].as_u64()),
        (202, Some(2), Some(0)),
        "{a}"
    );

    // Batches Ledger refuses: the same status and error shape.
    let good = |m: &str| json!({ "timestamp": rfc3339(-1), "level": "info", "message": m });
    let mut bad_level = good("x");
    bad_level["level"] = json!("verbose");
    let mut long = good("");
    long["message"] = json!("m".repeat(10_001));
    let many: Vec<Value> = (0..1001).map(|i| good(&i.to_string())).collect();
    for (body, field) in [
        (
            json!({ "logs": [bad_level] }),
            json!(["body", "logs", 0, "level"]),
        ),
        (
            json!({ "logs": [long] }),
            json!(["body", "logs", 0, "message"]),
        ),
        (json!({ "logs": many }), json!(["body", "logs"])),
    ] {
        let (s, a) = post(
            "/api/v1/ingest/batch",
            json_ct,
            false,
            serde_json::to_vec(&body).unwrap(),
        );
        assert_eq!(s, 422, "{a}");
        assert_eq!(a["detail"][0]["loc"], field, "{a}");
        assert!(a["detail"][0]["msg"].is_string() && a["detail"][0]["type"].is_string());
    }
    let mut no_type = good("exc");
    no_type["log_type"] = json!("exception");
    no_type["error_message"] = json!("e");
    let mut ahead = good("ahead");
    ahead["timestamp"] = json!(rfc3339(3600));
    let (s, a) = post(
        "/api/v1/ingest/batch",
        json_ct,
        false,
        serde_json::to_vec(&json!({ "logs": [no_type, ahead, good("kept")] })).unwrap(),
    );
    assert_eq!(
        (s, a["accepted"].as_u64(), a["rejected"].as_u64()),
        (202, Some(1), Some(2)),
        "{a}"
    );
    assert_eq!(
        a["errors"][0],
        "Log 0: error_type is required when log_type is 'exception'"
    );
    assert_eq!(
        a["errors"][1],
        "Log 1: Timestamp cannot be more than 5 minutes in the future"
    );

    // Spans from a Ledger SDK.
    let now_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    let spans = json!({ "spans": [{
        "trace_id": "5b8efff798038103d269b633813fc60c", "span_id": "eee19b7ec3c1b174",
        "parent_span_id": "", "name": "POST /pay", "kind": 0,
        "start_unix_nano": now_ns - 2_000_000, "end_unix_nano": now_ns, "status": 1,
        "status_message": "", "attributes": { "http.method": "POST" }, "events": [],
        "service_name": "payments"
    }]});
    let (s, a) = post(
        "/api/v1/ingest/spans/batch",
        json_ct,
        false,
        serde_json::to_vec(&spans).unwrap(),
    );
    assert_eq!((s, a), (202, json!({ "accepted": 1, "rejected": 0 })));

    weir.signal("TERM");
    assert_eq!(weir.wait(), 0, "{}", weir.stderr());

    let records = read_records(&dir.path().join("logs.jsonl"));
    let bodies: Vec<&str> = records
        .iter()
        .map(|r| r["body"]["stringValue"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        bodies,
        [
            "object",
            "array-1",
            "array-2",
            "wrapped",
            "nd-1",
            "nd-2",
            "gz-1",
            "gz-2",
            "Payment failed",
            "ledger-plain",
            "kept"
        ],
        "every accepted record once, in order; nothing from refused requests"
    );
    let by_body = |b: &str| {
        records
            .iter()
            .find(|r| r["body"]["stringValue"] == b)
            .unwrap()
    };
    assert_eq!(by_body("object")["severityNumber"], 17);
    assert_eq!(text(attr(by_body("object"), "user")), "ada");
    assert_eq!(by_body("array-2")["severityText"], "debug");
    assert_eq!(attr(by_body("wrapped"), "order").unwrap()["intValue"], "42");
    assert_eq!(
        by_body("nd-2")["traceId"],
        "5b8efff798038103d269b633813fc60c"
    );
    let exc = by_body("Payment failed");
    assert_eq!(exc["severityNumber"], 17);
    assert_eq!(text(attr(exc, "exception.type")), "GatewayError");
    assert_eq!(text(attr(exc, "exception.message")), "timeout");
    assert_eq!(text(attr(exc, "exception.stacktrace")), "Traceback ...");
    assert_eq!(text(attr(exc, "deployment.environment.name")), "production");
    assert_eq!(text(attr(exc, "service.version")), "v1.2.3");
    assert_eq!(text(attr(exc, "ledger.importance")), "high");
    assert_eq!(text(attr(exc, "ledger.sdk_version")), "1.4.0");
    assert_eq!(text(attr(exc, "user_id")), "usr_1");
    assert_eq!(exc["traceId"], "5b8efff798038103d269b633813fc60c");

    let traces = std::fs::read_to_string(dir.path().join("traces.jsonl")).unwrap();
    let req: Value = serde_json::from_str(traces.lines().next().unwrap()).unwrap();
    let span = &req["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
    assert_eq!(span["name"], "POST /pay");
    assert_eq!(span["kind"], 2, "Ledger's server 0 is OTLP SERVER 2");
    assert!(!weir.stderr().contains(KEY), "the key is never logged");
}
