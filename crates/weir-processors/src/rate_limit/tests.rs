//! Tests through the public processor API (plus one ignored timing loop).

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use weir_core::otlp::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_core::otlp::resource::v1::Resource;
use weir_core::telemetry::Kind;
use weir_core::testing::CollectSink;
use weir_core::{
    Batch, BatchMeta, BuildContext, ClientInfo, ComponentConfig, Processor, ProcessorFactory,
    Signal,
};

use super::RateLimitProcessorFactory;
use weir_core::telemetry::names::PROCESSOR_RATE_LIMIT_KEYS as KEYS_GAUGE;
use weir_core::telemetry::reasons::RATE_LIMITED as DROP_REASON;

fn cx() -> BuildContext {
    BuildContext::for_test("rate_limit", Kind::Processor, &[Signal::Logs])
}

fn build(yaml: &str) -> (Box<dyn Processor>, BuildContext) {
    let cx = cx();
    let cfg = ComponentConfig::from_yaml(yaml).unwrap();
    (RateLimitProcessorFactory.build(&cfg, &cx).unwrap(), cx)
}

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn record(tenant: Option<&str>) -> LogRecord {
    LogRecord {
        attributes: tenant.map(|t| kv("tenant", t)).into_iter().collect(),
        ..Default::default()
    }
}

