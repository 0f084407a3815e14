//! The exporter harness's disk queue end to end with fake components: delivery
//! in order through memory and the spool, what a shutdown leaves is delivered by
//! the next start, and a full spool pushes back without losing anything.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use support::Probe;
use weir_runtime::build::build;
use weir_runtime::config::load_str;
use weir_runtime::service::{self, RunSummary, StopReason};

async fn run_yaml(yaml: &str, probe: Arc<Probe>) -> RunSummary {
    let registry = support::registry(probe);
    let (built, diags) = build(load_str("t.yaml", yaml, &registry, &|_| None), &registry);
    let built = built.unwrap_or_else(|| panic!("invalid test config: {diags:#?}"));
    service::start(built).await.expect("start").wait().await
}

/// A pipeline from `source` (its flow settings) to `sink` (its settings), with
/// `service` lines (indented two spaces) before the pipelines.
fn pipeline(source: &str, sink: &str, service: &str) -> String {
    format!(
        "receivers:\n  source: {source}\nexporters:\n  sink: {sink}\nservice:\n{service}  telemetry: {{ metrics: {{ address: none }} }}\n  pipelines:\n    logs: {{ receivers: [source], exporters: [sink], channel_capacity: 1 }}\n"
    )
}

/// Record numbers the sink got, in delivery order.
fn delivered_in_order(probe: &Probe) -> Vec<i64> {
    probe
        .delivered
        .lock()
        .unwrap()
        .iter()
        .map(|(_, n)| *n)
        .collect()
}

fn segments(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "seg")
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivers_everything_in_order_through_memory_and_the_spool() {
    let dir = tempfile::tempdir().unwrap();
    let probe = Arc::new(Probe::default());
    // One batch fits in memory: the slow sink makes the rest go cold, read
    // back from the spool (4 KiB segments, so several).
    let sink = format!(
        r#"{{ delay: 2ms, max_in_flight: 1, queue: {{ storage: disk, path: "{}", capacity: 1, segment_bytes: 4KiB, max_bytes: 1MiB }} }}"#,
        dir.path().display()
    );
    let yaml = pipeline("{ batches: 80, items: 5 }", &sink, "");
    let summary = run_yaml(&yaml, probe.clone()).await;
    assert!(summary.is_clean(), "{summary:?}");
    assert_eq!(summary.sent, 400);
    assert_eq!(delivered_in_order(&probe), (1..=400).collect::<Vec<_>>());
    assert!(
        segments(dir.path()) <= 1,
        "delivered segments are deleted, only the active one stays"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_shutdown_leaves_in_the_spool_the_next_start_delivers() {
    let dir = tempfile::tempdir().unwrap();
    let queue = format!(
        r#"{{ storage: disk, path: "{}", segment_bytes: 4KiB }}"#,
        dir.path().display()
    );
    // The destination hangs: nothing is delivered before the deadline.
    let probe = Arc::new(Probe::default());
    let yaml = pipeline(
        "{ batches: 30, items: 4, wait: true }",
        &format!("{{ hang: true, queue: {queue} }}"),
        "  shutdown_timeout: 300ms\n",
    );
    let registry = support::registry(probe.clone());
    let (built, diags) = build(load_str("t.yaml", &yaml, &registry, &|_| None), &registry);
    let running = service::start(built.unwrap_or_else(|| panic!("{diags:#?}")))
        .await
        .unwrap();
    let stop = running.stop_handle();
    let wait = tokio::spawn(running.wait());
    while probe.source_batches.load(Ordering::SeqCst) < 30 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.stop();
    let summary = wait.await.unwrap();
    assert_eq!(summary.reason, StopReason::Requested);
    assert_eq!(summary.sent, 0);
    assert_eq!(summary.abandoned, 0, "left in the spool, not abandoned");

    // Next start: a working destination and no new input.
    let probe = Arc::new(Probe::default());
    let yaml = pipeline(
        "{ batches: 0, items: 1 }",
        &format!("{{ max_in_flight: 1, queue: {queue} }}"),
        "",
    );
    let summary = run_yaml(&yaml, probe.clone()).await;
    assert!(summary.is_clean(), "{summary:?}");
    assert_eq!(summary.sent, 120);
    assert_eq!(delivered_in_order(&probe), (1..=120).collect::<Vec<_>>());

    // And a third start has nothing left to send.
    let probe = Arc::new(Probe::default());
    let summary = run_yaml(&yaml, probe.clone()).await;
    assert_eq!(summary.sent, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_spool_pushes_back_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let probe = Arc::new(Probe::default());
    // Room for about ten ~800-byte batches on disk while the destination refuses its
    // first 40 calls: the source must wait, and then everything arrives.
    let sink = format!(
        r#"{{ fail_first: 40, max_in_flight: 1, retry: {{ initial: 1ms, max: 2ms }}, queue: {{ storage: disk, path: "{}", capacity: 1, segment_bytes: 4KiB, max_bytes: 8KiB }} }}"#,
        dir.path().display()
    );
    let yaml = pipeline("{ batches: 60, items: 50 }", &sink, "");
    let summary = run_yaml(&yaml, probe.clone()).await;
    assert!(summary.is_clean(), "{summary:?}");
    assert_eq!(summary.sent, 3000);
    assert_eq!(delivered_in_order(&probe), (1..=3000).collect::<Vec<_>>());
    let lag = probe.max_lag.load(Ordering::SeqCst);
    assert!(
        lag < 40,
        "the source ran {lag} batches ahead: the spool did not push back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spool_directory_in_use_is_a_start_error() {
    let dir = tempfile::tempdir().unwrap();
    let _held = weir_runtime::spool::Spool::open(dir.path(), Default::default()).unwrap();
    let probe = Arc::new(Probe::default());
    let registry = support::registry(probe);
    let yaml = pipeline(
        "{ batches: 1, items: 1 }",
        &format!(
            r#"{{ queue: {{ storage: disk, path: "{}" }} }}"#,
            dir.path().display()
        ),
        "",
    );
    let (built, diags) = build(load_str("t.yaml", &yaml, &registry, &|_| None), &registry);
    let err = match service::start(built.unwrap_or_else(|| panic!("{diags:#?}"))).await {
        Ok(_) => panic!("started on a spool another holds"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("`sink`") && err.contains("in use"), "{err}");
}

#[test]
fn disk_queue_settings_are_checked_at_their_line() {
    let probe = Arc::new(Probe::default());
    let registry = support::registry(probe);
    let yaml = r#"
receivers:
  source: { batches: 1, items: 1 }
exporters:
  sink:
    queue: { storage: disk, when_full: drop_oldest }
service:
  pipelines:
    logs: { receivers: [source], exporters: [sink] }
"#;
    let (built, diags) = build(load_str("t.yaml", yaml, &registry, &|_| None), &registry);
    assert!(built.is_none());
    let text: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
    assert!(
        text.iter()
            .any(|d| d.contains("t.yaml:6") && d.contains("needs `path`")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|d| d.contains("when_full") && d.contains("pushes back")),
        "{text:#?}"
    );
}
