use proptest::prelude::*;
use serde_json::{Map, Value, json};
use weir_core::otlp::common::v1::{AnyValue, KeyValue, any_value};
use weir_core::otlp::logs::v1::LogRecord;
use weir_core::otlp::trace::v1::span::SpanKind;

use super::*;
use crate::entry::{Importance, Level, LogEntry, LogType, Names};
use crate::gateway::{SpanEvent, SpanIn};
use crate::timestamp::Timestamp;

fn s(v: &str) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(v.into())),
    }
}

fn kv(k: &str, v: AnyValue) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(v),
        ..Default::default()
    }
}

fn attr<'a>(r: &'a LogRecord, key: &str) -> Option<&'a AnyValue> {
    r.attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| a.value.as_ref())
}

#[test]
fn entry_to_record_fields() {
    let mut e = LogEntry::new(
        Timestamp::parse("2025-01-15T10:30:45.123456Z").unwrap(),
        Level::Warning,
    );
    e.message = Some("hi".into());
    e.error_type = Some("E".into());
    e.log_type = LogType::Console;
    e.importance = Importance::Low;
    e.environment = Some("prod".into());
    e.release = Some("1.0".into());
    e.attributes =
        json!({"trace_id": "0af7651916cd43dd8448eb211c80319c", "span_id": "B7AD6B7169203331",
        "nested": {"a": [1, 2.5, true]}})
        .as_object()
        .cloned();
    let r = entry_to_record(e, 7);
    assert_eq!(r.time_unix_nano, 1_736_937_045_123_456_000);
    assert_eq!(r.observed_time_unix_nano, 7);
    assert_eq!(
        (r.severity_number, r.severity_text.as_str()),
        (13, "warning")
    );
    assert_eq!(r.body, Some(s("hi")));
    assert_eq!(to_hex(&r.trace_id), "0af7651916cd43dd8448eb211c80319c");
    assert!(r.span_id.is_empty(), "upper-case is not an id Ledger links");
    assert_eq!(attr(&r, "span_id"), Some(&s("B7AD6B7169203331")));
    assert_eq!(attr(&r, "exception.type"), Some(&s("E")));
    assert_eq!(attr(&r, "deployment.environment.name"), Some(&s("prod")));
    assert_eq!(attr(&r, "service.version"), Some(&s("1.0")));
    assert_eq!(attr(&r, "ledger.log_type"), Some(&s("console")));
    assert_eq!(attr(&r, "ledger.importance"), Some(&s("low")));
    assert!(matches!(
        attr(&r, "nested").unwrap().value,
        Some(any_value::Value::KvlistValue(_))
    ));
    assert_eq!(attr(&r, "ledger.sdk_version"), None);
}

#[test]
fn record_to_entry_from_any_record() {
    let resource = [
        kv("service.name", s("api")),
        kv("service.version", s("2.0")),
        kv("host.name", s("h")),
    ];
    let record = LogRecord {
        observed_time_unix_nano: 1_736_937_045_123_456_789,
        severity_text: "WARN".into(),
        body: Some(AnyValue {
            value: Some(any_value::Value::KvlistValue(Default::default())),
        }),
        attributes: vec![
            kv("host.name", s("mine")),
            kv("exception.type", s("IOError")),
            kv("deployment.environment", s("staging")),
            kv("ledger.log_type", s("bogus")),
        ],
        trace_id: vec![0xab; 16],
        span_id: vec![0; 8],
        ..Default::default()
    };
    let e = record_to_entry(&resource, &record);
    assert_eq!(e.timestamp.to_string(), "2025-01-15T10:30:45.123456Z");
    assert_eq!(e.level, Level::Warning);
    assert_eq!(e.message.as_deref(), Some("{}"));
    assert_eq!(e.log_type, LogType::Exception);
    assert_eq!(e.error_type.as_deref(), Some("IOError"));
    assert_eq!(e.environment.as_deref(), Some("staging"));
    assert_eq!(e.release.as_deref(), Some("2.0"));
    assert_eq!(
        Value::Object(e.attributes.unwrap()),
        json!({"service.name": "api", "host.name": "mine", "ledger.log_type": "bogus",
            "trace_id": "abababababababababababababababab"})
    );
}

#[test]
fn levels_from_numbers_and_text() {
    let level = |n: i32, t: &str| {
        let r = LogRecord {
            severity_number: n,
            severity_text: t.into(),
            ..Default::default()
        };
        record_to_entry(&[], &r).level
    };
    assert_eq!(level(1, ""), Level::Debug);
    assert_eq!(level(8, "error"), Level::Debug);
    assert_eq!(level(12, ""), Level::Info);
    assert_eq!(level(16, ""), Level::Warning);
    assert_eq!(level(20, ""), Level::Error);
    assert_eq!(level(24, ""), Level::Critical);
    assert_eq!(level(0, "Fatal"), Level::Critical);
    assert_eq!(level(0, "err"), Level::Error);
    assert_eq!(level(0, "TRACE"), Level::Debug);
    assert_eq!(level(0, "whatever"), Level::Info);
    assert_eq!(level(99, ""), Level::Info);
}

