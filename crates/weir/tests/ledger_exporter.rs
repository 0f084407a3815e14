//! The `ledger` exporter on the real binary against the stand-in Ledger:
//! an app logging through the OpenTelemetry SDK → weir (the shipped
//! `pipelines/otlp-to-ledger.yaml`) → Ledger, every record once and valid;
//! a refused key stops sending and shows in `/readyz` until it works; a
//! 30-second 503 outage loses nothing and keeps the order.

mod otlp_support;
mod support;

use std::time::{Duration, Instant};

use opentelemetry::KeyValue;
use opentelemetry::logs::{
    AnyValue as LogValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity,
};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use serde_json::Value;
use weir_ledger_standin::{DEFAULT_API_KEY, Standin, StandinConfig};

use otlp_support::{runtime, write_pipeline};
use support::{Weir, http_get, workspace};

/// Emits `n` logs through the OpenTelemetry SDK over gRPC to `grpc`,
/// numbered from `first`, and flushes them.
fn emit_logs(grpc: &str, rt: &tokio::runtime::Runtime, first: usize, n: usize) {
    let _guard = rt.enter();
    let exporter = opentelemetry_otlp::LogExporter::builder()
        .with_tonic()
        .with_endpoint(format!("http://{grpc}"))
        .build()
        .unwrap();
    let provider = opentelemetry_sdk::logs::SdkLoggerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_attributes([
                    KeyValue::new("service.name", "checkout"),
                    KeyValue::new("service.version", "v4.2.0"),
                    KeyValue::new("deployment.environment.name", "staging"),
                    KeyValue::new("host.name", "web-1"),
                ])
                .build(),
        )
        .build();
    let logger = provider.logger("ledger-e2e");
    let severities = [
        Severity::Debug,
        Severity::Info,
        Severity::Warn,
        Severity::Error,
        Severity::Fatal,
    ];
    for i in first..first + n {
        let mut r = logger.create_log_record();
        r.set_body(LogValue::from(format!("log {i}")));
        r.set_severity_number(severities[i % 5]);
        r.add_attribute("i", i as i64);
        r.add_attribute("user", "ada");
        if i % 7 == 0 {
            r.add_attribute("exception.type", "PaymentError");
            r.add_attribute("exception.message", format!("card {i} declined"));
            r.add_attribute(
                "exception.stacktrace",
                "Traceback (most recent call last): ...",
            );
        }
        r.set_trace_context(
            opentelemetry::trace::TraceId::from_bytes([0x11; 16]),
            opentelemetry::trace::SpanId::from_bytes([0x22; 8]),
            None,
        );
        logger.emit(r);
    }
    provider.shutdown().unwrap();
}

fn start_weir(pipeline: &std::path::Path, standin: &Standin) -> Weir {
    Weir::start(
        pipeline,
        &[
            ("LEDGER_ENDPOINT", &standin.base_url()),
            ("LEDGER_API_KEY", DEFAULT_API_KEY),
            ("WEIR_OTLP_GRPC_ENDPOINT", "127.0.0.1:0"),
            ("WEIR_OTLP_HTTP_ENDPOINT", "127.0.0.1:0"),
            ("WEIR_METRICS_ADDRESS", "127.0.0.1:0"),
        ],
    )
}