fn resource(service: &str, records: Vec<LogRecord>) -> ResourceLogs {
    ResourceLogs {
        resource: Some(Resource {
            attributes: vec![kv("service.name", service)],
            ..Default::default()
        }),
        scope_logs: vec![ScopeLogs {
            scope: Some(InstrumentationScope {
                name: "scope".into(),
                ..Default::default()
            }),
            log_records: records,
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn logs(n: usize) -> Batch {
    Batch::logs(
        vec![resource("svc", (0..n).map(|_| record(None)).collect())],
        BatchMeta::default(),
    )
}

fn from_client(n: usize, subject: &str) -> Batch {
    let mut client = ClientInfo::default();
    client.subject = Some(subject.into());
    let meta = BatchMeta::default().with_client(Arc::new(client));
    Batch::logs(
        vec![resource("svc", (0..n).map(|_| record(None)).collect())],
        meta,
    )
}

fn dropped(cx: &BuildContext) -> u64 {
    cx.telemetry.dropped_items(Signal::Logs, DROP_REASON).get()
}

async fn offer_steadily(
    p: &mut dyn Processor,
    sink: &CollectSink,
    key: Option<&str>,
) -> Vec<usize> {
    // 10 s of 10-item batches every millisecond: 10x the rate of 1000/s.
    let mut windows = Vec::new();
    let mut emitter = sink.emitter();
    let mut last = 0;
    for ms in 1..=10_000 {
        let b = match key {
            Some(k) => from_client(10, k),
            None => logs(10),
        };
        p.process(b, &mut emitter).await.unwrap();
        tokio::time::advance(Duration::from_millis(1)).await;
        if ms % 2000 == 0 {
            let now = sink.items();
            windows.push(now - last);
            last = now;
        }
    }
    windows
}

#[tokio::test(start_paused = true)]
async fn admitted_rate_stays_within_5_percent_over_2s_windows() {
    let (mut p, cx) = build("rate: 1000\nburst: 50\n");
    let sink = CollectSink::new();
    let windows = offer_steadily(p.as_mut(), &sink, None).await;
    assert_eq!(windows.len(), 5);
    for w in &windows {
        assert!(
            (1900..=2100).contains(w),
            "window admitted {w}, want 2000 ± 5%"
        );
    }
    assert_eq!(dropped(&cx) as usize + sink.items(), 100_000);
}

#[tokio::test(start_paused = true)]
async fn keyed_rate_applies_per_key() {
    let (mut p, _cx) = build("rate: 1000\nburst: 50\nkey: { client: subject }\n");
    let a = CollectSink::new();
    let b = CollectSink::new();
    let mut ea = a.emitter();
    let mut eb = b.emitter();
    for _ in 0..2000 {
        p.process(from_client(10, "key-a"), &mut ea).await.unwrap();
        p.process(from_client(10, "key-b"), &mut eb).await.unwrap();
        tokio::time::advance(Duration::from_millis(1)).await;
    }
    for sink in [a, b] {
        let n = sink.items();
        assert!((1900..=2100).contains(&n), "key admitted {n} in 2 s");
    }
}

#[tokio::test(start_paused = true)]
async fn million_distinct_keys_leave_the_table_at_max_keys() {
    let (mut p, cx) = build("rate: 10\nmax_keys: 1000\nkey: { client: subject }\n");
    let sink = CollectSink::new();
    let mut emitter = sink.emitter();
    let meta = BatchMeta::default();
    for i in 0..1_000_000u32 {
        let mut client = ClientInfo::default();
        client.subject = Some(i.to_string().into());
        let b = Batch::logs(
            vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord::default()],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            meta.clone().with_client(Arc::new(client)),
        );
        p.process(b, &mut emitter).await.unwrap();
    }
    let keys = cx
        .telemetry
        .gauge(KEYS_GAUGE, Some(Signal::Logs), &[])
        .get();
    assert_eq!(keys, 1000);
    // Every key was new, so every record found a full bucket.
    assert_eq!(sink.items(), 1_000_000);
}

#[tokio::test(start_paused = true)]
async fn eviction_keeps_recently_used_keys() {
    let (mut p, cx) = build("rate: 1\nburst: 1\nmax_keys: 2\nkey: { client: subject }\n");
    let sink = CollectSink::new();
    let mut e = sink.emitter();
    p.process(from_client(1, "hot"), &mut e).await.unwrap();
    p.process(from_client(1, "cold"), &mut e).await.unwrap();
    // "hot" is used again (and refused: its bucket is empty), then new keys arrive.
    p.process(from_client(1, "hot"), &mut e).await.unwrap();
    p.process(from_client(1, "new1"), &mut e).await.unwrap();
    p.process(from_client(1, "new2"), &mut e).await.unwrap();
    assert_eq!(
        cx.telemetry
            .gauge(KEYS_GAUGE, Some(Signal::Logs), &[])
            .get(),
        2
    );
    assert_eq!(sink.items(), 4);
    assert_eq!(dropped(&cx), 1);
}

#[tokio::test(start_paused = true)]
async fn idle_keys_are_swept_on_the_timer() {
    let (mut p, cx) = build("rate: 10\nidle_timeout: 30s\nkey: { client: subject }\n");
    assert_eq!(p.timer(), Some(Duration::from_millis(7500)));
    let sink = CollectSink::new();
    let mut e = sink.emitter();
    for k in ["a", "b", "c"] {
        p.process(from_client(5, k), &mut e).await.unwrap();
    }
    tokio::time::advance(Duration::from_secs(10)).await;
    p.process(from_client(5, "c"), &mut e).await.unwrap();
    tokio::time::advance(Duration::from_secs(25)).await;
    p.on_timer(&mut e).await.unwrap();
    let gauge = cx.telemetry.gauge(KEYS_GAUGE, Some(Signal::Logs), &[]);
    assert_eq!(gauge.get(), 1, "a and b idle for 35 s, c for 25 s");
    tokio::time::advance(Duration::from_secs(10)).await;
    p.on_timer(&mut e).await.unwrap();
    assert_eq!(gauge.get(), 0);
    let (global, _) = build("rate: 10\n");
    assert_eq!(global.timer(), None);
}

#[tokio::test(start_paused = true)]
async fn delay_loses_nothing_and_paces_output() {
    let (mut p, cx) = build("rate: 100\nburst: 10\non_excess: delay\n");
    let sink = CollectSink::new();
    let mut e = sink.emitter();
    let start = Instant::now();
    for _ in 0..50 {
        p.process(logs(10), &mut e).await.unwrap();
    }
    assert_eq!(sink.items(), 500);
    assert_eq!(dropped(&cx), 0);
    let delayed = cx
        .telemetry
        .counter(
            weir_core::telemetry::names::PROCESSOR_RATE_LIMIT_DELAYED_ITEMS,
            Some(Signal::Logs),
            &[],
        )
        .get();
    assert_eq!(delayed, 490, "all but the first burst waited");
    let took = start.elapsed();
    // The first 10 go at once, the other 490 at 100/s.
    assert!(
        took >= Duration::from_millis(4800) && took <= Duration::from_millis(5000),
        "took {took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn delay_with_split_keys_loses_nothing() {
    let (mut p, cx) =
        build("rate: 5\nburst: 5\non_excess: delay\nkey: { record_attribute: tenant }\n");
    let sink = CollectSink::new();
    let mut e = sink.emitter();
    for i in 0..20 {
        let recs = (0..6)
            .map(|j| match (i + j) % 3 {
                0 => record(Some("a")),
                1 => record(Some("b")),
                _ => record(None),
            })
            .collect();
        let b = Batch::logs(vec![resource("svc", recs)], BatchMeta::default());
        p.process(b, &mut e).await.unwrap();
    }
    assert_eq!(sink.items(), 120);
    assert_eq!(dropped(&cx), 0);
}

#[tokio::test(start_paused = true)]
async fn drop_counts_rate_limited() {
    let (mut p, cx) = build("rate: 10\nburst: 10\n");
    let sink = CollectSink::new();
    let mut e = sink.emitter();
    for _ in 0..5 {
        p.process(logs(4), &mut e).await.unwrap();
    }
    assert_eq!(sink.items(), 8);
    assert_eq!(dropped(&cx), 12);
    // Refill: 1 s later 10 tokens are back.
    tokio::time::advance(Duration::from_secs(1)).await;
    p.process(logs(4), &mut e).await.unwrap();
    assert_eq!(sink.items(), 12);
}

#[tokio::test(start_paused = true)]
async fn units_items_bytes_batches() {
    // items: 25 tokens take two 10-item batches.
    let (mut p, _) = build("rate: 0.001\nburst: 25\nunit: items\n");
    let sink = CollectSink::new();
    for _ in 0..5 {
        p.process(logs(10), &mut sink.emitter()).await.unwrap();
    }
    assert_eq!(sink.take().len(), 2);

    // batches: 3 tokens take three batches whatever their size.
    let (mut p, _) = build("rate: 0.001\nburst: 3\nunit: batches\n");
    for _ in 0..5 {
        p.process(logs(100), &mut sink.emitter()).await.unwrap();
    }
    assert_eq!(sink.take().len(), 3);

    // bytes: room for four batches' encoded size.
    let size = logs(10).size_bytes();
    let (mut p, _) = build(&format!(
        "rate: 0.001\nburst: {}\nunit: bytes\n",
        size * 4 + size / 2
    ));
    for _ in 0..10 {
        p.process(logs(10), &mut sink.emitter()).await.unwrap();
    }
    assert_eq!(sink.take().len(), 4);
}

#[tokio::test(start_paused = true)]
async fn oversized_batch_passes_on_a_full_bucket_and_leaves_debt() {
    let (mut p, cx) = build("rate: 10\nburst: 10\n");
    let sink = CollectSink::new();
    let mut e = sink.emitter();
    p.process(logs(30), &mut e).await.unwrap();
    assert_eq!(sink.items(), 30);
    // 20 tokens of debt: 2 s until even one token.
    tokio::time::advance(Duration::from_millis(2500)).await;
    p.process(logs(5), &mut e).await.unwrap();
    p.process(logs(5), &mut e).await.unwrap();
    assert_eq!(sink.items(), 35);
    assert_eq!(dropped(&cx), 5);
}

#[tokio::test(start_paused = true)]
async fn record_attribute_splits_and_keeps_structure() {
    let (mut p, cx) = build("rate: 0.001\nburst: 5\nkey: { record_attribute: tenant }\n");
    let sink = CollectSink::new();
    let mut e = sink.emitter();
    let only_a = Batch::logs(
        vec![resource("svc", (0..5).map(|_| record(Some("a"))).collect())],
        BatchMeta::default(),
    );
    p.process(only_a, &mut e).await.unwrap();
    assert_eq!(sink.take().len(), 1);
    let mixed = Batch::logs(
        vec![resource(
            "svc",
            vec![
                record(Some("a")),
                record(Some("b")),
                record(Some("a")),
                record(Some("b")),
            ],
        )],
        BatchMeta::default(),
    );
    p.process(mixed, &mut e).await.unwrap();
    let out = sink.take();
    assert_eq!(out.len(), 1, "tenant a is out of tokens, b passes");
    let weir_core::SignalData::Logs(rl) = out[0].data().unwrap() else {
        panic!("logs expected")
    };
    assert_eq!(
        rl[0].resource.as_ref().unwrap().attributes[0],
        kv("service.name", "svc")
    );
    assert_eq!(rl[0].scope_logs[0].scope.as_ref().unwrap().name, "scope");
    let recs = &rl[0].scope_logs[0].log_records;
    assert_eq!(recs.len(), 2);
    assert!(recs.iter().all(|r| r.attributes[0] == kv("tenant", "b")));
    assert_eq!(dropped(&cx), 2);
}

#[tokio::test(start_paused = true)]
async fn resource_attribute_keys_each_resource() {
    let (mut p, cx) = build("rate: 0.001\nburst: 3\nkey: { resource_attribute: service.name }\n");
    let sink = CollectSink::new();
    let mut e = sink.emitter();
    let b = Batch::logs(
        vec![
            resource("api", (0..3).map(|_| record(None)).collect()),
            resource("db", (0..3).map(|_| record(None)).collect()),
            resource("api", (0..1).map(|_| record(None)).collect()),
        ],
        BatchMeta::default(),
    );
    p.process(b, &mut e).await.unwrap();
    // api: 4 items need min(4, 3) = 3 tokens; passes, leaves debt. db: 3 passes.
    assert_eq!(sink.items(), 7);
    let b = Batch::logs(
        vec![
            resource("db", vec![record(None)]),
            resource("web", vec![record(None)]),
        ],
        BatchMeta::default(),
    );
    p.process(b, &mut e).await.unwrap();
    assert_eq!(sink.items(), 8);
    assert_eq!(dropped(&cx), 1);
}

#[test]
fn config_errors_name_their_path() {
    let cx = cx();
    let err = |yaml: &str| {
        let cfg = ComponentConfig::from_yaml(yaml).unwrap();
        match RateLimitProcessorFactory.build(&cfg, &cx) {
            Ok(_) => panic!("{yaml:?} should fail"),
            Err(e) => e,
        }
    };
    assert_eq!(err("rate: 0").path.as_deref(), Some("rate"));
    assert_eq!(err("rate: -1").path.as_deref(), Some("rate"));
    assert!(err("burst: 5").message.contains("rate"));
    assert_eq!(err("rate: 1\nburst: 0").path.as_deref(), Some("burst"));
    assert_eq!(err("rate: 1\nunit: furlongs").path.as_deref(), Some("unit"));
    assert_eq!(
        err("rate: 1\non_excess: queue").path.as_deref(),
        Some("on_excess")
    );
    assert_eq!(
        err("rate: 1\nmax_keys: 0").path.as_deref(),
        Some("max_keys")
    );
    assert_eq!(
        err("rate: 1\nidle_timeout: soon").path.as_deref(),
        Some("idle_timeout")
    );
    assert_eq!(
        err("rate: 1\nidle_timeout: 0s").path.as_deref(),
        Some("idle_timeout")
    );
    assert!(err("rate: 1\nrte: 2").message.contains("rte"));
    let e = err("rate: 1\nkey: { header: x }");
    assert_eq!(e.path.as_deref(), Some("key.header"), "{e}");
    let e = err("rate: 1\nkey: {}");
    assert_eq!(e.path.as_deref(), Some("key"), "{e}");
    assert!(e.message.contains("exactly one"), "{e}");
    let e = err("rate: 1\nkey: { client: addr }");
    assert_eq!(e.path.as_deref(), Some("key.client"), "{e}");
    let e = err("rate: 1\nkey: { record_attribute: '' }");
    assert_eq!(e.path.as_deref(), Some("key.record_attribute"));

    let metrics = BuildContext::for_test("rate_limit", Kind::Processor, &[Signal::Metrics]);
    let cfg = ComponentConfig::from_yaml("rate: 1\nkey: { record_attribute: tenant }").unwrap();
    let e = RateLimitProcessorFactory
        .build(&cfg, &metrics)
        .err()
        .expect("refused on metrics");
    assert_eq!(e.path.as_deref(), Some("key.record_attribute"));
    let cfg =
        ComponentConfig::from_yaml("rate: 1\nkey: { resource_attribute: host.name }").unwrap();
    assert!(RateLimitProcessorFactory.build(&cfg, &metrics).is_ok());
}

#[tokio::test(start_paused = true)]
async fn record_attribute_splits_spans() {
    use weir_core::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span};
    let cx = BuildContext::for_test("rate_limit", Kind::Processor, &[Signal::Traces]);
    let cfg =
        ComponentConfig::from_yaml("rate: 0.001\nburst: 2\nkey: { record_attribute: tenant }")
            .unwrap();
    let mut p = RateLimitProcessorFactory.build(&cfg, &cx).unwrap();
    let span = |t: &str| Span {
        attributes: vec![kv("tenant", t)],
        ..Default::default()
    };
    let batch = Batch::traces(
        vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![span("a"), span("a"), span("a"), span("b")],
                ..Default::default()
            }],
            ..Default::default()
        }],
        BatchMeta::default(),
    );
    let sink = CollectSink::new();
    p.process(batch, &mut sink.emitter()).await.unwrap();
    // a: 3 spans need min(3, 2) tokens and pass; b passes.
    assert_eq!(sink.take().len(), 2);
    let again = Batch::traces(
        vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![span("a"), span("b")],
                ..Default::default()
            }],
            ..Default::default()
        }],
        BatchMeta::default(),
    );
    p.process(again, &mut sink.emitter()).await.unwrap();
    assert_eq!(sink.items(), 1, "a is in debt, b has a token left");
    assert_eq!(
        cx.telemetry
            .dropped_items(Signal::Traces, DROP_REASON)
            .get(),
        1
    );
}

