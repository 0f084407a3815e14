//! The processor through its public surface: built from config, fed batches,
//! driven by paused time, emitting into a collecting sink.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use weir_core::otlp::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_core::otlp::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric::Data,
};
use weir_core::otlp::resource::v1::Resource;
use weir_core::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span};
use weir_core::telemetry::Kind;
use weir_core::testing::CollectSink;
use weir_core::{
    Batch, BatchMeta, BatchSink, BuildContext, ClientInfo, ComponentConfig, Downstream, Emitter,
    ExporterLoad, Processor, ProcessorFactory, SendError, Signal, SignalData, async_trait,
};

use super::{
    AdaptiveBatchConfig, AdaptiveBatchProcessor, AdaptiveBatchProcessorFactory, metric_names,
};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn cx() -> BuildContext {
    BuildContext::for_test("adaptive_batch", Kind::Processor, &[Signal::Logs])
}

fn processor(yaml: &str, cx: &BuildContext) -> AdaptiveBatchProcessor {
    let cfg =
        AdaptiveBatchConfig::from_component(&ComponentConfig::from_yaml(yaml).unwrap()).unwrap();
    AdaptiveBatchProcessor::new(cfg, cx)
}

fn flushes(cx: &BuildContext, reason: &str) -> u64 {
    cx.telemetry
        .counter(
            metric_names::BATCH_FLUSHES,
            Some(Signal::Logs),
            &[("reason", reason)],
        )
        .get()
}

fn resource(r: u8) -> Resource {
    Resource {
        attributes: vec![KeyValue {
            key: "service.name".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(format!("svc-{r}"))),
            }),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn scope(s: u8) -> InstrumentationScope {
    InstrumentationScope {
        name: format!("scope-{s}"),
        ..Default::default()
    }
}

/// A log record whose id is its `time_unix_nano`, with a body of `pad` bytes.
fn record(id: u64, pad: usize) -> LogRecord {
    LogRecord {
        time_unix_nano: id,
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue("x".repeat(pad))),
        }),
        ..Default::default()
    }
}

