use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::logs::v1::LogRecord;

use super::*;

const OBSERVED: u64 = 42;
const T_NANOS: u64 = 1_700_000_000 * 1_000_000_000;

fn json(line: &str) -> LogRecord {
    let record = record_from_line(line.as_bytes(), LineFormat::Json, OBSERVED);
    assert_eq!(attribute(&record, attr::PARSE_ERROR), None, "{line}");
    record
}

fn attribute<'a>(record: &'a LogRecord, key: &str) -> Option<&'a Option<Value>> {
    record
        .attributes
        .iter()
        .find(|kv| kv.key == key)
        .map(|kv| &kv.value.as_ref().expect("attribute with a value").value)
}

fn body(record: &LogRecord) -> &Value {
    record.body.as_ref().unwrap().value.as_ref().unwrap()
}

fn string(s: &str) -> Option<Value> {
    Some(Value::StringValue(s.to_owned()))
}

fn keys(record: &LogRecord) -> Vec<&str> {
    record.attributes.iter().map(|kv| kv.key.as_str()).collect()
}

#[test]
fn text_lines_become_string_bodies() {
    for format in [LineFormat::Text, LineFormat::Auto] {
        let r = record_from_line(b"hello world", format, OBSERVED);
        assert_eq!(body(&r), &Value::StringValue("hello world".into()));
        assert_eq!(r.observed_time_unix_nano, OBSERVED);
        assert!(r.attributes.is_empty());
        assert_eq!(r.time_unix_nano, 0);
    }
}

#[test]
fn crlf_and_invalid_utf8_in_text() {
    let r = record_from_line(b"windows\r", LineFormat::Auto, OBSERVED);
    assert_eq!(body(&r), &Value::StringValue("windows".into()));
    let r = record_from_line(b"line\r\n", LineFormat::Text, OBSERVED);
    assert_eq!(body(&r), &Value::StringValue("line".into()));
    let r = record_from_line(b"bad \xff\xfe bytes", LineFormat::Auto, OBSERVED);
    assert_eq!(
        body(&r),
        &Value::StringValue("bad \u{fffd}\u{fffd} bytes".into())
    );
    // Invalid UTF-8 inside JSON is not JSON: kept as text.
    let r = record_from_line(b"{\"msg\":\"\xff\"}", LineFormat::Auto, OBSERVED);
    assert_eq!(
        body(&r),
        &Value::StringValue("{\"msg\":\"\u{fffd}\"}".into())
    );
    let r = record_from_line(b"{\"msg\":\"ok\"}\r", LineFormat::Json, OBSERVED);
    assert_eq!(body(&r), &Value::StringValue("ok".into()));
}

