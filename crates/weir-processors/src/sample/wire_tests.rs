//! The sampler on received bytes decides exactly as on decoded records: for
//! random batches and configs, both paths emit the same records with the same
//! attributes and count the same decisions.

use proptest::prelude::*;

use crate::test_support::{logs_batch, resource, traces_batch, without_empty_groups};
use weir_core::otlp::common::v1::{AnyValue, KeyValue, any_value::Value};
use weir_core::otlp::logs::v1::LogRecord;
use weir_core::otlp::trace::v1::{Span, Status};
use weir_core::telemetry::{Kind, Metric};
use weir_core::testing::CollectSink;
use weir_core::{
    Batch, BatchMeta, BuildContext, ComponentConfig, ProcessorFactory, Signal, SignalData,
};

use super::{SAMPLING_RATIO, SampleProcessorFactory};

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn arb_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec!["gold", "free", "/healthz", "x-canary", "other"])
            .prop_map(|s| Value::StringValue(s.into())),
        (0i64..5).prop_map(Value::IntValue),
        prop::sample::select(vec![0.5f64, 1.0, 2.0]).prop_map(Value::DoubleValue),
        any::<bool>().prop_map(Value::BoolValue),
    ]
}

fn arb_attrs() -> impl Strategy<Value = Vec<KeyValue>> {
    prop::collection::vec(
        (
            prop::sample::select(vec!["tenant", "http.route", "svc", SAMPLING_RATIO, "n"]),
            arb_value(),
        ),
        0..5,
    )
    .prop_map(|v| v.into_iter().map(|(k, v)| kv(k, v)).collect())
}

/// Records with a valid trace id (so no decision is random), a severity
/// number or only a text, and attributes.
fn arb_record() -> impl Strategy<Value = LogRecord> {
    (
        prop::array::uniform16(any::<u8>()),
        0i32..25,
        prop::sample::select(vec!["", "WARN", "error", "info"]),
        arb_attrs(),
    )
        .prop_map(|(mut id, sev, text, attributes)| {
            id[0] |= 1;
            LogRecord {
                trace_id: id.to_vec(),
                severity_number: sev,
                severity_text: text.into(),
                attributes,
                body: Some(AnyValue {
                    value: Some(Value::StringValue("m".into())),
                }),
                ..Default::default()
            }
        })
}

fn arb_span() -> impl Strategy<Value = Span> {
    (prop::array::uniform16(any::<u8>()), 0i32..3, arb_attrs()).prop_map(
        |(id, code, attributes)| Span {
            trace_id: id.to_vec(),
            span_id: vec![2; 8],
            status: (code > 0).then(|| Status {
                code,
                message: String::new(),
            }),
            attributes,
            ..Default::default()
        },
    )
}

fn arb_config() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![0.0f64, 0.1, 0.5, 0.9, 1.0]),
        any::<u32>(),
        prop::collection::vec(
            prop::sample::select(vec![
                "{ status: error }",
                "{ min_severity: warn }",
                "{ attribute: http.route, equals: /healthz, action: drop }",
                "{ attribute: tenant, matches: '^g' }",
                "{ attribute: n, equals: 3 }",
                "{ ratio_by: { attribute: tenant, ratios: { gold: 1.0, free: 0.2 }, default: 0.5 } }",
            ]),
            0..4,
        ),
    )
        .prop_map(|(ratio, seed, rules)| {
            let rules: Vec<String> = rules
                .iter()
                .enumerate()
                .map(|(i, r)| format!("{{ name: r{i}, {} ", &r[1..]))
                .collect();
            format!(
                "{{ ratio: {ratio}, hash_seed: {seed}, rules: [{}] }}",
                rules.join(", ")
            )
        })
}

/// Runs `batch` through a fresh sampler of `yaml`; the data it emitted and
/// its decision counters.
fn run(yaml: &str, signal: Signal, batch: Batch) -> (Vec<SignalData>, Vec<(String, u64)>) {
    let cx = BuildContext::for_test("sample", Kind::Processor, &[signal]);
    let cfg = ComponentConfig::from_yaml(yaml).unwrap();
    let mut p = SampleProcessorFactory.build(&cfg, &cx).unwrap();
    let sink = CollectSink::new();
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(p.process(batch, &mut sink.emitter()))
        .unwrap();
    // Groups left empty carry nothing: the decoded path drops them, the wire
    // path forwards an unchanged batch as it came. Compare without them.
    let data = sink
        .take()
        .into_iter()
        .map(|b| without_empty_groups(b.into_data().unwrap()))
        .collect();
    let mut counters: Vec<(String, u64)> = cx
        .telemetry
        .registry()
        .snapshot()
        .into_iter()
        .filter_map(|s| match s.metric {
            Metric::Counter(c) => Some((format!("{}{:?}", s.name, s.labels), c.get())),
            _ => None,
        })
        .collect();
    counters.sort();
    (data, counters)
}

fn both_paths(yaml: &str, signal: Signal, decoded: Batch) -> Result<(), TestCaseError> {
    let bytes = decoded.to_protobuf();
    let encoded = Batch::from_encoded(signal, bytes, decoded.items(), BatchMeta::default());
    let want = run(yaml, signal, decoded);
    let got = run(yaml, signal, encoded);
    prop_assert_eq!(got, want, "config {}", yaml);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn logs_on_the_wire_are_sampled_as_decoded(
        yaml in arb_config(),
        groups in prop::collection::vec((arb_attrs(), prop::collection::vec(arb_record(), 0..12)), 1..4),
    ) {
        let batch = logs_batch(groups.into_iter().map(|(r, recs)| (Some(resource(r)), recs)));
        both_paths(&yaml, Signal::Logs, batch)?;
    }

    #[test]
    fn spans_on_the_wire_are_sampled_as_decoded(
        yaml in arb_config(),
        groups in prop::collection::vec((arb_attrs(), prop::collection::vec(arb_span(), 0..12)), 1..4),
    ) {
        let batch = traces_batch(groups.into_iter().map(|(r, spans)| (Some(resource(r)), spans)));
        both_paths(&yaml, Signal::Traces, batch)?;
    }
}
