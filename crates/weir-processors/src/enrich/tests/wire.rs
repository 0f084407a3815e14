//! `enrich` on received bytes gives exactly what it gives on decoded records,
//! for random records and configs covering every step (including the ones
//! that send a record down the decoded path: JSON bodies, secrets, events).

use proptest::prelude::*;

use crate::test_support::{logs_batch, resource, traces_batch, without_empty_groups};
use weir_core::SignalData;
use weir_core::otlp::trace::v1::span::Event;

use super::*;

fn arb_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec![
            "auth",
            "Login",
            "failure",
            "u1",
            "Bearer abc.def",
            "x api_key=s3cr3t y",
            "plain",
            "***",
            "Error: boom\n  at a.B.c(B.java:1)\n  at d.E.f(E.java:2)",
        ])
        .prop_map(|s| Value::StringValue(s.into())),
        prop::sample::select(vec![200i64, 404, 503, 7]).prop_map(Value::IntValue),
        Just(Value::DoubleValue(500.0)),
        any::<bool>().prop_map(Value::BoolValue),
        Just(Value::KvlistValue(KeyValueList {
            values: vec![kv("cookie", s("sid=1")), kv("ok", s("v"))],
        })),
    ]
}

fn arb_attrs() -> impl Strategy<Value = Vec<KeyValue>> {
    prop::collection::vec(
        (
            prop::sample::select(vec![
                "domain",
                "app.action",
                "status",
                "http.response.status_code",
                "user.id",
                "user.email",
                "token",
                "legacy.id",
                "app.id",
                "exception.stacktrace",
                "exception.type",
                "note",
                "event.name",
            ]),
            arb_value(),
        ),
        0..7,
    )
    .prop_map(|v| v.into_iter().map(|(k, v)| kv(k, v)).collect())
}

fn arb_body() -> impl Strategy<Value = Option<AnyValue>> {
    prop::sample::select(vec![
        None,
        Some("User login attempt"),
        Some(r#"{"msg":"from json","level":"warn","token":"t","user.id":"u1"}"#),
        Some("  {not json"),
        Some("password=hunter2 done"),
    ])
    .prop_map(|b| b.map(|t| AnyValue { value: Some(s(t)) }))
}

fn arb_record() -> impl Strategy<Value = LogRecord> {
    (
        arb_attrs(),
        arb_body(),
        prop::sample::select(vec!["", "auth_login_failure", "db"]),
    )
        .prop_map(|(attributes, body, event)| LogRecord {
            attributes,
            body,
            event_name: event.into(),
            time_unix_nano: 5,
            ..Default::default()
        })
}

fn arb_span() -> impl Strategy<Value = Span> {
    (arb_attrs(), prop::collection::vec(arb_attrs(), 0..2)).prop_map(|(attributes, events)| Span {
        attributes,
        events: events
            .into_iter()
            .map(|attributes| Event {
                name: "exception".into(),
                attributes,
                ..Default::default()
            })
            .collect(),
        trace_id: vec![1; 16],
        ..Default::default()
    })
}

fn lookup_file() -> &'static std::path::Path {
    static FILE: std::sync::OnceLock<tempfile::NamedTempFile> = std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        writeln!(f, "user.id,team,tier\nu1,core,gold\n200,web,").unwrap();
        f
    })
    .path()
}

fn arb_config() -> impl Strategy<Value = String> {
    let attributes = prop::collection::vec(
        prop::sample::select(vec![
            "{ key: pipeline, value: edge }",
            "{ key: note, action: upsert, value: 3 }",
            "{ key: user.id, action: update, value: x }",
            "{ key: token, action: delete }",
            "{ key: legacy.id, action: rename, to: app.id }",
            "{ key: status, action: rename, to: note }",
            "{ key: user.email, action: hash }",
            "{ key: http.response.status_code, action: hash }",
            "{ key: deployment.environment.name, value: prod, target: resource }",
            "{ key: svc, action: delete, target: resource }",
        ]),
        0..5,
    );
    (
        attributes,
        any::<bool>(),
        prop::sample::select(vec![
            "",
            "das: {}",
            "das: { builtin: false, sets: [{ domain: { auth: K } }] }",
        ]),
        any::<bool>(),
        prop::sample::select(vec![
            "",
            "mask: {}",
            "mask: { values: false, patterns: ['u[0-9]'] }",
        ]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(attrs, detectors, das, json, mask, fingerprint, lookup)| {
            let mut y = format!("attributes: [{}]\n", attrs.join(", "));
            if detectors {
                y.push_str("detectors: { os: true, service_name: svc-d }\n");
            }
            for part in [das, mask] {
                if !part.is_empty() {
                    y.push_str(part);
                    y.push('\n');
                }
            }
            y.push_str(&format!(
                "parse_json_body: {json}\nfingerprint: {fingerprint}\n"
            ));
            if lookup {
                y.push_str(&format!(
                    "lookup: [{{ file: '{}', key: user.id, columns: [team, tier] }}]\n",
                    lookup_file().display()
                ));
            }
            y
        })
}

/// Runs `batch` through a fresh `enrich` of `yaml`: the data it emitted (empty
/// groups left out: they carry nothing) and how many JSON bodies it parsed.
fn run(yaml: &str, batch: Batch) -> (Vec<SignalData>, u64) {
    let in_bytes = batch.received_bytes().is_some();
    let cx = cx();
    let mut p = EnrichProcessorFactory
        .build(&ComponentConfig::from_yaml(yaml).unwrap(), &cx)
        .unwrap();
    let sink = CollectSink::new();
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(p.process(batch, &mut sink.emitter()))
        .unwrap();
    let parsed = cx
        .telemetry
        .counter(
            weir_core::telemetry::names::PROCESSOR_ENRICH_JSON_BODIES_PARSED,
            Some(Signal::Logs),
            &[],
        )
        .get();
    let batches = sink.take();
    if in_bytes {
        // The batch went the byte way (not the decoded fallback): it is
        // still encoded.
        assert!(batches.iter().all(|b| b.received_bytes().is_some()));
    }
    let data = batches
        .into_iter()
        .map(|b| without_empty_groups(b.into_data().unwrap()))
        .collect();
    (data, parsed)
}

fn both_paths(yaml: &str, signal: Signal, decoded: Batch) -> Result<(), TestCaseError> {
    let bytes = decoded.to_protobuf();
    let encoded = Batch::from_encoded(signal, bytes, decoded.items(), BatchMeta::default());
    let want = run(yaml, decoded);
    let got = run(yaml, encoded);
    prop_assert_eq!(got, want, "config:\n{}", yaml);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn logs_in_their_bytes_are_enriched_as_decoded(
        yaml in arb_config(),
        groups in prop::collection::vec(
            (arb_attrs(), any::<bool>(), prop::collection::vec(arb_record(), 0..6)), 1..3),
    ) {
        let batch = logs_batch(groups.into_iter().map(|(r, present, recs)| (present.then(|| resource(r)), recs)));
        both_paths(&yaml, Signal::Logs, batch)?;
    }

    #[test]
    fn spans_in_their_bytes_are_enriched_as_decoded(
        yaml in arb_config(),
        groups in prop::collection::vec(
            (arb_attrs(), any::<bool>(), prop::collection::vec(arb_span(), 0..6)), 1..3),
    ) {
        let batch = traces_batch(groups.into_iter().map(|(r, present, spans)| (present.then(|| resource(r)), spans)));
        both_paths(&yaml, Signal::Traces, batch)?;
    }
}
