//! The exporter against the stand-in Ledger server over real sockets.

use std::time::Duration;

use serde_json::Value;
use weir_core::otlp::common::v1::{AnyValue, KeyValue, any_value};
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_core::otlp::resource::v1::Resource;
use weir_core::telemetry::Kind;
use weir_core::{Batch, BatchMeta, BuildContext, ComponentConfig, HealthRegistry, Signal};
use weir_ledger::fit::MARKER;
use weir_ledger_standin::{DEFAULT_API_KEY, Standin, StandinConfig};

use super::*;

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn text(v: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(v.into())),
    })
}

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: text(v),
        ..Default::default()
    }
}

/// `n` records numbered from `first`, under one resource.
fn batch_from(first: usize, n: usize) -> Batch {
    let now = now_nanos();
    let records = (first..first + n)
        .map(|i| LogRecord {
            time_unix_nano: now - 1_000_000,
            severity_number: if i % 10 == 0 { 17 } else { 9 },
            body: text(&format!("record {i}")),
            attributes: vec![kv("n", &i.to_string())],
            trace_id: vec![0xab; 16],
            span_id: vec![0xcd; 8],
            ..Default::default()
        })
        .collect();
    Batch::logs(
        vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", "billing"),
                    kv("deployment.environment.name", "production"),
                    kv("service.version", "v2.3.4"),
                ],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
        BatchMeta::default(),
    )
}

struct Setup {
    standin: Standin,
    exporter: LedgerExporter,
    health: HealthRegistry,
    cx: BuildContext,
}

async fn setup(standin: StandinConfig, extra: &str) -> Setup {
    let standin = Standin::start(standin).await.unwrap();
    let yaml = format!(
        "{{ endpoint: '{}', api_key: '{DEFAULT_API_KEY}', probe_interval: 100ms {extra} }}",
        standin.base_url()
    );
    let (config, base) =
        LedgerConfig::from_component(&ComponentConfig::from_yaml(&yaml).unwrap()).unwrap();
    let health = HealthRegistry::default();
    let cx = BuildContext::for_test("ledger", Kind::Exporter, &[Signal::Logs])
        .with_health(health.component("ledger"));
    let exporter = LedgerExporter::new(config, &base, &cx).unwrap();
    Setup {
        standin,
        exporter,
        health,
        cx,
    }
}

fn messages(s: &Standin) -> Vec<String> {
    s.entries()
        .into_iter()
        .map(|r| r.entry.message.unwrap_or_default())
        .collect()
}

fn numbered(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("record {i}")).collect()
}

#[tokio::test]
async fn every_record_arrives_once_mapped_in_requests_of_at_most_the_batch_size() {
    let s = setup(StandinConfig::default(), "").await;
    let out = s.exporter.export(&batch_from(0, 2500)).await.unwrap();
    assert_eq!((out.sent, out.rejected), (2500, 0));
    assert_eq!(messages(&s.standin), numbered(0..2500));
    let stats = s.standin.stats();
    assert_eq!(stats.status(202), 3, "1000 + 1000 + 500");
    assert_eq!(stats.gzip_requests, 3);
    let e = &s.standin.entries()[10].entry;
    assert_eq!(e.level.as_str(), "error");
    assert_eq!(e.environment.as_deref(), Some("production"));
    assert_eq!(e.release.as_deref(), Some("v2.3.4"));
    let attrs = e.attributes.as_ref().unwrap();
    assert_eq!(attrs["service.name"], "billing");
    assert_eq!(attrs["n"], "10");
    assert_eq!(attrs["trace_id"], "ab".repeat(16));
    assert_eq!(attrs["span_id"], "cd".repeat(8));
    assert!(
        !attrs.contains_key("deployment.environment.name"),
        "not repeated"
    );
    s.standin.stop().await;
}

