//! The runtime end to end with fake components: wiring, backpressure, fan-out,
//! shared exporters, retries, and the shutdown deadline.

mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use support::Probe;
use weir_runtime::build::build;
use weir_runtime::config::load_str;
use weir_runtime::service::{self, RunSummary, StopReason};

async fn run_yaml(yaml: &str, probe: Arc<Probe>) -> RunSummary {
    let registry = support::registry(probe);
    let report = load_str("test.yaml", yaml, &registry, &|_| None);
    let (built, diags) = build(report, &registry);
    let built = built.unwrap_or_else(|| panic!("invalid test config: {diags:#?}"));
    let running = service::start(built).await.expect("start");
    running.wait().await
}

fn delivered(probe: &Probe, sink: &str) -> Vec<i64> {
    let mut v: Vec<i64> = probe
        .delivered
        .lock()
        .unwrap()
        .iter()
        .filter(|(id, _)| id == sink)
        .map(|(_, n)| *n)
        .collect();
    v.sort_unstable();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_one_and_a_slow_exporter_slow_the_source_and_lose_nothing() {
    let probe = Arc::new(Probe::default());
    let yaml = r#"
receivers:
  source: { batches: 60, items: 10 }
processors:
  tag:
exporters:
  sink: { delay: 5ms, queue: { capacity: 1 }, max_in_flight: 1 }
service:
  telemetry: { metrics: { address: none } }
  pipelines:
    logs: { receivers: [source], processors: [tag], exporters: [sink], channel_capacity: 1 }
"#;
    let summary = run_yaml(yaml, probe.clone()).await;
    assert_eq!(summary.reason, StopReason::InputEnded);
    assert!(summary.is_clean(), "{summary:?}");
    assert_eq!(summary.sent, 600);
    assert_eq!(delivered(&probe, "sink"), (1..=600).collect::<Vec<_>>());
    // At most: one in the exporter's hands, one in its queue, one in the
    // processor, one on the pipeline edge, one being sent by the source.
    let lag = probe.max_lag.load(Ordering::SeqCst);
    assert!(lag <= 5, "source ran {lag} batches ahead of a slow sink");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_in_two_pipelines_fans_out_and_a_shared_exporter_is_one_instance() {
    let probe = Arc::new(Probe::default());
    let yaml = r#"
receivers:
  source: { batches: 5, items: 4 }
processors:
  tag:
exporters:
  sink/a:
  sink/b:
service:
  telemetry: { metrics: { address: none } }
  pipelines:
    logs/one: { receivers: [source], processors: [tag], exporters: [sink/a, sink/b] }
    logs/two: { receivers: [source], exporters: [sink/a] }
"#;
    let summary = run_yaml(yaml, probe.clone()).await;
    assert!(summary.is_clean(), "{summary:?}");
    // sink/a gets every record from both pipelines; sink/b from one.
    let mut twice: Vec<i64> = (1..=20).chain(1..=20).collect();
    twice.sort_unstable();
    assert_eq!(delivered(&probe, "sink/a"), twice);
    assert_eq!(delivered(&probe, "sink/b"), (1..=20).collect::<Vec<_>>());
    assert_eq!(summary.sent, 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retryable_failures_are_retried_until_delivered() {
    let probe = Arc::new(Probe::default());
    let yaml = r#"
receivers:
  source: { batches: 3, items: 2 }
exporters:
  sink: { fail_first: 3, retry: { initial: 1ms, max: 5ms } }
service:
  telemetry: { metrics: { address: none } }
  pipelines:
    logs: { receivers: [source], exporters: [sink] }
"#;
    let summary = run_yaml(yaml, probe.clone()).await;
    assert!(summary.is_clean(), "{summary:?}");
    assert_eq!(delivered(&probe, "sink"), (1..=6).collect::<Vec<_>>());
    assert_eq!(probe.calls.load(Ordering::SeqCst), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_failures_are_counted_not_retried() {
    let probe = Arc::new(Probe::default());
    let yaml = r#"
receivers:
  source: { batches: 2, items: 3 }
exporters:
  sink: { permanent: true }
service:
  telemetry: { metrics: { address: none } }
  pipelines:
    logs: { receivers: [source], exporters: [sink] }
"#;
    let summary = run_yaml(yaml, probe.clone()).await;
    assert_eq!(summary.sent, 0);
    assert_eq!(summary.abandoned, 0);
    assert_eq!(probe.calls.load(Ordering::SeqCst), 2, "one call per batch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_deadline_abandons_and_counts_what_is_left() {
    let probe = Arc::new(Probe::default());
    let yaml = r#"
receivers:
  source: { batches: 4, items: 5, wait: true }
exporters:
  sink: { hang: true }
service:
  shutdown_timeout: 200ms
  telemetry: { metrics: { address: none } }
  pipelines:
    logs: { receivers: [source], exporters: [sink] }
"#;
    let registry = support::registry(probe.clone());
    let (built, diags) = build(load_str("t.yaml", yaml, &registry, &|_| None), &registry);
    let running = service::start(built.unwrap_or_else(|| panic!("{diags:#?}")))
        .await
        .unwrap();
    let stop = running.stop_handle();
    let wait = tokio::spawn(running.wait());
    while probe.source_batches.load(Ordering::SeqCst) < 4 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.stop();
    let summary = wait.await.unwrap();
    assert_eq!(summary.reason, StopReason::Requested);
    assert_eq!(summary.sent, 0);
    assert_eq!(
        summary.abandoned, 20,
        "every accepted item is accounted for"
    );
    assert!(!summary.is_clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_grows_from_one_up_to_max_in_flight() {
    let probe = Arc::new(Probe::default());
    // 40 batches at 50 ms each: one at a time takes 2 s. Adaptive concurrency
    // starts at 1 and, with latency flat, grows to the bound of 4.
    let yaml = r#"
receivers:
  source: { batches: 40, items: 1 }
exporters:
  sink: { delay: 50ms, max_in_flight: 4 }
service:
  telemetry: { metrics: { address: none } }
  pipelines:
    logs: { receivers: [source], exporters: [sink] }
"#;
    let t0 = std::time::Instant::now();
    let summary = run_yaml(yaml, probe.clone()).await;
    let took = t0.elapsed();
    assert!(summary.is_clean(), "{summary:?}");
    assert_eq!(delivered(&probe, "sink"), (1..=40).collect::<Vec<_>>());
    assert!(
        took < Duration::from_millis(1400),
        "deliveries did not become concurrent: {took:?}"
    );
    assert_eq!(
        probe.max_concurrent.load(Ordering::SeqCst),
        4,
        "grows to max_in_flight and never past it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processors_see_their_exporters_latency_queue_and_throttling() {
    let probe = Arc::new(Probe::default());
    let yaml = r#"
receivers:
  source: { batches: 6, items: 1 }
processors:
  tag:
exporters:
  sink/slow: { delay: 30ms, fail_first: 6, retry: { initial: 1ms, max: 2ms } }
  sink/fast:
service:
  telemetry: { metrics: { address: none } }
  pipelines:
    logs/slow: { receivers: [source], processors: [tag], exporters: [sink/slow, sink/fast] }
    logs/fast: { receivers: [source], processors: [tag], exporters: [sink/fast] }
"#;
    let summary = run_yaml(yaml, probe.clone()).await;
    assert!(summary.is_clean(), "{summary:?}");
    let views = probe.downstream.lock().unwrap().clone();
    assert_eq!(views.len(), 2, "one tag per pipeline");
    // The pipeline through the slow sink sees its round trips and its
    // retryable failures (6 of 12 calls); the other sees only the fast one.
    let slow = views[0].send_latency().expect("sends were reported");
    assert!(slow >= Duration::from_millis(25), "{slow:?}");
    let rate = views[0].throttle_rate();
    assert!(rate > 0.05 && rate < 0.95, "{rate}");
    let fast = views[1].send_latency().expect("sends were reported");
    assert!(fast < Duration::from_millis(25), "{fast:?}");
    assert_eq!(views[1].throttle_rate(), 0.0);
    // Everything was taken from the queues by the end.
    assert_eq!(views[0].queue_fill(), 0.0);
}

#[test]
fn max_in_flight_zero_is_a_config_error() {
    let registry = support::registry(Arc::new(Probe::default()));
    let yaml = "receivers: { source: { batches: 1, items: 1 } }\nexporters:\n  sink: { max_in_flight: 0 }\nservice: { pipelines: { logs: { receivers: [source], exporters: [sink] } } }\n";
    let (built, diags) = build(load_str("t.yaml", yaml, &registry, &|_| None), &registry);
    assert!(built.is_none());
    let d = diags
        .iter()
        .find(|d| d.path == "exporters.sink.max_in_flight")
        .expect("located");
    assert_eq!(d.location.map(|l| l.line), Some(3), "{d}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_failing_past_the_backoff_ceiling_is_unready_until_it_delivers() {
    let probe = Arc::new(Probe::default());
    // 40 refusals at a 10-50 ms backoff: about 1.5 s of failing, past the
    // 1 s floor of `unready_after`.
    let yaml = r#"
receivers:
  source: { batches: 2, items: 1 }
exporters:
  sink: { fail_first: 40, max_in_flight: 1, retry: { initial: 10ms, max: 50ms, max_elapsed: 0s } }
service:
  telemetry: { metrics: { address: none } }
  pipelines:
    logs: { receivers: [source], exporters: [sink] }
"#;
    let registry = support::registry(probe.clone());
    let (built, diags) = build(load_str("t.yaml", yaml, &registry, &|_| None), &registry);
    let built = built.unwrap_or_else(|| panic!("{diags:#?}"));
    let health = built.health.clone();
    let wait = tokio::spawn(service::start(built).await.unwrap().wait());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let bad = health.unhealthy();
        if let Some((id, reason)) = bad.first() {
            assert_eq!(id, "sink");
            assert!(reason.contains("failed to deliver"), "{reason}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never reported unready"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let summary = wait.await.unwrap();
    assert!(summary.is_clean(), "{summary:?}");
    assert_eq!(summary.sent, 2);
    assert!(
        health.unhealthy().is_empty(),
        "ready again once it delivered"
    );
}