#[test]
fn spans_map_kinds_statuses_and_services() {
    let span = |service: &str, kind: i64, status: i64| SpanIn {
        trace_id: "0AF7651916CD43DD8448EB211C80319C".into(),
        span_id: "b7ad6b7169203331".into(),
        parent_span_id: String::new(),
        name: "op".into(),
        kind,
        start_unix_nano: 1,
        end_unix_nano: 2,
        status,
        status_message: "m".into(),
        attributes: vec![("k".into(), "v".into())],
        events: vec![SpanEvent {
            name: "e".into(),
            ts_unix_nano: 3,
            attrs: vec![("a".into(), "b".into())],
        }],
        service_name: service.into(),
    };
    let kinds = [
        (0, SpanKind::Server),
        (1, SpanKind::Client),
        (2, SpanKind::Internal),
        (3, SpanKind::Producer),
        (4, SpanKind::Consumer),
        (5, SpanKind::Unspecified),
    ];
    for (ledger, otlp) in kinds {
        assert_eq!(ledger_kind_to_otlp(ledger), otlp);
    }
    let out = spans_to_otlp(vec![span("a", 0, 2), span("b", 1, 1), span("a", 4, 0)]);
    assert_eq!(out.len(), 2);
    assert_eq!(
        out[0].resource.as_ref().unwrap().attributes,
        [kv("service.name", s("a"))]
    );
    let a = &out[0].scope_spans[0].spans;
    assert_eq!(a.len(), 2);
    assert_eq!(
        (a[0].kind, a[1].kind),
        (SpanKind::Server as i32, SpanKind::Consumer as i32)
    );
    assert_eq!(a[0].status.as_ref().unwrap().code, 2);
    assert_eq!(a[0].status.as_ref().unwrap().message, "m");
    assert_eq!(to_hex(&a[0].trace_id), "0af7651916cd43dd8448eb211c80319c");
    assert!(a[0].parent_span_id.is_empty());
    assert_eq!(a[0].events[0].attributes, [kv("a", s("b"))]);
    assert_eq!(a[0].events[0].time_unix_nano, 3);
    assert_eq!(
        out[1].scope_spans[0].spans[0].status.as_ref().unwrap().code,
        1
    );
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e300f64..1e300).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z.]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Attribute keys that do not collide with the names the mapping uses.
fn attributes() -> impl Strategy<Value = Option<Map<String, Value>>> {
    let id = prop_oneof![
        "[0-9a-f]{32}".prop_map(|id| ("trace_id".to_owned(), Value::String(id))),
        "[0-9a-f]{16}".prop_map(|id| ("span_id".to_owned(), Value::String(id))),
        "[0-9A-Fa-f]{15}".prop_map(|id| ("span_id".to_owned(), Value::String(id))),
    ];
    let plain = ("user\\.[a-z]{1,8}", json_value());
    (
        prop::collection::vec(plain, 1..6),
        prop::collection::vec(id, 0..3),
    )
        .prop_map(|(plain, ids)| {
            let map: Map<String, Value> = plain.into_iter().chain(ids).collect();
            Some(map)
        })
}

fn pick<T: Names + std::fmt::Debug>() -> impl Strategy<Value = T> {
    prop::sample::select(T::ALL.iter().map(|(_, v)| *v).collect::<Vec<_>>())
}

fn text(max: usize) -> impl Strategy<Value = Option<String>> {
    prop::option::of(proptest::string::string_regex(&format!("\\PC{{0,{max}}}")).unwrap())
}

prop_compose! {
    fn entries()(
        micros in 0i64..253_402_300_799_999_999,
        level in pick::<Level>(),
        log_type in pick::<LogType>(),
        importance in pick::<Importance>(),
        message in text(40),
        error_type in text(10),
        error_message in text(10),
        stack_trace in text(20),
        environment in text(20),
        release in text(10),
        attributes in prop::option::of(attributes()).prop_map(Option::flatten),
        sdk_version in text(5),
        platform in text(5),
        platform_version in text(5),
    ) -> LogEntry {
        LogEntry {
            // OTLP times are nanoseconds in a u64: up to 2554.
            timestamp: Timestamp::from_unix_micros(micros % 18_000_000_000_000_000),
            level, log_type, importance, message, error_type, error_message, stack_trace,
            environment, release, attributes, sdk_version, platform, platform_version,
        }
    }
}

proptest! {
    #[test]
    fn entry_record_entry_round_trip(entry in entries(), observed in any::<u64>()) {
        let record = entry_to_record(entry.clone(), observed);
        let back = record_to_entry(&[], &record);
        prop_assert_eq!(back, entry.clone());
        // And through Ledger's JSON too.
        let body = serde_json::to_vec(&entry).unwrap();
        prop_assert_eq!(crate::gateway::parse_single(&body).unwrap(), entry);
    }
}