#[tokio::test]
async fn long_fields_and_oversize_attributes_arrive_cut_with_their_markers() {
    let s = setup(StandinConfig::default(), "").await;
    let mut b = batch_from(0, 1);
    let record = &mut b.logs_mut().unwrap()[0].scope_logs[0].log_records[0];
    record.body = text(&"x".repeat(12_000));
    record.attributes.push(kv("blob", &"y".repeat(150_000)));
    record
        .attributes
        .push(kv("exception.type", &"E".repeat(300)));
    let out = s.exporter.export(&b).await.unwrap();
    assert_eq!((out.sent, out.rejected), (1, 0), "the server took it");
    let e = &s.standin.entries()[0].entry;
    let m = e.message.as_deref().unwrap();
    assert_eq!(m.chars().count(), 10_000);
    assert!(m.ends_with(MARKER));
    assert_eq!(e.error_type.as_ref().unwrap().chars().count(), 255);
    let attrs = e.attributes.as_ref().unwrap();
    assert_eq!(attrs["_truncated"], Value::Bool(true));
    assert!(!attrs.contains_key("blob"), "the largest attribute went");
    assert_eq!(attrs["n"], "0", "the rest stayed");
    assert_eq!(s.exporter.metrics.truncated.get(), 1);
    s.standin.stop().await;
}

#[tokio::test]
async fn the_request_rate_stays_at_the_ratio_of_the_limit_and_nothing_is_lost() {
    // 60 requests a "minute" of 2 s; weir may use 90%: 54.
    let window = Duration::from_secs(2);
    let s = setup(
        StandinConfig {
            requests_per_minute: 60,
            minute_window: window,
            ..StandinConfig::default()
        },
        ", max_batch_size: 10",
    )
    .await;
    let exporter = s.exporter.with_windows(window, Duration::from_secs(3600));
    // 128 requests of 10 from four concurrent exports.
    let runs = (0..4).map(|k| {
        let exporter = &exporter;
        async move {
            for j in 0..4 {
                let first = (k * 4 + j) * 80;
                exporter.export(&batch_from(first, 80)).await.unwrap();
            }
        }
    });
    futures_join_all(runs).await;
    let stats = s.standin.stats();
    assert_eq!(stats.status(429), 0, "never over the server's limit");
    let max = stats.max_requests_in(window);
    assert!(max <= 54, "{max} requests in one window");
    assert!(max >= 40, "and close to it: {max}");
    let mut got = messages(&s.standin);
    got.sort();
    let mut want = numbered(0..1280);
    want.sort();
    assert_eq!(got, want, "each record once");
    s.standin.stop().await;
}