#[test]
fn every_body_alias_and_typed_bodies() {
    for key in ["message", "msg", "body"] {
        let r = json(&format!(r#"{{"{key}":"hi"}}"#));
        assert_eq!(body(&r), &Value::StringValue("hi".into()));
        assert!(r.attributes.is_empty());
        assert_eq!(r.observed_time_unix_nano, OBSERVED);
    }
    assert_eq!(body(&json(r#"{"msg":3}"#)), &Value::IntValue(3));
    assert_eq!(body(&json(r#"{"msg":2.5}"#)), &Value::DoubleValue(2.5));
    assert_eq!(body(&json(r#"{"msg":false}"#)), &Value::BoolValue(false));
    let r = json(r#"{"body":{"a":[1,"x"]}}"#);
    let Value::KvlistValue(kv) = body(&r) else {
        panic!("kvlist body")
    };
    assert_eq!(kv.values[0].key, "a");
    let r = json(r#"{"msg":null}"#);
    assert_eq!(r.body, Some(AnyValue { value: None }));
}

#[test]
fn first_alias_wins_and_the_others_stay_attributes() {
    // Precedence is by alias order, not by position in the object.
    let r = json(r#"{"body":"b","msg":"m","message":"first","severity":"error","level":"info"}"#);
    assert_eq!(body(&r), &Value::StringValue("first".into()));
    assert_eq!(attribute(&r, "msg"), Some(&string("m")));
    assert_eq!(attribute(&r, "body"), Some(&string("b")));
    assert_eq!(r.severity_text, "info");
    assert_eq!(attribute(&r, "severity"), Some(&string("error")));
    let r = json(r#"{"ts":1,"time":"2023-11-14T22:13:20Z"}"#);
    assert_eq!(r.time_unix_nano, T_NANOS);
    assert_eq!(attribute(&r, "ts"), Some(&Some(Value::IntValue(1))));
    // A repeated key: the first one counts.
    let r = json(r#"{"msg":"a","msg":"b"}"#);
    assert_eq!(body(&r), &Value::StringValue("a".into()));
    assert_eq!(attribute(&r, "msg"), Some(&string("b")));
}

#[test]
fn level_names_map_to_otlp_numbers() {
    let cases = [
        ("trace", 1),
        ("DEBUG", 5),
        ("Info", 9),
        ("warn", 13),
        ("WARNING", 13),
        ("error", 17),
        ("fatal", 21),
        ("critical", 21),
        ("panic", 21),
        ("INFO2", 10),
        ("debug4", 8),
        ("err", 17),
        ("notice", 10),
        ("12", 12),
    ];
    for (level, number) in cases {
        for key in ["level", "severity"] {
            let r = json(&format!(r#"{{"{key}":"{level}"}}"#));
            assert_eq!(r.severity_number, number, "{level}");
            assert_eq!(r.severity_text, level);
        }
    }
    let r = json(r#"{"level":"verbose"}"#);
    assert_eq!(
        (r.severity_number, r.severity_text.as_str()),
        (0, "verbose")
    );
    assert_eq!(severity_number("info5"), None);
    assert_eq!(severity_number("warning2"), None);
    assert_eq!(severity_number("é"), None);
}

#[test]
fn numeric_levels_are_otlp_numbers() {
    let r = json(r#"{"level":17}"#);
    assert_eq!((r.severity_number, r.severity_text.as_str()), (17, ""));
    assert!(r.attributes.is_empty());
    for bad in ["0", "25", "30", "9.5", "true", "{}"] {
        let r = json(&format!(r#"{{"level":{bad}}}"#));
        assert_eq!(r.severity_number, 0, "{bad}");
        assert!(attribute(&r, "level").is_some(), "{bad} kept");
    }
}

#[test]
fn timestamps_in_every_form() {
    let cases = [
        (r#""2023-11-14T22:13:20Z""#, T_NANOS),
        (r#""2023-11-14T23:13:20.5+01:00""#, T_NANOS + 500_000_000),
        (r#""2023-11-14T22:13:20.000000001Z""#, T_NANOS + 1),
        ("1700000000", T_NANOS),
        ("1700000000.5", T_NANOS + 500_000_000),
        ("1700000000123", T_NANOS + 123_000_000),
        ("1700000000123456", T_NANOS + 123_456_000),
        ("1700000000123456789", T_NANOS + 123_456_789),
        (r#""1700000000123""#, T_NANOS + 123_000_000),
    ];
    for (value, nanos) in cases {
        for key in ["timestamp", "time", "ts"] {
            let r = json(&format!(r#"{{"{key}":{value}}}"#));
            assert_eq!(r.time_unix_nano, nanos, "{key}: {value}");
            assert!(r.attributes.is_empty());
        }
    }
    let r = json(r#"{"time":"last tuesday"}"#);
    assert_eq!(r.time_unix_nano, 0);
    assert_eq!(attribute(&r, "time"), Some(&string("last tuesday")));
}

#[test]
fn ids_when_valid_hex_else_attributes() {
    let trace = "5B8EFFF798038103D269B633813FC60C";
    let span = "eee19b7ec3c1b174";
    for (t, s) in [("trace_id", "span_id"), ("traceId", "spanId")] {
        let r = json(&format!(r#"{{"{t}":"{trace}","{s}":"{span}"}}"#));
        assert_eq!(r.trace_id.len(), 16);
        assert_eq!(r.trace_id[0], 0x5b);
        assert_eq!(
            r.span_id,
            vec![0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74]
        );
        assert!(r.attributes.is_empty());
    }
    let r = json(
        r#"{"trace_id":"xyz","span_id":"0000000000000000","traceId":"5b8efff798038103d269b633813fc60c"}"#,
    );
    assert!(r.trace_id.is_empty() && r.span_id.is_empty());
    assert_eq!(keys(&r), ["traceId", "trace_id", "span_id"]);
    let r = json(r#"{"span_id":12}"#);
    assert_eq!(attribute(&r, "span_id"), Some(&Some(Value::IntValue(12))));
}

#[test]
fn attributes_keep_their_types_and_nesting() {
    let r = json(
        r#"{"s":"x","i":-7,"big":18446744073709551615,"d":1.5,"b":true,"n":null,
            "a":[1,"two",[3]],"o":{"inner":{"deep":1},"k":"v"},"esc\"aped":"\u00e9"}"#,
    );
    assert_eq!(
        keys(&r),
        ["s", "i", "big", "d", "b", "n", "a", "o", "esc\"aped"]
    );
    assert_eq!(attribute(&r, "i"), Some(&Some(Value::IntValue(-7))));
    assert_eq!(attribute(&r, "big"), Some(&string("18446744073709551615")));
    assert_eq!(attribute(&r, "d"), Some(&Some(Value::DoubleValue(1.5))));
    assert_eq!(attribute(&r, "b"), Some(&Some(Value::BoolValue(true))));
    assert_eq!(attribute(&r, "n"), Some(&None));
    assert_eq!(attribute(&r, "esc\"aped"), Some(&string("é")));
    let Some(Some(Value::ArrayValue(a))) = attribute(&r, "a") else {
        panic!("array")
    };
    assert_eq!(a.values.len(), 3);
    assert!(matches!(a.values[2].value, Some(Value::ArrayValue(_))));
    let Some(Some(Value::KvlistValue(o))) = attribute(&r, "o") else {
        panic!("kvlist")
    };
    assert_eq!(o.values[0].key, "inner");
    let Some(Value::KvlistValue(inner)) = &o.values[0].value.as_ref().unwrap().value else {
        panic!("nested kvlist, not flattened")
    };
    assert_eq!(
        inner.values[0],
        KeyValue {
            key: "deep".into(),
            value: Some(AnyValue {
                value: Some(Value::IntValue(1))
            }),
            ..Default::default()
        }
    );
}

#[test]
fn invalid_json_in_auto_and_json_modes() {
    for line in [
        r#"{"msg": "unterminated"#,
        r#"{"a":1} trailing"#,
        "{not json}",
    ] {
        let auto = record_from_line(line.as_bytes(), LineFormat::Auto, OBSERVED);
        assert_eq!(body(&auto), &Value::StringValue(line.into()));
        assert!(auto.attributes.is_empty());
        let strict = record_from_line(line.as_bytes(), LineFormat::Json, OBSERVED);
        assert_eq!(body(&strict), &Value::StringValue(line.into()));
        let Some(Some(Value::StringValue(reason))) = attribute(&strict, attr::PARSE_ERROR) else {
            panic!("parse error attribute")
        };
        assert!(reason.starts_with("invalid JSON"), "{reason}");
    }
    for line in ["[1,2]", "plain text", "42"] {
        let strict = record_from_line(line.as_bytes(), LineFormat::Json, OBSERVED);
        assert_eq!(
            attribute(&strict, attr::PARSE_ERROR),
            Some(&string("not a JSON object"))
        );
        let auto = record_from_line(line.as_bytes(), LineFormat::Auto, OBSERVED);
        assert!(auto.attributes.is_empty());
    }
    // Text format never looks inside.
    let r = record_from_line(br#"{"msg":"x"}"#, LineFormat::Text, OBSERVED);
    assert_eq!(body(&r), &Value::StringValue(r#"{"msg":"x"}"#.into()));
    // Leading whitespace is fine in auto mode.
    let r = record_from_line(br#"   {"msg":"x"}  "#, LineFormat::Auto, OBSERVED);
    assert_eq!(body(&r), &Value::StringValue("x".into()));
}

#[test]
fn json_object_values_map_like_bytes() {
    let line = r#"{"msg":"m","level":"warn","time":1700000000,"o":{"k":[1,null]},"x":2.5}"#;
    let serde_json::Value::Object(object) = serde_json::from_str(line).unwrap() else {
        panic!("object")
    };
    assert_eq!(record_from_json_object(object, OBSERVED), json(line));
    let any = any_value_from_json(serde_json::json!({"a": [true]}));
    assert!(matches!(any.value, Some(Value::KvlistValue(_))));
}

#[test]
fn truncation_helpers() {
    assert_eq!(truncate_utf8(b"abcdef", 4), b"abcd");
    assert_eq!(truncate_utf8(b"ab", 4), b"ab");
    // "aé" is 61 C3 A9: a cut after C3 backs off to "a".
    assert_eq!(truncate_utf8("aéb".as_bytes(), 2), b"a");
    assert_eq!(truncate_utf8("aéb".as_bytes(), 3), "aé".as_bytes());
    // A 4-byte emoji cut after 1, 2 or 3 of its bytes.
    let s = "x😀".as_bytes();
    for max in 2..5 {
        assert_eq!(truncate_utf8(s, max), b"x", "{max}");
    }
    assert_eq!(truncate_utf8(s, 5), s);
    // A prefix cut from longer input loses a sequence it ends inside of.
    assert_eq!(trim_partial_utf8(&s[..4]), b"x");
    assert_eq!(trim_partial_utf8("aé".as_bytes()), "aé".as_bytes());
    assert_eq!(trim_partial_utf8(b""), b"");
    let mut r = record_from_text(b"abc", OBSERVED);
    mark_truncated(&mut r, 10);
    assert_eq!(
        attribute(&r, attr::TRUNCATED),
        Some(&Some(Value::BoolValue(true)))
    );
    assert_eq!(
        attribute(&r, attr::ORIGINAL_BYTES),
        Some(&Some(Value::IntValue(10)))
    );
}

#[test]
fn line_formats_deserialize_from_config_names() {
    let f: LineFormat = serde_json::from_str(r#""json""#).unwrap();
    assert_eq!(f, LineFormat::Json);
    assert_eq!(LineFormat::default(), LineFormat::Auto);
    assert!(serde_json::from_str::<LineFormat>(r#""xml""#).is_err());
}
