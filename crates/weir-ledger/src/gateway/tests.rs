use serde_json::{Value, json};

use super::*;
use crate::entry::{Importance, Level, LogType};

/// The `detail` list of a refused request, as JSON.
fn detail(result: Result<impl std::fmt::Debug, Unprocessable>) -> Vec<Value> {
    let refused = result.expect_err("should be refused");
    assert_eq!(refused.status(), 422);
    let body: Value = serde_json::from_slice(&refused.to_json()).unwrap();
    body["detail"].as_array().unwrap().clone()
}

fn batch(logs: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({ "logs": logs })).unwrap()
}

const TS: &str = "2025-01-15T10:30:45.123Z";

#[test]
fn parses_a_full_entry() {
    let body = batch(json!([{
        "timestamp": TS, "level": "error", "log_type": "network", "importance": "high",
        "message": "boom", "error_type": "E", "error_message": "m", "stack_trace": "st",
        "environment": "prod", "release": "1.2", "attributes": {"a": [1, {"b": null}]},
        "sdk_version": "1.4", "platform": "python", "platform_version": "3.12",
        "unknown": {"ignored": true}
    }]));
    let logs = parse_batch(&body).unwrap();
    let e = &logs[0];
    assert_eq!(e.timestamp.to_string(), TS);
    assert_eq!(
        (e.level, e.log_type, e.importance),
        (Level::Error, LogType::Network, Importance::High)
    );
    assert_eq!(e.attributes.as_ref().unwrap()["a"], json!([1, {"b": null}]));
    assert_eq!(e.platform_version.as_deref(), Some("3.12"));
    // Serialize gives Ledger's JSON back (None fields left out).
    let minimal =
        parse_single(format!(r#"{{"timestamp":"{TS}","level":"info","message":null}}"#).as_bytes())
            .unwrap();
    assert_eq!(
        serde_json::to_value(&minimal).unwrap(),
        json!({"timestamp": TS, "level": "info", "log_type": "logger", "importance": "standard"})
    );
}

#[test]
fn literal_error() {
    let d = detail(parse_batch(&batch(
        json!([{"timestamp": TS, "level": "fatal"}]),
    )));
    assert_eq!(
        d,
        [json!({
            "type": "literal_error", "loc": ["body", "logs", 0, "level"],
            "msg": "Input should be 'debug', 'info', 'warning', 'error' or 'critical'",
            "input": "fatal",
            "ctx": {"expected": "'debug', 'info', 'warning', 'error' or 'critical'"}
        })]
    );
    let d = detail(parse_single(
        format!(r#"{{"timestamp":"{TS}","level":"info","log_type":"web"}}"#).as_bytes(),
    ));
    assert_eq!(d[0]["loc"], json!(["body", "log_type"]));
    assert_eq!(
        d[0]["msg"],
        "Input should be 'console', 'logger', 'exception', 'network', 'database', 'endpoint' or 'custom'"
    );
    let d = detail(parse_single(
        format!(r#"{{"timestamp":"{TS}","level":"info","importance":null}}"#).as_bytes(),
    ));
    assert_eq!(d[0]["type"], "literal_error");
    assert_eq!(d[0]["input"], Value::Null);
}

#[test]
fn string_too_long_counts_characters() {
    // 10000 two-byte characters: 20000 bytes, but within the limit.
    let ok = "é".repeat(10_000);
    assert!(
        parse_batch(&batch(
            json!([{"timestamp": TS, "level": "info", "message": ok}])
        ))
        .is_ok()
    );
    let long = "x".repeat(10_001);
    let d = detail(parse_batch(&batch(
        json!([{"timestamp": TS, "level": "info", "message": long}]),
    )));
    assert_eq!(
        d,
        [json!({
            "type": "string_too_long", "loc": ["body", "logs", 0, "message"],
            "msg": "String should have at most 10000 characters", "input": long,
            "ctx": {"max_length": 10000}
        })]
    );
    for (field, max) in [
        ("error_type", 255),
        ("error_message", 5000),
        ("stack_trace", 50000),
        ("environment", 20),
        ("release", 100),
        ("sdk_version", 20),
        ("platform", 50),
        ("platform_version", 50),
    ] {
        let entry = json!({"timestamp": TS, "level": "info", field: "😀".repeat(max)});
        assert!(parse_batch(&batch(json!([entry]))).is_ok(), "{field}");
        let entry = json!({"timestamp": TS, "level": "info", field: "a".repeat(max + 1)});
        let d = detail(parse_batch(&batch(json!([entry]))));
        assert_eq!(d[0]["loc"], json!(["body", "logs", 0, field]));
        assert_eq!(
            d[0]["msg"],
            format!("String should have at most {max} characters")
        );
    }
}

#[test]
fn list_bounds() {
    let entry = json!({"timestamp": TS, "level": "info"});
    let d = detail(parse_batch(&batch(json!(vec![entry.clone(); 1001]))));
    assert_eq!(
        d,
        [json!({
            "type": "too_long", "loc": ["body", "logs"],
            "msg": "List should have at most 1000 items after validation, not 1001",
            "ctx": {"field_type": "List", "max_length": 1000, "actual_length": 1001}
        })]
    );
    assert_eq!(
        parse_batch(&batch(json!(vec![entry; 1000]))).unwrap().len(),
        1000
    );
    let d = detail(parse_batch(&batch(json!([]))));
    assert_eq!(
        d,
        [json!({
            "type": "too_short", "loc": ["body", "logs"],
            "msg": "List should have at least 1 item after validation, not 0", "input": [],
            "ctx": {"field_type": "List", "min_length": 1, "actual_length": 0}
        })]
    );
}

#[test]
fn missing_fields_carry_their_object() {
    let d = detail(parse_batch(&batch(
        json!([{"timestamp": TS, "level": "info"}, {"message": "m"}]),
    )));
    assert_eq!(
        d,
        [
            json!({"type": "missing", "loc": ["body", "logs", 1, "timestamp"], "msg": "Field required", "input": {"message": "m"}}),
            json!({"type": "missing", "loc": ["body", "logs", 1, "level"], "msg": "Field required", "input": {"message": "m"}}),
        ]
    );
    let d = detail(parse_batch(br#"{"log": []}"#));
    assert_eq!(
        d,
        [
            json!({"type": "missing", "loc": ["body", "logs"], "msg": "Field required", "input": {"log": []}})
        ]
    );
    let d = detail(parse_batch(b""));
    assert_eq!(
        d,
        [json!({"type": "missing", "loc": ["body"], "msg": "Field required", "input": null})]
    );
}

#[test]
fn wrong_types() {
    let d = detail(parse_batch(&batch(json!([{
        "timestamp": TS, "level": "info", "message": 5, "attributes": [1], "release": {"v": 1}
    }]))));
    assert_eq!(
        d,
        [
            json!({"type": "string_type", "loc": ["body", "logs", 0, "message"], "msg": "Input should be a valid string", "input": 5}),
            json!({"type": "string_type", "loc": ["body", "logs", 0, "release"], "msg": "Input should be a valid string", "input": {"v": 1}}),
            json!({"type": "dict_type", "loc": ["body", "logs", 0, "attributes"], "msg": "Input should be a valid dictionary", "input": [1]}),
        ]
    );
    let d = detail(parse_batch(br#"{"logs": {"a": 1}}"#));
    assert_eq!(d[0]["type"], "list_type");
    assert_eq!(d[0]["msg"], "Input should be a valid list");
    let d = detail(parse_batch(br#"{"logs": [3]}"#));
    assert_eq!(
        d,
        [json!({"type": "model_type", "loc": ["body", "logs", 0],
            "msg": "Input should be a valid dictionary or instance of LogEntry", "input": 3,
            "ctx": {"class_name": "LogEntry"}})]
    );
    let d = detail(parse_batch(b"[1]"));
    assert_eq!(d[0]["loc"], json!(["body"]));
    assert_eq!(d[0]["type"], "model_type");
}

#[test]
fn datetimes() {
    let one = |ts: Value| {
        parse_single(&serde_json::to_vec(&json!({"timestamp": ts, "level": "info"})).unwrap())
    };
    assert_eq!(
        one(json!("2025-01-15T12:30:45.123+02:00"))
            .unwrap()
            .timestamp
            .to_string(),
        TS
    );
    assert_eq!(
        one(json!("2025-01-15T10:30:45.123"))
            .unwrap()
            .timestamp
            .to_string(),
        TS
    );
    assert_eq!(
        one(json!(1736937045.123)).unwrap().timestamp.to_string(),
        TS
    );
    assert_eq!(
        one(json!(1736937045123u64)).unwrap().timestamp.to_string(),
        TS
    );
    let d = detail(one(json!("2025-13-01")));
    assert_eq!(
        d,
        [
            json!({"type": "datetime_from_date_parsing", "loc": ["body", "timestamp"],
            "msg": "Input should be a valid datetime or date, month value is outside expected range of 1-12",
            "input": "2025-13-01", "ctx": {"error": "month value is outside expected range of 1-12"}})
        ]
    );
    let d = detail(one(json!("2025-01-15T24:00:00Z")));
    assert_eq!(d[0]["type"], "datetime_parsing");
    assert_eq!(
        d[0]["msg"],
        "Input should be a valid datetime, hour value is outside expected range of 0-23"
    );
    let d = detail(one(json!(true)));
    assert_eq!(d[0]["type"], "datetime_type");
    assert_eq!(d[0]["msg"], "Input should be a valid datetime");
}

#[test]
fn errors_of_every_entry_in_field_order() {
    let d = detail(parse_batch(&batch(json!([
        {"level": "nope", "timestamp": "x", "message": null},
        {"timestamp": TS, "level": "info"},
        {"importance": 1, "level": "debug", "timestamp": TS},
    ]))));
    let locs: Vec<&Value> = d.iter().map(|e| &e["loc"]).collect();
    assert_eq!(
        locs,
        [
            &json!(["body", "logs", 0, "timestamp"]),
            &json!(["body", "logs", 0, "level"]),
            &json!(["body", "logs", 2, "importance"]),
        ]
    );
}

#[test]
fn a_repeated_key_keeps_its_last_value() {
    let body = format!(r#"{{"timestamp":"{TS}","level":"bad","level":"info"}}"#);
    assert_eq!(parse_single(body.as_bytes()).unwrap().level, Level::Info);
}

#[test]
fn invalid_json() {
    let d = detail(parse_batch(br#"{"logs": [}"#));
    assert_eq!(
        d,
        [
            json!({"type": "json_invalid", "loc": ["body", 10], "msg": "JSON decode error", "input": {},
            "ctx": {"error": "Expecting value"}})
        ]
    );
    let d = detail(parse_batch(b"{\"logs\": []} x"));
    assert_eq!(d[0]["ctx"]["error"], "Extra data");
    let d = detail(parse_batch(b"{'logs': []}"));
    assert_eq!(
        d[0]["ctx"]["error"],
        "Expecting property name enclosed in double quotes"
    );
    assert_eq!(d[0]["loc"], json!(["body", 1]));
    let bad = parse_batch(b"{\"logs\": [\"\xff\"]}").unwrap_err();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        bad.to_json(),
        br#"{"detail":"There was an error parsing the body"}"#
    );
}

#[test]
fn spans() {
    let body = json!({"spans": [{
        "trace_id": "0AF7651916CD43DD8448EB211C80319C", "span_id": "b7ad6b7169203331",
        "parent_span_id": "", "name": "GET /", "kind": 0, "start_unix_nano": 1, "end_unix_nano": 2,
        "status": 2, "status_message": "bad", "attributes": {"http.method": "GET"},
        "events": [{"name": "e", "ts_unix_nano": 1, "attrs": {"k": "v"}}], "service_name": "api"
    }]});
    let spans = parse_spans(&serde_json::to_vec(&body).unwrap()).unwrap();
    assert_eq!(
        spans[0].attributes,
        [("http.method".to_owned(), "GET".to_owned())]
    );
    assert_eq!(spans[0].events[0].attrs, [("k".to_owned(), "v".to_owned())]);
    let minimal = json!({"spans": [{"trace_id": "t", "span_id": "s", "name": "n",
        "start_unix_nano": "5", "end_unix_nano": 6.0}]});
    let spans = parse_spans(&serde_json::to_vec(&minimal).unwrap()).unwrap();
    assert_eq!(
        (
            spans[0].kind,
            spans[0].start_unix_nano,
            spans[0].end_unix_nano
        ),
        (2, 5, 6)
    );
    let bad = json!({"spans": [{"trace_id": 1, "span_id": "s", "start_unix_nano": 1.5,
        "end_unix_nano": 1, "attributes": {"a": 1}, "events": [{"name": "e"}]}]});
    let d = detail(parse_spans(&serde_json::to_vec(&bad).unwrap()));
    let got: Vec<(&Value, &Value)> = d.iter().map(|e| (&e["type"], &e["loc"])).collect();
    assert_eq!(
        got,
        [
            (
                &json!("string_type"),
                &json!(["body", "spans", 0, "trace_id"])
            ),
            (&json!("missing"), &json!(["body", "spans", 0, "name"])),
            (
                &json!("int_from_float"),
                &json!(["body", "spans", 0, "start_unix_nano"])
            ),
            (
                &json!("string_type"),
                &json!(["body", "spans", 0, "attributes", "a"])
            ),
            (
                &json!("missing"),
                &json!(["body", "spans", 0, "events", 0, "ts_unix_nano"])
            ),
        ]
    );
    assert_eq!(d[4]["input"], json!({"name": "e"}));
}