/// One batch: each record `(resource, scope, id, pad)` under its own
/// resource and scope groups, as an SDK would send it (not pre-merged).
fn logs(records: &[(u8, u8, u64, usize)], meta: BatchMeta) -> Batch {
    let rl = records
        .iter()
        .map(|&(r, s, id, pad)| ResourceLogs {
            resource: Some(resource(r)),
            scope_logs: vec![ScopeLogs {
                scope: Some(scope(s)),
                log_records: vec![record(id, pad)],
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    Batch::logs(rl, meta)
}

fn simple(n: u64, first_id: u64) -> Batch {
    let recs: Vec<_> = (0..n).map(|i| (0, 0, first_id + i, 10)).collect();
    logs(&recs, BatchMeta::default())
}

/// `(resource name, scope name, id)` of every record, in emitted order.
fn records_of(batches: &[Batch]) -> Vec<(String, String, u64)> {
    let mut out = Vec::new();
    for b in batches {
        let SignalData::Logs(rl) = b.data().unwrap() else {
            panic!("not logs")
        };
        for r in rl {
            let res = format!("{:?}", r.resource);
            for s in &r.scope_logs {
                let sc = s.scope.as_ref().map(|s| s.name.clone()).unwrap_or_default();
                for l in &s.log_records {
                    out.push((res.clone(), sc.clone(), l.time_unix_nano));
                }
            }
        }
    }
    out
}

/// Every resource once per batch, every scope once per resource.
fn assert_compact(b: &Batch) {
    let SignalData::Logs(rl) = b.data().unwrap() else {
        panic!("not logs")
    };
    let mut seen = HashSet::new();
    for r in rl {
        assert!(
            seen.insert(format!("{:?}{}", r.resource, r.schema_url)),
            "resource twice"
        );
        let mut scopes = HashSet::new();
        for s in &r.scope_logs {
            assert!(
                scopes.insert(format!("{:?}{}", s.scope, s.schema_url)),
                "scope twice"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn full_batches_leave_at_once_and_the_rest_at_shutdown() {
    let cx = cx();
    let mut p = processor("max_items: 10", &cx);
    let sink = CollectSink::new();
    let mut out = sink.emitter();
    p.process(simple(25, 0), &mut out).await.unwrap();
    let sizes: Vec<usize> = sink.take().iter().map(Batch::items).collect();
    assert_eq!(sizes, vec![10, 10]);
    assert_eq!(flushes(&cx, "items"), 2);
    p.flush(&mut out).await.unwrap();
    let rest = sink.take();
    assert_eq!(rest.iter().map(Batch::items).collect::<Vec<_>>(), vec![5]);
    assert_eq!(flushes(&cx, "shutdown"), 1);
    let hist = cx.telemetry.histogram(
        metric_names::BATCH_SIZE_ITEMS,
        Some(Signal::Logs),
        &[],
        super::SIZE_BOUNDS,
    );
    assert_eq!(hist.snapshot().count, 3);
}

#[tokio::test(start_paused = true)]
async fn batches_leave_before_passing_max_bytes() {
    let cx = cx();
    let mut p = processor("max_bytes: 1000", &cx);
    let sink = CollectSink::new();
    let mut out = sink.emitter();
    for i in 0..10 {
        let recs: Vec<_> = (0..3).map(|j| (0, 0, i * 3 + j, 100)).collect();
        p.process(logs(&recs, BatchMeta::default()), &mut out)
            .await
            .unwrap();
    }
    p.flush(&mut out).await.unwrap();
    let batches = sink.take();
    assert!(batches.len() > 1);
    for b in &batches {
        assert!(b.size_bytes() <= 1000, "{} bytes", b.size_bytes());
        assert_compact(b);
    }
    assert!(flushes(&cx, "bytes") >= 1);
    assert_eq!(records_of(&batches).len(), 30);
}

#[tokio::test(start_paused = true)]
async fn a_record_larger_than_max_bytes_goes_alone() {
    let cx = cx();
    let mut p = processor("max_bytes: 500", &cx);
    let sink = CollectSink::new();
    let mut out = sink.emitter();
    let b = logs(
        &[(0, 0, 1, 10), (0, 0, 2, 2000), (0, 0, 3, 10)],
        BatchMeta::default(),
    );
    p.process(b, &mut out).await.unwrap();
    p.flush(&mut out).await.unwrap();
    let batches = sink.take();
    let ids: Vec<Vec<u64>> = batches
        .iter()
        .map(|b| {
            records_of(std::slice::from_ref(b))
                .into_iter()
                .map(|r| r.2)
                .collect()
        })
        .collect();
    assert_eq!(ids, vec![vec![1], vec![2], vec![3]]);
    assert!(batches[1].size_bytes() > 500);
}

#[tokio::test(start_paused = true)]
async fn light_traffic_leaves_after_min_delay() {
    let cx = cx();
    let mut p = processor("min_delay: 10ms", &cx);
    assert_eq!(p.timer(), Some(ms(5)));
    let sink = CollectSink::new();
    let mut out = sink.emitter();
    p.process(simple(1, 0), &mut out).await.unwrap();
    tokio::time::advance(ms(5)).await;
    p.on_timer(&mut out).await.unwrap();
    assert_eq!(sink.items(), 0, "too early");
    // One record per second hardly moves the target off min_delay.
    assert!(p.delay_target() < ms(11), "{:?}", p.delay_target());
    tokio::time::advance(ms(6)).await;
    p.on_timer(&mut out).await.unwrap();
    assert_eq!(sink.items(), 1);
    assert_eq!(flushes(&cx, "delay"), 1);
}

/// Two seconds of heavy traffic: 50 items every millisecond (100,000 in
/// all), with the processor's timer run every millisecond when `ticks`.
async fn fifty_a_millisecond(p: &mut AdaptiveBatchProcessor, out: &mut Emitter, ticks: bool) {
    for i in 0..2000 {
        p.process(simple(50, i * 50), out).await.unwrap();
        tokio::time::advance(ms(1)).await;
        if ticks {
            p.on_timer(out).await.unwrap();
        }
    }
}

#[tokio::test(start_paused = true)]
async fn heavy_traffic_lets_batches_grow() {
    let cx = cx();
    let mut p = processor(
        "{max_items: 1000, min_delay: 5ms, target_latency: 100ms, max_delay: 500ms}",
        &cx,
    );
    let sink = CollectSink::new();
    let mut out = sink.emitter();
    // 50 items every ms: 50,000/s, 5,000 in the target latency (> max_items).
    fifty_a_millisecond(&mut p, &mut out, true).await;
    assert!(p.delay_target() >= ms(90), "{:?}", p.delay_target());
    let batches = sink.take();
    // Once the rate is known, batches fill to max_items instead of leaving
    // every 5 ms with 250 items.
    let late: Vec<usize> = batches[batches.len() - 20..]
        .iter()
        .map(Batch::items)
        .collect();
    assert!(late.iter().all(|n| *n == 1000), "{late:?}");
    let gauge = cx
        .telemetry
        .gauge(metric_names::BATCH_DELAY_TARGET_MS, Some(Signal::Logs), &[]);
    assert!(gauge.get() >= 90);
    // Traffic stops: the delay comes back down to min_delay.
    tokio::time::advance(Duration::from_secs(10)).await;
    assert!(p.delay_target() < ms(6), "{:?}", p.delay_target());
}

/// A sink that takes `wait` to accept each batch, like a full channel.
struct SlowSink {
    inner: CollectSink,
    wait: Duration,
}

#[async_trait]
impl BatchSink for SlowSink {
    async fn send(
        &self,
        batch: Batch,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<(), SendError> {
        tokio::time::sleep(self.wait).await;
        self.inner.send(batch, deadline).await
    }
}

#[tokio::test(start_paused = true)]
async fn downstream_pushback_grows_the_delay_to_max() {
    let cx = cx();
    let mut p = processor(
        "{max_items: 100, min_delay: 5ms, target_latency: 50ms, max_delay: 400ms}",
        &cx,
    );
    let inner = CollectSink::new();
    let sink = SlowSink {
        inner: inner.clone(),
        wait: ms(80),
    };
    let mut out = Emitter::new(Arc::new(sink), weir_core::telemetry::Counter::detached());
    for i in 0..20 {
        p.process(simple(100, i * 100), &mut out).await.unwrap();
    }
    assert_eq!(p.delay_target(), ms(400));
    assert_eq!(inner.items(), 2000);
}

#[tokio::test(start_paused = true)]
async fn what_the_runtime_reports_of_the_exporters_moves_the_delay() {
    let load = ExporterLoad::new();
    let cx = cx().with_downstream(Downstream::new([load.clone()]));
    let mut p = processor(
        "{max_items: 1000, min_delay: 5ms, target_latency: 100ms, max_delay: 500ms}",
        &cx,
    );
    let sink = CollectSink::new();
    let mut out = sink.emitter();
    fifty_a_millisecond(&mut p, &mut out, false).await;
    let calm = p.delay_target();
    assert!(calm >= ms(90), "{calm:?}");
    // Sends taking 40 ms leave 60 ms of the target to batching.
    load.record_send(ms(40), false);
    let d = p.delay_target();
    assert!(d >= ms(55) && d <= ms(60), "{d:?}");
    // A full exporter queue is pushback: the delay goes to max_delay.
    load.set_queue_fill(1.0);
    assert_eq!(p.delay_target(), ms(500));
    load.set_queue_fill(0.0);
    // Every send throttled: pushback too.
    for _ in 0..40 {
        load.record_send(ms(40), true);
    }
    assert!(p.delay_target() > ms(480), "{:?}", p.delay_target());
    p.flush(&mut out).await.unwrap();
    assert_eq!(sink.items(), 100_000);
}

#[tokio::test(start_paused = true)]
async fn records_sharing_resource_and_scope_are_merged() {
    let cx = cx();
    let mut p = processor("{}", &cx);
    let sink = CollectSink::new();
    let mut out = sink.emitter();
    p.process(
        logs(&[(0, 0, 1, 5), (1, 0, 2, 5)], BatchMeta::default()),
        &mut out,
    )
    .await
    .unwrap();
    p.process(
        logs(
            &[(0, 0, 3, 5), (0, 1, 4, 5), (1, 0, 5, 5)],
            BatchMeta::default(),
        ),
        &mut out,
    )
    .await
    .unwrap();
    p.flush(&mut out).await.unwrap();
    let batches = sink.take();
    assert_eq!(batches.len(), 1);
    let SignalData::Logs(rl) = batches[0].data().unwrap() else {
        panic!()
    };
    let shape: Vec<Vec<Vec<u64>>> = rl
        .iter()
        .map(|r| {
            r.scope_logs
                .iter()
                .map(|s| s.log_records.iter().map(|l| l.time_unix_nano).collect())
                .collect()
        })
        .collect();
    assert_eq!(shape, vec![vec![vec![1, 3], vec![4]], vec![vec![2, 5]]]);
    assert_eq!(batches[0].size_bytes(), batches[0].to_protobuf().len());
}

#[tokio::test(start_paused = true)]
async fn merged_meta_keeps_the_earliest_arrival_and_agreeing_clients() {
    let cx = cx();
    let mut p = processor("{}", &cx);
    let sink = CollectSink::new();
    let mut out = sink.emitter();
    let client = Arc::new(ClientInfo::from_addr("127.0.0.1:9".parse().unwrap()));
    let first = BatchMeta::from_receiver("otlp".into()).with_client(client.clone());
    let earliest = first.received_at;
    let second = BatchMeta::from_receiver("otlp".into()).with_client(client.clone());
    p.process(logs(&[(0, 0, 1, 5)], first), &mut out)
        .await
        .unwrap();
    p.process(logs(&[(0, 0, 2, 5)], second), &mut out)
        .await
        .unwrap();
    p.flush(&mut out).await.unwrap();
    let b = sink.take().pop().unwrap();
    assert_eq!(b.meta().received_at, earliest);
    assert_eq!(b.meta().receiver.as_deref(), Some("otlp"));
    assert!(b.meta().client.is_some());

    let other = Arc::new(ClientInfo::from_addr("127.0.0.1:10".parse().unwrap()));
    let a = BatchMeta::from_receiver("otlp".into()).with_client(client);
    let b2 = BatchMeta::from_receiver("stdin".into()).with_client(other);
    p.process(logs(&[(0, 0, 3, 5)], a), &mut out).await.unwrap();
    p.process(logs(&[(0, 0, 4, 5)], b2), &mut out)
        .await
        .unwrap();
    p.flush(&mut out).await.unwrap();
    let b = sink.take().pop().unwrap();
    assert_eq!(b.items(), 2);
    assert!(b.meta().receiver.is_none());
    assert!(b.meta().client.is_none());
}

#[tokio::test(start_paused = true)]
async fn encoded_batches_and_traces_are_batched_too() {
    let cx = BuildContext::for_test("adaptive_batch", Kind::Processor, &[Signal::Traces]);
    let mut p = AdaptiveBatchProcessorFactory
        .build(&ComponentConfig::from_yaml("max_items: 3").unwrap(), &cx)
        .unwrap();
    let sink = CollectSink::new();
    let mut out = sink.emitter();
    let spans = |ids: std::ops::Range<u8>| {
        SignalData::Traces(vec![ResourceSpans {
            resource: Some(resource(0)),
            scope_spans: vec![ScopeSpans {
                scope: Some(scope(0)),
                spans: ids
                    .map(|i| Span {
                        span_id: vec![i; 8],
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }])
    };
    let mut buf = Vec::new();
    spans(0..2).encode_to(&mut buf);
    let encoded = Batch::from_encoded(Signal::Traces, buf.into(), 2, BatchMeta::default());
    p.process(encoded, &mut out).await.unwrap();
    p.process(
        Batch::from_data(spans(2..4), BatchMeta::default()),
        &mut out,
    )
    .await
    .unwrap();
    p.flush(&mut out).await.unwrap();
    let batches = sink.take();
    assert_eq!(
        batches.iter().map(Batch::items).collect::<Vec<_>>(),
        vec![3, 1]
    );
    let SignalData::Traces(rs) = batches[0].data().unwrap() else {
        panic!()
    };
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].scope_spans.len(), 1);
}

fn gauge_metric(name: &str, first: u64, points: u64) -> Metric {
    Metric {
        name: name.into(),
        data: Some(Data::Gauge(Gauge {
            data_points: (first..first + points)
                .map(|t| NumberDataPoint {
                    time_unix_nano: t,
                    ..Default::default()
                })
                .collect(),
        })),
        ..Default::default()
    }
}

fn metrics(ms: Vec<Metric>) -> Batch {
    Batch::metrics(
        vec![ResourceMetrics {
            resource: Some(resource(0)),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(scope(0)),
                metrics: ms,
                ..Default::default()
            }],
            ..Default::default()
        }],
        BatchMeta::default(),
    )
}

#[tokio::test(start_paused = true)]
async fn metrics_merge_by_scope_and_points_stay_in_their_metric() {
    let cx = BuildContext::for_test("adaptive_batch", Kind::Processor, &[Signal::Metrics]);
    let mut p = processor("max_items: 4", &cx);
    let sink = CollectSink::new();
    let mut out = sink.emitter();
    p.process(metrics(vec![gauge_metric("a", 0, 1)]), &mut out)
        .await
        .unwrap();
    p.process(metrics(vec![gauge_metric("b", 100, 6)]), &mut out)
        .await
        .unwrap();
    p.flush(&mut out).await.unwrap();
    let batches = sink.take();
    let mut seen = Vec::new();
    for b in &batches {
        assert!(b.items() <= 4);
        let SignalData::Metrics(rm) = b.data().unwrap() else {
            panic!()
        };
        assert_eq!(rm.len(), 1);
        assert_eq!(rm[0].scope_metrics.len(), 1);
        for m in &rm[0].scope_metrics[0].metrics {
            let Some(Data::Gauge(g)) = &m.data else {
                panic!()
            };
            for pt in &g.data_points {
                seen.push((m.name.clone(), pt.time_unix_nano));
            }
        }
    }
    let want: Vec<(String, u64)> = std::iter::once(("a".to_string(), 0))
        .chain((100..106).map(|t| ("b".to_string(), t)))
        .collect();
    assert_eq!(seen, want);
}

#[test]
fn config_errors_name_their_field() {
    let cx = cx();
    let err = |yaml: &str| {
        AdaptiveBatchProcessorFactory
            .build(&ComponentConfig::from_yaml(yaml).unwrap(), &cx)
            .err()
            .expect("config error")
    };
    assert_eq!(err("max_items: 0").path.as_deref(), Some("max_items"));
    assert_eq!(err("max_bytes: 0").path.as_deref(), Some("max_bytes"));
    assert_eq!(err("max_bytes: 12XB").path.as_deref(), Some("max_bytes"));
    assert_eq!(err("min_delay: 0s").path.as_deref(), Some("min_delay"));
    assert_eq!(err("max_delay: soon").path.as_deref(), Some("max_delay"));
    assert_eq!(
        err("{min_delay: 50ms, max_delay: 10ms}").path.as_deref(),
        Some("max_delay")
    );
    let e = err("{target_latency: 1s, max_delay: 500ms}");
    assert_eq!(e.path.as_deref(), Some("target_latency"));
    assert!(e.message.contains("between"), "{}", e.message);
    assert!(err("max_item: 5").message.contains("unknown field"));
    let defaults = AdaptiveBatchConfig::from_component(&ComponentConfig::from_yaml("{}").unwrap());
    assert_eq!(defaults.unwrap(), AdaptiveBatchConfig::default());
}

/// One input record: resource, scope, body size.
fn arb_record() -> impl Strategy<Value = (u8, u8, usize)> {
    (0u8..4, 0u8..2, prop_oneof![0usize..40, 0usize..400])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn nothing_lost_limits_kept_order_kept(
        inputs in prop::collection::vec(
            (prop::collection::vec(arb_record(), 0..25), 0u64..8, any::<bool>()), 1..25),
        max_items in 1usize..40,
        max_bytes in 150usize..3000,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            let cx = cx();
            let mut p = processor(
                &format!("{{max_items: {max_items}, max_bytes: {max_bytes}}}"),
                &cx,
            );
            let sink = CollectSink::new();
            let mut out = sink.emitter();
            let mut sent = Vec::new();
            let mut id = 0;
            // Inputs come decoded or as received bytes, in any mix: both
            // batchers, and the hand-over between them, must keep the rules.
            for (recs, wait_ms, encoded) in &inputs {
                let recs: Vec<(u8, u8, u64, usize)> = recs
                    .iter()
                    .map(|&(r, s, pad)| {
                        id += 1;
                        (r, s, id, pad)
                    })
                    .collect();
                let mut batch = logs(&recs, BatchMeta::default());
                sent.extend(records_of(std::slice::from_ref(&batch)));
                if *encoded {
                    let bytes = batch.to_protobuf();
                    batch = Batch::from_encoded(Signal::Logs, bytes, batch.items(), BatchMeta::default());
                }
                p.process(batch, &mut out).await.unwrap();
                tokio::time::advance(ms(*wait_ms)).await;
                p.on_timer(&mut out).await.unwrap();
            }
            p.flush(&mut out).await.unwrap();
            let batches = sink.take();

            for b in &batches {
                prop_assert!(b.items() >= 1);
                prop_assert!(b.items() <= max_items, "{} items", b.items());
                prop_assert!(
                    b.size_bytes() <= max_bytes || b.items() == 1,
                    "{} bytes in {} items", b.size_bytes(), b.items()
                );
                prop_assert_eq!(b.size_bytes(), b.to_protobuf().len());
                assert_compact(b);
            }
            let got = records_of(&batches);
            // Nothing lost or duplicated.
            let mut got_ids: Vec<u64> = got.iter().map(|r| r.2).collect();
            let mut sent_ids: Vec<u64> = sent.iter().map(|r| r.2).collect();
            got_ids.sort_unstable();
            sent_ids.sort_unstable();
            prop_assert_eq!(&got_ids, &sent_ids);
            // Order kept within each resource and scope.
            let per_key = |v: &[(String, String, u64)]| {
                let mut m: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
                for (r, s, id) in v {
                    m.entry((r.clone(), s.clone())).or_default().push(*id);
                }
                m
            };
            prop_assert_eq!(per_key(&got), per_key(&sent));
            Ok::<(), TestCaseError>(())
        })?;
    }

    #[test]
    fn metrics_points_kept_and_limits_kept(
        sizes in prop::collection::vec(0u64..30, 1..20),
        max_items in 1usize..12,
        max_bytes in 100usize..1500,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            let cx = BuildContext::for_test("adaptive_batch", Kind::Processor, &[Signal::Metrics]);
            let mut p = processor(
                &format!("{{max_items: {max_items}, max_bytes: {max_bytes}}}"),
                &cx,
            );
            let sink = CollectSink::new();
            let mut out = sink.emitter();
            let mut next = 0;
            let mut want = Vec::new();
            for (i, n) in sizes.iter().enumerate() {
                let name = format!("m{}", i % 3);
                want.extend((next..next + n).map(|t| (name.clone(), t)));
                p.process(metrics(vec![gauge_metric(&name, next, *n)]), &mut out)
                    .await
                    .unwrap();
                next += n;
            }
            p.flush(&mut out).await.unwrap();
            let mut got = Vec::new();
            for b in sink.take() {
                prop_assert!(b.items() <= max_items);
                prop_assert!(b.size_bytes() <= max_bytes || b.items() == 1);
                let SignalData::Metrics(rm) = b.data().unwrap() else { panic!() };
                for m in rm.iter().flat_map(|r| &r.scope_metrics).flat_map(|s| &s.metrics) {
                    let Some(Data::Gauge(g)) = &m.data else { panic!() };
                    got.extend(g.data_points.iter().map(|p| (m.name.clone(), p.time_unix_nano)));
                }
            }
            prop_assert_eq!(got, want);
            Ok::<(), TestCaseError>(())
        })?;
    }
}