/// `b` as its protobuf bytes, as the OTLP receiver hands batches on.
fn encoded(b: Batch) -> Batch {
    let items = b.items();
    Batch::from_encoded(b.signal(), b.to_protobuf(), items, BatchMeta::default())
}

#[tokio::test(start_paused = true)]
async fn keys_are_read_from_received_bytes_without_decoding() {
    for key in [
        "{ resource_attribute: service.name }",
        "{ record_attribute: tenant }",
    ] {
        let (mut p, cx) = build(&format!("rate: 10\nburst: 10\nkey: {key}\n"));
        let sink = CollectSink::new();
        let mut e = sink.emitter();
        // Two keys (by resource, and by record), ten items each a second.
        for (svc, tenant) in [("a", "t1"), ("b", "t2"), ("a", "t1"), ("b", "t2")] {
            let recs = (0..5).map(|_| record(Some(tenant))).collect();
            let b = encoded(Batch::logs(vec![resource(svc, recs)], BatchMeta::default()));
            p.process(b, &mut e).await.unwrap();
        }
        let out = sink.take();
        assert_eq!(
            out.len(),
            4,
            "{key}: each key's burst holds its two batches"
        );
        for b in &out {
            assert!(
                b.received_bytes().is_some() && !b.is_decoded(),
                "{key}: a one-key batch passes in its bytes, undecoded"
            );
        }
        // Over the burst now, for both keys.
        for svc in ["a", "b"] {
            let tenant = if svc == "a" { "t1" } else { "t2" };
            let recs = (0..5).map(|_| record(Some(tenant))).collect();
            let b = encoded(Batch::logs(vec![resource(svc, recs)], BatchMeta::default()));
            p.process(b, &mut e).await.unwrap();
        }
        assert_eq!(dropped(&cx), 10, "{key}");
    }
}

