//! `sample` through its public processor API.

use std::collections::BTreeSet;

use weir_core::otlp::common::v1::{AnyValue, KeyValue, any_value::Value};
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_core::otlp::resource::v1::Resource;
use weir_core::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, status};
use weir_core::telemetry::{Kind, Metric, names};
use weir_core::testing::CollectSink;
use weir_core::{
    Batch, BatchMeta, BuildContext, ComponentConfig, ConfigError, Processor, ProcessorFactory,
    Signal, SignalData,
};

use super::hash::Rng;
use super::{SAMPLE_DECISIONS, SAMPLED_OUT, SAMPLING_RATIO, SampleProcessorFactory};

fn context() -> BuildContext {
    BuildContext::for_test("sample", Kind::Processor, &[Signal::Logs, Signal::Traces])
}

fn build(yaml: &str, cx: &BuildContext) -> Box<dyn Processor> {
    let cfg = ComponentConfig::from_yaml(yaml).unwrap();
    match SampleProcessorFactory.build(&cfg, cx) {
        Ok(p) => p,
        Err(e) => panic!("config `{yaml}` refused: {e}"),
    }
}

fn build_err(yaml: &str) -> ConfigError {
    let cfg = ComponentConfig::from_yaml(yaml).unwrap();
    match SampleProcessorFactory.build(&cfg, &context()) {
        Ok(_) => panic!("config `{yaml}` accepted"),
        Err(e) => e,
    }
}

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn s(v: &str) -> Value {
    Value::StringValue(v.into())
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

fn ratio_of(attrs: &[KeyValue]) -> Option<f64> {
    match attr(attrs, SAMPLING_RATIO) {
        Some(Value::DoubleValue(d)) => Some(*d),
        None => None,
        other => panic!("sampling.ratio is {other:?}"),
    }
}

fn span(trace_id: [u8; 16], attributes: Vec<KeyValue>) -> Span {
    Span {
        trace_id: trace_id.to_vec(),
        span_id: vec![1; 8],
        name: "op".into(),
        attributes,
        ..Default::default()
    }
}

fn traces(resource: Vec<KeyValue>, spans: Vec<Span>) -> Batch {
    Batch::traces(
        vec![ResourceSpans {
            resource: Some(Resource {
                attributes: resource,
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
        BatchMeta::default(),
    )
}

fn logs(resource: Vec<KeyValue>, records: Vec<LogRecord>) -> Batch {
    Batch::logs(
        vec![ResourceLogs {
            resource: Some(Resource {
                attributes: resource,
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

fn record(severity: i32, attributes: Vec<KeyValue>) -> LogRecord {
    LogRecord {
        severity_number: severity,
        attributes,
        ..Default::default()
    }
}

/// Runs one batch through `p` and returns what came out.
async fn run(p: &mut Box<dyn Processor>, batch: Batch) -> Vec<Batch> {
    let sink = CollectSink::new();
    p.process(batch, &mut sink.emitter()).await.unwrap();
    sink.take()
}

fn out_spans(batches: Vec<Batch>) -> Vec<Span> {
    let mut out = Vec::new();
    for b in batches {
        let SignalData::Traces(rs) = b.into_data().unwrap() else {
            panic!("not traces")
        };
        for r in rs {
            for ss in r.scope_spans {
                assert!(!ss.spans.is_empty(), "empty scopes are removed");
                out.extend(ss.spans);
            }
        }
    }
    out
}

fn out_logs(batches: Vec<Batch>) -> Vec<LogRecord> {
    let mut out = Vec::new();
    for b in batches {
        let SignalData::Logs(rl) = b.into_data().unwrap() else {
            panic!("not logs")
        };
        for r in rl {
            for sl in r.scope_logs {
                out.extend(sl.log_records);
            }
        }
    }
    out
}

fn counter(cx: &BuildContext, name: &str, signal: Signal, extra: &[(&str, &str)]) -> u64 {
    cx.telemetry
        .registry()
        .snapshot()
        .into_iter()
        .find(|s| {
            s.name == name
                && s.labels
                    .iter()
                    .any(|(k, v)| *k == "signal" && v == signal.as_str())
                && extra
                    .iter()
                    .all(|(k, v)| s.labels.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .map(|s| match s.metric {
            Metric::Counter(c) => c.get(),
            other => panic!("{name} is {other:?}"),
        })
        .unwrap_or_else(|| panic!("no series {name} {signal} {extra:?}"))
}

fn trace_ids(n: usize, seed: u64) -> Vec<[u8; 16]> {
    let mut rng = Rng::seeded(seed);
    (0..n)
        .map(|_| {
            let mut id = [0; 16];
            id[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
            id[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
            id
        })
        .collect()
}

/// Kept trace ids after running every id (as `spans_per_trace` spans, spread
/// over batches of 300 spans so traces straddle batches).
async fn kept_traces(yaml: &str, ids: &[[u8; 16]], spans_per_trace: usize) -> Vec<[u8; 16]> {
    let cx = context();
    let mut p = build(yaml, &cx);
    let all: Vec<Span> = ids
        .iter()
        .flat_map(|id| (0..spans_per_trace).map(|_| span(*id, vec![])))
        .collect();
    let mut kept = Vec::new();
    for chunk in all.chunks(300) {
        for sp in out_spans(run(&mut p, traces(vec![], chunk.to_vec())).await) {
            kept.push(<[u8; 16]>::try_from(&sp.trace_id[..]).unwrap());
        }
    }
    kept
}

#[tokio::test]
async fn two_instances_with_one_seed_keep_exactly_the_same_traces() {
    let ids = trace_ids(10_000, 1);
    let yaml = "ratio: 0.3\nhash_seed: 42";
    let a = kept_traces(yaml, &ids, 3).await;
    let b = kept_traces(yaml, &ids, 3).await;
    assert_eq!(a, b);
    // Whole traces: every kept trace kept all three of its spans.
    let set: BTreeSet<_> = a.iter().copied().collect();
    assert_eq!(a.len(), set.len() * 3);
    assert!((2_500..3_500).contains(&set.len()), "{}", set.len());
    // Another seed picks other traces.
    let c: BTreeSet<_> = kept_traces("ratio: 0.3\nhash_seed: 43", &ids, 1)
        .await
        .into_iter()
        .collect();
    assert_ne!(set, c);
}

#[tokio::test]
async fn a_ratio_of_0_1_keeps_ten_percent_of_100_000_traces() {
    let cx = context();
    let mut p = build("ratio: 0.1", &cx);
    let ids = trace_ids(100_000, 7);
    let mut kept = 0;
    for chunk in ids.chunks(1000) {
        let spans = chunk.iter().map(|id| span(*id, vec![])).collect();
        let out = out_spans(run(&mut p, traces(vec![], spans)).await);
        for sp in &out {
            assert_eq!(ratio_of(&sp.attributes), Some(0.1));
        }
        kept += out.len() as u64;
    }
    assert!((9_000..=11_000).contains(&kept), "kept {kept}");
    let dropped = 100_000 - kept;
    let decisions = |outcome| {
        counter(
            &cx,
            SAMPLE_DECISIONS,
            Signal::Traces,
            &[("rule", "ratio"), ("outcome", outcome)],
        )
    };
    assert_eq!(decisions("kept"), kept);
    assert_eq!(decisions("dropped"), dropped);
    let reason = [("reason", SAMPLED_OUT)];
    assert_eq!(
        counter(&cx, names::PROCESSOR_DROPPED_ITEMS, Signal::Traces, &reason),
        dropped
    );
}

#[tokio::test]
async fn error_spans_and_severe_logs_are_kept_at_any_ratio_when_a_rule_says_so() {
    let cx = context();
    let yaml = "ratio: 0.0\nrules:\n  - { name: errors, status: error }\n  - { name: severe, min_severity: warn }";
    let mut p = build(yaml, &cx);
    let ids = trace_ids(200, 3);
    let spans = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let mut sp = span(*id, vec![]);
            if i % 2 == 0 {
                sp.status = Some(Status {
                    code: status::StatusCode::Error as i32,
                    ..Default::default()
                });
            }
            sp
        })
        .collect();
    let kept = out_spans(run(&mut p, traces(vec![], spans)).await);
    assert_eq!(kept.len(), 100);
    assert!(
        kept.iter()
            .all(|sp| sp.status.is_some() && ratio_of(&sp.attributes).is_none())
    );

    let mut text_only = record(0, vec![]);
    text_only.severity_text = "ERROR".into();
    let records = vec![
        record(9, vec![]),
        record(13, vec![]),
        record(21, vec![]),
        text_only,
        record(5, vec![]),
    ];
    let kept = out_logs(run(&mut p, logs(vec![], records)).await);
    assert_eq!(kept.len(), 3);
    assert!(
        kept.iter()
            .all(|r| r.severity_number >= 13 || r.severity_text == "ERROR")
    );

    let by = |signal, rule, outcome| {
        counter(
            &cx,
            SAMPLE_DECISIONS,
            signal,
            &[("rule", rule), ("outcome", outcome)],
        )
    };
    assert_eq!(by(Signal::Traces, "errors", "kept"), 100);
    assert_eq!(by(Signal::Traces, "ratio", "dropped"), 100);
    assert_eq!(by(Signal::Logs, "severe", "kept"), 3);
    assert_eq!(by(Signal::Logs, "ratio", "dropped"), 2);
}

#[tokio::test]
async fn drop_and_keep_rules_match_values_and_patterns_on_record_then_resource() {
    let cx = context();
    let yaml = r#"
ratio: 0.0
rules:
  - { name: health, attribute: http.route, equals: /healthz, action: drop }
  - { name: checkout, attribute: service.name, matches: "^checkout-" }
  - { name: teapot, attribute: http.status_code, equals: 418 }
"#;
    let mut p = build(yaml, &cx);
    let id = trace_ids(1, 9)[0];
    let spans = vec![
        span(id, vec![kv("http.route", s("/healthz"))]),
        span(id, vec![kv("http.route", s("/cart"))]),
        span(id, vec![kv("http.status_code", Value::IntValue(418))]),
        span(id, vec![kv("service.name", s("checkout-v2"))]),
    ];
    // The resource says checkout: every span but the health check is kept.
    let kept = out_spans(
        run(
            &mut p,
            traces(vec![kv("service.name", s("checkout-api"))], spans.clone()),
        )
        .await,
    );
    assert_eq!(kept.len(), 3);
    assert!(
        kept.iter()
            .all(|sp| attr(&sp.attributes, "http.route") != Some(&s("/healthz")))
    );
    // Another resource: only the record-level matches are kept.
    let kept = out_spans(run(&mut p, traces(vec![kv("service.name", s("cart"))], spans)).await);
    assert_eq!(kept.len(), 2);
    assert_eq!(
        counter(
            &cx,
            SAMPLE_DECISIONS,
            Signal::Traces,
            &[("rule", "health"), ("outcome", "dropped")]
        ),
        2
    );

    // A drop rule wins over a ratio of 1.0.
    let cx = context();
    let mut p = build(
        "rules: [{ attribute: level, equals: debug, action: drop }]",
        &cx,
    );
    let records = vec![
        record(9, vec![kv("level", s("debug"))]),
        record(9, vec![kv("level", s("info"))]),
    ];
    assert_eq!(out_logs(run(&mut p, logs(vec![], records)).await).len(), 1);
    let dropped = [("rule", "rule_0"), ("outcome", "dropped")];
    assert_eq!(counter(&cx, SAMPLE_DECISIONS, Signal::Logs, &dropped), 1);
    assert_eq!(
        counter(
            &cx,
            names::PROCESSOR_DROPPED_ITEMS,
            Signal::Logs,
            &[("reason", SAMPLED_OUT)]
        ),
        1
    );
}

#[tokio::test]
async fn ratio_by_picks_a_ratio_per_attribute_value() {
    let cx = context();
    let yaml = r#"
ratio: 1.0
rules:
  - name: tenants
    ratio_by: { attribute: tenant, ratios: { gold: 1.0, free: 0.0 }, default: 0.5 }
"#;
    let mut p = build(yaml, &cx);
    let ids = trace_ids(4_000, 11);
    let spans: Vec<Span> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let attrs = match i % 4 {
                0 => vec![kv("tenant", s("gold"))],
                1 => vec![kv("tenant", s("free"))],
                2 => vec![kv("tenant", s("silver"))],
                _ => vec![],
            };
            span(*id, attrs)
        })
        .collect();
    let kept = out_spans(run(&mut p, traces(vec![], spans)).await);
    let of = |t: Option<&str>| {
        kept.iter()
            .filter(|sp| attr(&sp.attributes, "tenant") == t.map(s).as_ref())
            .collect::<Vec<_>>()
    };
    let gold = of(Some("gold"));
    assert_eq!(gold.len(), 1_000);
    assert!(gold.iter().all(|sp| ratio_of(&sp.attributes).is_none()));
    assert!(of(Some("free")).is_empty());
    let silver = of(Some("silver"));
    assert!((400..600).contains(&silver.len()), "{}", silver.len());
    assert!(
        silver
            .iter()
            .all(|sp| ratio_of(&sp.attributes) == Some(0.5))
    );
    // Without the attribute, the rule does not match: the top-level ratio (1.0) applies.
    assert_eq!(of(None).len(), 1_000);
    let rule = |outcome| {
        counter(
            &cx,
            SAMPLE_DECISIONS,
            Signal::Traces,
            &[("rule", "tenants"), ("outcome", outcome)],
        )
    };
    assert_eq!(rule("kept"), 1_000 + silver.len() as u64);
    assert_eq!(rule("dropped"), 1_000 + 1_000 - silver.len() as u64);

    // The resource attribute counts too, and `default` falls back to `ratio`.
    let mut p = build(
        "ratio: 0.0\nrules: [{ ratio_by: { attribute: tenant, ratios: { gold: 1.0 } } }]",
        &context(),
    );
    let spans = ids[..10].iter().map(|id| span(*id, vec![])).collect();
    assert_eq!(
        out_spans(run(&mut p, traces(vec![kv("tenant", s("gold"))], spans)).await).len(),
        10
    );
    let spans = ids[..10].iter().map(|id| span(*id, vec![])).collect();
    assert!(
        out_spans(run(&mut p, traces(vec![kv("tenant", s("bronze"))], spans)).await).is_empty()
    );
}

#[tokio::test]
async fn kept_items_carry_their_ratio_multiplied_by_an_earlier_samplers() {
    let mut p = build("ratio: 0.5", &context());
    let ids = trace_ids(400, 5);
    let spans = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let attrs = if i % 2 == 0 {
                vec![kv(SAMPLING_RATIO, Value::DoubleValue(0.2))]
            } else {
                vec![]
            };
            span(*id, attrs)
        })
        .collect();
    let kept = out_spans(run(&mut p, traces(vec![], spans)).await);
    assert!((150..250).contains(&kept.len()), "{}", kept.len());
    for sp in &kept {
        let n = sp
            .attributes
            .iter()
            .filter(|kv| kv.key == SAMPLING_RATIO)
            .count();
        assert_eq!(n, 1, "one attribute, never two");
        let r = ratio_of(&sp.attributes).unwrap();
        assert!(r == 0.5 || (r - 0.1).abs() < 1e-12, "{r}");
    }
    assert!(kept.iter().any(|sp| ratio_of(&sp.attributes) == Some(0.5)));

    // Two chained samplers: 0.5 then 0.4 leaves 0.2 on what both kept.
    let mut second = build("ratio: 0.4\nhash_seed: 99", &context());
    let twice = out_spans(run(&mut second, traces(vec![], kept.clone())).await);
    assert!(
        twice
            .iter()
            .filter(|sp| ratio_of(&sp.attributes) == Some(0.5 * 0.4))
            .count()
            > 0
    );
}

#[tokio::test]
async fn logs_follow_their_trace_id_else_the_hash_attribute_else_chance() {
    let yaml = "ratio: 0.5\nhash_seed: 3\nhash_attribute: user.id";
    let mut p = build(yaml, &context());
    let ids = trace_ids(1_000, 21);
    // A log with a trace id is decided exactly as that trace's spans.
    let spans = ids.iter().map(|id| span(*id, vec![])).collect();
    let kept_spans: BTreeSet<Vec<u8>> = out_spans(run(&mut p, traces(vec![], spans)).await)
        .into_iter()
        .map(|sp| sp.trace_id)
        .collect();
    let records = ids
        .iter()
        .map(|id| LogRecord {
            trace_id: id.to_vec(),
            ..record(9, vec![])
        })
        .collect();
    let kept_logs: BTreeSet<Vec<u8>> = out_logs(run(&mut p, logs(vec![], records)).await)
        .into_iter()
        .map(|r| r.trace_id)
        .collect();
    assert_eq!(kept_spans, kept_logs);

    // Without one, all records of a user share one decision, in every instance.
    let users: Vec<String> = (0..400).map(|i| format!("user-{i}")).collect();
    let batch = || {
        let records = users
            .iter()
            .flat_map(|u| (0..3).map(move |_| record(9, vec![kv("user.id", s(u))])))
            .collect();
        logs(vec![], records)
    };
    let kept_users = |out: Vec<LogRecord>| {
        let mut by_user = std::collections::BTreeMap::<String, usize>::new();
        for r in out {
            let Some(Value::StringValue(u)) = attr(&r.attributes, "user.id") else {
                panic!()
            };
            *by_user.entry(u.clone()).or_default() += 1;
        }
        assert!(
            by_user.values().all(|n| *n == 3),
            "a user's records are kept or dropped together"
        );
        by_user.into_keys().collect::<Vec<_>>()
    };
    let first = kept_users(out_logs(run(&mut p, batch()).await));
    let mut other = build(yaml, &context());
    let second = kept_users(out_logs(run(&mut other, batch()).await));
    assert_eq!(first, second);
    assert!((140..260).contains(&first.len()), "{}", first.len());

    // With neither, records are kept at random, near the ratio.
    let records = (0..10_000).map(|_| record(9, vec![])).collect();
    let n = out_logs(run(&mut p, logs(vec![], records)).await).len();
    assert!((4_700..5_300).contains(&n), "{n}");
}

#[tokio::test]
async fn keeping_everything_forwards_the_received_bytes_undecoded() {
    let cx = context();
    let mut p = build("{}", &cx);
    let data = SignalData::Logs(vec![ResourceLogs {
        scope_logs: vec![ScopeLogs {
            log_records: vec![record(9, vec![]); 5],
            ..Default::default()
        }],
        ..Default::default()
    }]);
    let mut buf = Vec::new();
    data.encode_to(&mut buf);
    let bytes = weir_core::bytes::Bytes::from(buf);
    let batch = Batch::from_encoded(Signal::Logs, bytes.clone(), 5, BatchMeta::default());
    let out = run(&mut p, batch).await;
    assert_eq!(out.len(), 1);
    assert!(!out[0].is_decoded());
    assert_eq!(out[0].received_bytes(), Some(&bytes));
    assert_eq!(
        counter(
            &cx,
            SAMPLE_DECISIONS,
            Signal::Logs,
            &[("rule", "ratio"), ("outcome", "kept")]
        ),
        5
    );
}

#[test]
fn config_errors_name_their_field() {
    let at = |yaml: &str| build_err(yaml).path;
    assert_eq!(at("ratio: 1.5").as_deref(), Some("ratio"));
    assert_eq!(at("ratio: -0.1").as_deref(), Some("ratio"));
    assert_eq!(at("ratio: .nan").as_deref(), Some("ratio"));
    assert_eq!(at("ratio: lots").as_deref(), Some("ratio"));
    let e = build_err("rules:\n  - { min_severity: warn }\n  - { attribute: a, matches: '(' }");
    assert_eq!(e.path.as_deref(), Some("rules[1].matches"));
    assert!(e.message.contains("invalid regex"), "{e}");
    assert_eq!(
        at("rules: [{ ratio_by: { attribute: t, ratios: { free: 2 } } }]").as_deref(),
        Some("rules[0].ratio_by.ratios.free")
    );
    assert_eq!(
        at("rules: [{ ratio_by: { attribute: t, default: 7 } }]").as_deref(),
        Some("rules[0].ratio_by.default")
    );
    assert_eq!(
        at("rules: [{ min_severity: loud }]").as_deref(),
        Some("rules[0].min_severity")
    );
    assert_eq!(
        at("rules: [{ min_severity: 25 }]").as_deref(),
        Some("rules[0].min_severity")
    );
    assert_eq!(
        at("rules: [{ status: ok }]").as_deref(),
        Some("rules[0].status")
    );
    assert_eq!(
        at("rules: [{ attribute: a, equals: b, action: maybe }]").as_deref(),
        Some("rules[0].action")
    );
    assert_eq!(
        at("rules: [{ min_severity: warn, status: error }]").as_deref(),
        Some("rules[0]")
    );
    assert_eq!(at("rules: [{ attribute: a }]").as_deref(), Some("rules[0]"));
    assert_eq!(
        at("rules: [{ min_severity: warn, equals: x }]").as_deref(),
        Some("rules[0].equals")
    );
    assert_eq!(
        at("rules: [{ name: ratio, status: error }]").as_deref(),
        Some("rules[0].name")
    );
    assert_eq!(
        at("rules: [{ name: a, status: error }, { name: a, min_severity: 9 }]").as_deref(),
        Some("rules[1].name")
    );
    assert_eq!(at("hash_attribute: ''").as_deref(), Some("hash_attribute"));
    assert_eq!(at("hash_seed: -1").as_deref(), Some("hash_seed"));
    let e = build_err("ratoi: 0.5");
    assert!(e.message.contains("unknown field"), "{e}");
    assert_eq!(
        at("rules: [{ status: error, colour: red }]").as_deref(),
        Some("rules[0].colour")
    );
}
