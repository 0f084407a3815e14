//! `write_fitted_entry` writes exactly what `record_to_entry` + `fit` +
//! `serde_json::to_writer` write.

use proptest::prelude::*;
use weir_core::otlp::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList, any_value};
use weir_core::otlp::logs::v1::LogRecord;

use super::write::value_bound;
use super::{any_value_to_json, keys, record_to_entry, write_fitted_entry};
use crate::fit::{self, fit};
use crate::pyjson;
use crate::settings::Constraints;

const NOW: u64 = 1_765_000_000_000_000_000;

/// What the exporter wrote before the direct writer.
fn reference(
    resource: &[KeyValue],
    record: &LogRecord,
    c: &Constraints,
    now: u64,
) -> (Vec<u8>, bool) {
    let mut entry = record_to_entry(resource, record);
    let cut = fit(&mut entry, c, now);
    (serde_json::to_vec(&entry).unwrap(), cut)
}

fn direct(resource: &[KeyValue], record: &LogRecord, c: &Constraints, now: u64) -> (Vec<u8>, bool) {
    let mut out = b"prefix,".to_vec();
    let cut = write_fitted_entry(&mut out, resource, record, c, now).unwrap();
    (out.split_off(7), cut)
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        prop::sample::select(vec![
            "exception",
            "endpoint",
            "logger",
            "network",
            "custom",
            "high",
            "low",
            "standard",
            "critical",
            "Error",
            "a\"b\\c\n\t\r",
            "\u{1}\u{7f}\u{8}\u{c}",
            "héllo 日本 😀",
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "00f067aa0ba902b7",
            "GET",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,12}",
        any::<String>(),
        (
            1usize..400,
            prop::sample::select(vec!["x", "é", "😀", "\"", "\u{1}"])
        )
            .prop_map(|(n, c)| c.repeat(n)),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            keys::EXCEPTION_TYPE, keys::EXCEPTION_MESSAGE, keys::EXCEPTION_STACKTRACE,
            keys::DEPLOYMENT_ENVIRONMENT_NAME, keys::DEPLOYMENT_ENVIRONMENT,
            keys::SERVICE_VERSION, keys::SERVICE_NAME, keys::LOG_TYPE, keys::IMPORTANCE,
            keys::SDK_VERSION, keys::PLATFORM, keys::PLATFORM_VERSION, keys::TRACE_ID,
            keys::SPAN_ID, "endpoint", "method", "path", "status_code", "duration_ms",
            fit::TRUNCATED, fit::ORIGINAL_TIMESTAMP, "a", "b", "B", "é", "", "a.b",
        ])
        .prop_map(str::to_owned),
        1 => "\\PC{0,6}",
    ]
}

fn scalar() -> impl Strategy<Value = Option<any_value::Value>> {
    use any_value::Value as V;
    prop_oneof![
        Just(None),
        text().prop_map(|s| Some(V::StringValue(s))),
        any::<bool>().prop_map(|b| Some(V::BoolValue(b))),
        any::<i64>().prop_map(|i| Some(V::IntValue(i))),
        prop_oneof![
            any::<f64>(),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(-0.0),
            Just(1e16),
            Just(5e-324),
        ]
        .prop_map(|d| Some(V::DoubleValue(d))),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| Some(V::BytesValue(b))),
        any::<i32>().prop_map(|i| Some(V::StringValueStrindex(i))),
    ]
}

fn value() -> impl Strategy<Value = AnyValue> {
    use any_value::Value as V;
    scalar()
        .prop_map(|value| AnyValue { value })
        .prop_recursive(3, 24, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(|values| AnyValue {
                    value: Some(V::ArrayValue(ArrayValue { values })),
                }),
                prop::collection::vec((key(), prop::option::of(inner)), 0..5).prop_map(|pairs| {
                    AnyValue {
                        value: Some(V::KvlistValue(KeyValueList {
                            values: pairs
                                .into_iter()
                                .map(|(key, value)| KeyValue {
                                    key,
                                    value,
                                    ..Default::default()
                                })
                                .collect(),
                        })),
                    }
                }),
            ]
        })
}

fn attributes() -> impl Strategy<Value = Vec<KeyValue>> {
    prop::collection::vec((key(), prop::option::of(value())), 0..10).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(key, value)| KeyValue {
                key,
                value,
                ..Default::default()
            })
            .collect()
    })
}

fn id(n: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        Just(vec![0; n]),
        prop::collection::vec(any::<u8>(), n..=n),
        prop::collection::vec(any::<u8>(), 0..20),
    ]
}

fn time() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0),
        Just(NOW - 1_000),
        Just(NOW + 3_600_000_000_000),
        Just(NOW + 300_000_000_000),
        any::<u64>(),
    ]
}

prop_compose! {
    fn record()(
        time_unix_nano in time(),
        observed_time_unix_nano in time(),
        severity_number in -2i32..30,
        severity_text in prop::sample::select(vec!["", "WARN", "fatal", "err", "bogus"]),
        body in prop::option::of(value()),
        attributes in attributes(),
        trace_id in id(16),
        span_id in id(8),
    ) -> LogRecord {
        LogRecord {
            time_unix_nano,
            observed_time_unix_nano,
            severity_number,
            severity_text: severity_text.into(),
            body,
            attributes,
            trace_id,
            span_id,
            ..Default::default()
        }
    }
}

fn constraints() -> impl Strategy<Value = Constraints> {
    prop_oneof![
        Just(Constraints::default()),
        (0usize..3000, 0usize..400, 0usize..40).prop_map(|(attrs, message, field)| Constraints {
            max_attributes_size_bytes: attrs,
            max_message_length: message,
            max_error_message_length: message,
            max_stack_trace_length: message,
            max_error_type_length: field,
            max_environment_length: field,
            max_release_length: field,
            max_sdk_version_length: field,
            max_platform_length: field,
            max_platform_version_length: field,
            ..Constraints::default()
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn direct_writes_what_the_entry_path_writes(
        resource in attributes(),
        record in record(),
        c in constraints(),
    ) {
        prop_assert_eq!(direct(&resource, &record, &c, NOW), reference(&resource, &record, &c, NOW));
    }

    #[test]
    fn the_bound_is_never_under_python_length(v in value()) {
        prop_assert!(value_bound(Some(&v)) >= pyjson::dumps_len(&any_value_to_json(&v)));
    }
}

#[test]
fn sorted_keys_last_value_wins_ids_override() {
    let s = |v: &str| AnyValue {
        value: Some(any_value::Value::StringValue(v.into())),
    };
    let kv = |k: &str, v: AnyValue| KeyValue {
        key: k.into(),
        value: Some(v),
        ..Default::default()
    };
    let resource = [kv("service.name", s("billing")), kv("b", s("res"))];
    let record = LogRecord {
        time_unix_nano: NOW - 1_000,
        attributes: vec![
            kv("b", s("rec")),
            kv("trace_id", s("mine")),
            kv("a", s("1")),
            kv("b", s("last")),
        ],
        trace_id: vec![1; 16],
        ..Default::default()
    };
    let c = Constraints::default();
    let (json, cut) = direct(&resource, &record, &c, NOW);
    assert!(!cut);
    assert_eq!((json.clone(), cut), reference(&resource, &record, &c, NOW));
    let text = String::from_utf8(json).unwrap();
    assert!(
        text.contains(
            r#""attributes":{"a":"1","b":"last","service.name":"billing","trace_id":"01010101010101010101010101010101"}"#
        ),
        "{text}"
    );
}