fn wait_for(standin: &Standin, n: usize, within: Duration, weir: &Weir) {
    let deadline = Instant::now() + within;
    while standin.stats().accepted_logs < n as u64 {
        assert!(
            Instant::now() < deadline,
            "{} of {n} arrived\n{}",
            standin.stats().accepted_logs,
            weir.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn messages(standin: &Standin) -> Vec<String> {
    standin
        .entries()
        .into_iter()
        .map(|r| r.entry.message.unwrap_or_default())
        .collect()
}

#[test]
fn sdk_logs_reach_ledger_once_valid_and_mapped_per_the_contract() {
    let rt = runtime();
    let standin = rt
        .block_on(Standin::start(StandinConfig::default()))
        .unwrap();
    let mut weir = start_weir(&workspace().join("pipelines/otlp-to-ledger.yaml"), &standin);
    let (grpc, _) = weir.otlp_addrs();
    emit_logs(&grpc, &rt, 0, 300);
    wait_for(&standin, 300, Duration::from_secs(30), &weir);
    std::thread::sleep(Duration::from_millis(300));

    let stats = standin.stats();
    assert_eq!(stats.accepted_logs, 300, "each once");
    assert_eq!(
        (stats.rejected_logs, stats.status(422), stats.status(400)),
        (0, 0, 0),
        "all valid"
    );
    let mut got = messages(&standin);
    got.sort();
    let mut want: Vec<String> = (0..300).map(|i| format!("log {i}")).collect();
    want.sort();
    assert_eq!(got, want);
    assert!(
        stats.gzip_requests > 0 && stats.requests <= 3,
        "batched: {stats:?}"
    );

    for r in standin.entries() {
        let e = r.entry;
        let i: usize = e.message.as_deref().unwrap()[4..].parse().unwrap();
        let level = ["debug", "info", "warning", "error", "critical"][i % 5];
        assert_eq!(e.level.as_str(), level, "log {i}");
        assert_eq!(e.environment.as_deref(), Some("staging"));
        assert_eq!(e.release.as_deref(), Some("v4.2.0"));
        let a = e.attributes.as_ref().unwrap();
        assert_eq!(a["service.name"], "checkout");
        assert_eq!(a["host.name"], "web-1");
        assert_eq!(a["user"], "ada");
        assert_eq!(a["i"], Value::from(i as i64));
        assert_eq!(a["trace_id"], "11".repeat(16));
        assert_eq!(a["span_id"], "22".repeat(8));
        if i % 7 == 0 {
            assert_eq!(serde_json::to_value(e.log_type).unwrap(), "exception");
            assert_eq!(e.error_type.as_deref(), Some("PaymentError"));
            assert_eq!(
                e.error_message.as_deref(),
                Some(&*format!("card {i} declined"))
            );
            assert!(e.stack_trace.as_deref().unwrap().starts_with("Traceback"));
            assert!(
                !a.contains_key("exception.type"),
                "not repeated in attributes"
            );
        } else {
            assert_eq!(serde_json::to_value(e.log_type).unwrap(), "logger");
        }
        // Within a second of now: the SDK's timestamps, not the epoch.
        let age = (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64)
            .saturating_sub(e.timestamp.unix_nano());
        assert!(age < 60_000_000_000, "timestamp {}", e.timestamp);
    }
    weir.signal("TERM");
    assert_eq!(weir.wait(), 0, "{}", weir.stderr());
    assert!(
        !weir.stderr().contains(DEFAULT_API_KEY),
        "the key is never logged"
    );
    rt.block_on(standin.stop());
}

/// A pipeline with quick probes and a quick breaker, for the fault tests.
fn fault_pipeline(dir: &std::path::Path) -> std::path::PathBuf {
    write_pipeline(
        dir,
        "ledger.yaml",
        r#"
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "${env:WEIR_OTLP_GRPC_ENDPOINT}" }
exporters:
  ledger:
    endpoint: ${env:LEDGER_ENDPOINT}
    api_key: ${env:LEDGER_API_KEY}
    probe_interval: 200ms
    circuit_breaker: { failures: 5, open_for: 2s }
service:
  telemetry:
    metrics: { address: "${env:WEIR_METRICS_ADDRESS}" }
  pipelines:
    logs: { receivers: [otlp], exporters: [ledger] }
"#,
    )
}

#[test]
fn a_refused_key_stops_sending_shows_in_readyz_and_everything_goes_once_it_works() {
    let rt = runtime();
    let standin = rt
        .block_on(Standin::start(StandinConfig::default()))
        .unwrap();
    let control = standin.control();
    control.reject_all_keys(true);
    let dir = tempfile::tempdir().unwrap();
    let mut weir = start_weir(&fault_pipeline(dir.path()), &standin);
    let (grpc, _) = weir.otlp_addrs();
    let metrics = weir.metrics_addr();
    emit_logs(&grpc, &rt, 0, 200);

    // /readyz names the exporter and why.
    let deadline = Instant::now() + Duration::from_secs(20);
    let body = loop {
        let (code, body) = http_get(&metrics, "/readyz");
        if code == 503 && body.contains("ledger") {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "readyz: {code} {body}\n{}",
            weir.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let v: Value = serde_json::from_str(body.trim()).unwrap();
    assert_eq!(v["unhealthy"][0]["component"], "ledger");
    assert!(
        v["unhealthy"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("401")
    );
    std::thread::sleep(Duration::from_secs(1));
    let stats = standin.stats();
    assert_eq!(
        stats.request_times.len(),
        1,
        "one batch request, then only probes: {stats:?}"
    );
    assert_eq!(stats.accepted_logs, 0);

    // The key works again: a probe sees it, everything goes, readyz is 200.
    control.reject_all_keys(false);
    wait_for(&standin, 200, Duration::from_secs(20), &weir);
    let (code, _) = http_get(&metrics, "/readyz");
    assert_eq!(code, 200);
    assert_eq!(standin.stats().accepted_logs, 200, "each once");
    weir.signal("TERM");
    assert_eq!(weir.wait(), 0, "{}", weir.stderr());
    rt.block_on(standin.stop());
}

#[test]
fn thirty_seconds_of_503_lose_nothing_and_keep_the_order() {
    let rt = runtime();
    let standin = rt
        .block_on(Standin::start(StandinConfig::default()))
        .unwrap();
    standin
        .control()
        .fail_for(Duration::from_secs(30), 503, None);
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let mut weir = start_weir(&fault_pipeline(dir.path()), &standin);
    let (grpc, _) = weir.otlp_addrs();
    // Several SDK flushes during the outage, so several batches queue up.
    for k in 0..4 {
        emit_logs(&grpc, &rt, k * 250, 250);
    }
    wait_for(&standin, 1000, Duration::from_secs(90), &weir);
    assert!(started.elapsed() >= Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(300));
    let want: Vec<String> = (0..1000).map(|i| format!("log {i}")).collect();
    assert_eq!(messages(&standin), want, "each once, in the order sent");
    assert!(standin.stats().status(503) >= 5, "the outage was seen");
    weir.signal("TERM");
    assert_eq!(weir.wait(), 0, "{}", weir.stderr());
    rt.block_on(standin.stop());
}

#[test]
fn ledger_sdk_batches_relayed_through_weir_keep_every_field() {
    let rt = runtime();
    let standin = rt
        .block_on(Standin::start(StandinConfig::default()))
        .unwrap();
    let mut weir = Weir::start(
        &workspace().join("pipelines/ledger-relay.yaml"),
        &[
            ("LEDGER_ENDPOINT", &standin.base_url()),
            ("LEDGER_API_KEY", DEFAULT_API_KEY),
            ("WEIR_HTTP_ENDPOINT", "127.0.0.1:0"),
            ("WEIR_METRICS_ADDRESS", "127.0.0.1:0"),
        ],
    );
    let base = format!("http://{}", weir.http_addr());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64;
    let at = |k: u64| {
        weir_ledger::Timestamp::from_unix_micros((now - 60_000_000 + k * 1_001) as i64).to_string()
    };
    let body = serde_json::json!({ "logs": [
        {
            "timestamp": at(1), "level": "error", "log_type": "exception", "importance": "critical",
            "message": "Payment processing failed", "error_type": "PaymentGatewayError",
            "error_message": "Gateway timeout after 30 seconds", "stack_trace": "Traceback ...\n  File 'pay.py'",
            "environment": "production", "release": "v1.2.3",
            "attributes": { "user_id": "usr_123", "amount": 99.99, "retries": 3, "tags": ["a", "b"],
                            "nested": { "k": true, "n": null },
                            "trace_id": "5b8efff798038103d269b633813fc60c", "span_id": "eee19b7ec3c1b174" },
            "sdk_version": "1.4.0", "platform": "python", "platform_version": "3.12"
        },
        {
            "timestamp": at(2), "level": "info", "log_type": "endpoint", "message": "GET /users/1",
            "attributes": { "endpoint": { "method": "GET", "path": "/users/1", "status_code": 200, "duration_ms": 45.2 } }
        },
        { "timestamp": at(3), "level": "debug", "log_type": "database", "importance": "low", "message": null },
        { "timestamp": at(4), "level": "warning", "message": "plain" }
    ]});
    let sent = weir_ledger::gateway::parse_batch(&serde_json::to_vec(&body).unwrap()).unwrap();
    otlp_support::install_crypto();
    let answer = reqwest::blocking::Client::new()
        .post(format!("{base}/api/v1/ingest/batch"))
        .header("x-api-key", DEFAULT_API_KEY)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .send()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 202);
    wait_for(&standin, 4, Duration::from_secs(20), &weir);
    let got: Vec<_> = standin.entries().into_iter().map(|r| r.entry).collect();
    assert_eq!(got, sent, "Ledger → weir → Ledger keeps every field");
    weir.signal("TERM");
    assert_eq!(weir.wait(), 0, "{}", weir.stderr());
    rt.block_on(standin.stop());
}