/// Runs futures together on this task.
async fn futures_join_all<F: std::future::Future<Output = ()>>(fs: impl Iterator<Item = F>) {
    let mut set: Vec<std::pin::Pin<Box<F>>> = fs.map(Box::pin).collect();
    std::future::poll_fn(|cx| {
        set.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if set.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
}

#[tokio::test]
async fn a_refused_key_stops_sending_names_the_exporter_and_resumes_after_a_probe() {
    let s = setup(StandinConfig::default(), "").await;
    let control = s.standin.control();
    control.reject_all_keys(true);
    let b = batch_from(0, 5);
    let export = s.exporter.export(&b);
    tokio::pin!(export);
    // The batch waits in its turn (still queued), probing the key.
    assert!(
        tokio::time::timeout(Duration::from_millis(600), &mut export)
            .await
            .is_err(),
        "no delivery while the key is refused"
    );
    let stats = s.standin.stats();
    assert_eq!(
        stats.request_times.len(),
        1,
        "not one batch sent after the 401"
    );
    assert!(
        stats.status(401) >= 3,
        "the first request and probes: {stats:?}"
    );
    let unhealthy = s.health.unhealthy();
    assert_eq!(unhealthy.len(), 1);
    assert_eq!(unhealthy[0].0, "ledger");
    assert!(unhealthy[0].1.contains("401"), "{unhealthy:?}");
    control.reject_all_keys(false);
    let out = tokio::time::timeout(Duration::from_secs(5), export)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out.sent, 5);
    assert!(s.health.unhealthy().is_empty(), "healthy again");
    assert_eq!(messages(&s.standin), numbered(0..5));
    s.standin.stop().await;
}

#[tokio::test]
async fn unordered_a_401_goes_back_to_the_harness() {
    let s = setup(StandinConfig::default(), ", ordered: false").await;
    s.standin.control().reject_all_keys(true);
    let err = s.exporter.export(&batch_from(0, 5)).await.unwrap_err();
    assert!(err.to_string().contains("http_401"), "{err}");
    assert_eq!(s.health.unhealthy().len(), 1);
    s.standin.stop().await;
}

#[tokio::test]
async fn ordered_exports_land_in_queue_order_through_a_503_spell() {
    let s = setup(StandinConfig::default(), "").await;
    s.standin
        .control()
        .fail_for(Duration::from_millis(1500), 503, None);
    let batches: Vec<Batch> = (0..4).map(|k| batch_from(k * 100, 100)).collect();
    let runs = batches.iter().map(|b| {
        let exporter = &s.exporter;
        async move {
            let out = exporter.export(b).await.unwrap();
            assert_eq!(out.sent, 100);
        }
    });
    futures_join_all(runs).await;
    assert!(s.standin.stats().status(503) >= 1);
    assert_eq!(
        messages(&s.standin),
        numbered(0..400),
        "each once, in queue order"
    );
    s.standin.stop().await;
}

#[tokio::test]
async fn retry_after_holds_every_request_and_a_503_burst_loses_nothing() {
    let s = setup(StandinConfig::default(), ", ordered: false").await;
    s.standin.control().fail_next(2, 503, Some(1));
    let started = std::time::Instant::now();
    let mut tries = 0;
    let out = loop {
        tries += 1;
        match s.exporter.export(&batch_from(0, 50)).await {
            Ok(out) => break out,
            Err(ExportError::Retryable { after, .. }) => {
                assert_eq!(after, Some(Duration::from_secs(1)));
            }
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!((tries, out.sent), (3, 50));
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "waited Retry-After twice"
    );
    assert_eq!(messages(&s.standin), numbered(0..50));
    s.standin.stop().await;
}

#[tokio::test]
async fn a_batch_cut_short_by_the_quota_is_finished_without_resending() {
    let s = setup(
        StandinConfig {
            daily_quota: 1500,
            quota_period: Some(Duration::from_secs(2)),
            ..StandinConfig::default()
        },
        "",
    )
    .await;
    // 2000 records: the first 1000 fit the quota, the next 1000 get 402 and
    // wait for the reset the settings announce.
    let out = tokio::time::timeout(
        Duration::from_secs(20),
        s.exporter.export(&batch_from(0, 2000)),
    )
    .await
    .expect("finished after the quota reset")
    .unwrap();
    assert_eq!(out.sent, 2000);
    assert_eq!(
        messages(&s.standin),
        numbered(0..2000),
        "each once, in order"
    );
    assert!(s.standin.stats().status(402) >= 1);
    s.standin.stop().await;
}

#[tokio::test]
async fn permanent_refusals_count_as_rejected_and_the_breaker_opens() {
    let s = setup(
        StandinConfig::default(),
        ", circuit_breaker: { failures: 3, open_for: 700ms }, ordered: false",
    )
    .await;
    let control = s.standin.control();
    control.fail_next(1, 400, None);
    let out = s.exporter.export(&batch_from(0, 7)).await.unwrap();
    assert_eq!((out.sent, out.rejected), (0, 7), "400 is permanent");

    control.fail_next(3, 500, None);
    for _ in 0..3 {
        let err = s.exporter.export(&batch_from(0, 1)).await.unwrap_err();
        assert!(err.to_string().contains("http_500"), "{err}");
    }
    let t = std::time::Instant::now();
    let out = s.exporter.export(&batch_from(100, 1)).await.unwrap();
    assert_eq!(out.sent, 1);
    assert!(
        t.elapsed() >= Duration::from_millis(600),
        "held while open: {:?}",
        t.elapsed()
    );
    assert_eq!(messages(&s.standin), ["record 100"]);
    drop(s.cx);
    s.standin.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "timing probe"]
async fn timing_probe() {
    let s = setup(
        StandinConfig {
            record_entries: false,
            ..StandinConfig::default()
        },
        "",
    )
    .await;
    let b = batch_from(0, 1000);
    for _ in 0..3 {
        s.exporter.export(&b).await.unwrap();
    }
    let t = std::time::Instant::now();
    for _ in 0..50 {
        s.exporter.export(&b).await.unwrap();
    }
    eprintln!("per 1000-record export: {:?}", t.elapsed() / 50);
    let enc = std::time::Instant::now();
    for _ in 0..50 {
        let _ = encode::encode(
            &b,
            1000,
            &Settings::default().constraints,
            now_nanos(),
            true,
        )
        .unwrap();
    }
    eprintln!("encode+gzip: {:?}", enc.elapsed() / 50);
}