#[tokio::test(start_paused = true)]
async fn parts_of_a_split_request_carry_its_acknowledgement() {
    use weir_core::ack::{AckFailure, ack_pair};
    let (mut p, _cx) = build("rate: 1000\nburst: 1000\nkey: { record_attribute: tenant }\n");
    let sink = CollectSink::new();
    let mut e = sink.emitter();
    let (token, waiter) = ack_pair();
    let recs = vec![record(Some("t1")), record(Some("t2")), record(Some("t1"))];
    let b = Batch::logs(
        vec![resource("svc", recs)],
        BatchMeta::default().with_ack(token),
    );
    p.process(b, &mut e).await.unwrap();
    let mut parts = sink.take();
    assert_eq!(parts.len(), 2, "one part per tenant");
    assert!(parts.iter().all(|b| b.meta().acks.len() == 1));
    parts[0].meta_mut().acks.fail("permanent");
    drop(parts);
    assert_eq!(waiter.wait().await, Err(AckFailure("permanent")));

    // Dropped over the limit on purpose: settled as done, not failed.
    let (mut p, _cx) = build("rate: 1\nburst: 2\n");
    p.process(logs(2), &mut e).await.unwrap();
    let (token, waiter) = ack_pair();
    let b = Batch::logs(
        vec![resource("svc", vec![record(None), record(None)])],
        BatchMeta::default().with_ack(token),
    );
    p.process(b, &mut e).await.unwrap();
    assert_eq!(sink.items(), 2, "the second is over the burst");
    assert_eq!(waiter.wait().await, Ok(()));
}
