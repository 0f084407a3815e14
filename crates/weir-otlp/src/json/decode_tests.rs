use serde_json::json;
use weir_core::otlp::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList, any_value};
use weir_core::otlp::metrics::v1::{exemplar, metric, number_data_point};
use weir_core::{Signal, SignalData};

use super::{decode, encode};
use crate::wire::tests_gen::Gen;

fn logs(v: serde_json::Value) -> Vec<weir_core::otlp::logs::v1::ResourceLogs> {
    match decode(Signal::Logs, v.to_string().as_bytes()).unwrap() {
        SignalData::Logs(l) => l,
        _ => unreachable!(),
    }
}

fn err(signal: Signal, v: &str) -> String {
    decode(signal, v.as_bytes()).unwrap_err().message
}

fn any(v: any_value::Value) -> Option<AnyValue> {
    Some(AnyValue { value: Some(v) })
}

fn kv(key: &str, v: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: any(v),
        key_strindex: 0,
    }
}

/// The spec's logs example, extended with every AnyValue form.
#[test]
fn logs_fixture() {
    use any_value::Value as V;
    let rl = logs(json!({"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "my.service"}}],
                     "droppedAttributesCount": 1,
                     "entityRefs": [{"type": "service", "idKeys": ["service.name"], "descriptionKeys": [], "schemaUrl": "s"}]},
        "scopeLogs": [{
            "scope": {"name": "my.library", "version": "1.0.0",
                      "attributes": [{"key": "my.scope.attribute", "value": {"stringValue": "some scope attribute"}}]},
            "logRecords": [{
                "timeUnixNano": "1544712660300000000",
                "observedTimeUnixNano": 1544712660300000000u64,
                "severityNumber": 10,
                "severityText": "Information",
                "traceId": "5B8EFFF798038103D269B633813FC60C",
                "spanId": "eee19b7ec3c1b174",
                "flags": 1,
                "eventName": "ev",
                "droppedAttributesCount": "2",
                "body": {"stringValue": "Example log record"},
                "attributes": [
                    {"key": "string.attribute", "value": {"stringValue": "some string"}},
                    {"key": "boolean.attribute", "value": {"boolValue": true}},
                    {"key": "int.attribute", "value": {"intValue": "10"}},
                    {"key": "double.attribute", "value": {"doubleValue": 637.704}},
                    {"key": "nan.attribute", "value": {"doubleValue": "NaN"}},
                    {"key": "array.attribute", "value": {"arrayValue": {"values": [
                        {"stringValue": "many"}, {"intValue": 7}, {}]}}},
                    {"key": "map.attribute", "value": {"kvlistValue": {"values": [
                        {"key": "some.map.key", "value": {"stringValue": "some value"}}]}}},
                    {"key": "bytes.attribute", "value": {"bytesValue": "aGkh"}},
                    {"key": "strindex", "value": {"stringValueStrindex": 4}, "keyStrindex": 2},
                    {"key": "no.value"}
                ]
            }],
            "schemaUrl": "https://opentelemetry.io/schemas/1.24.0"
        }],
        "schemaUrl": "r"
    }]}));
    let r = &rl[0];
    assert_eq!(r.schema_url, "r");
    let res = r.resource.as_ref().unwrap();
    assert_eq!(
        res.attributes,
        vec![kv("service.name", V::StringValue("my.service".into()))]
    );
    assert_eq!(res.dropped_attributes_count, 1);
    assert_eq!(res.entity_refs[0].r#type, "service");
    assert_eq!(res.entity_refs[0].id_keys, vec!["service.name"]);
    assert_eq!(res.entity_refs[0].schema_url, "s");
    let sl = &r.scope_logs[0];
    let scope = sl.scope.as_ref().unwrap();
    assert_eq!(
        (scope.name.as_str(), scope.version.as_str()),
        ("my.library", "1.0.0")
    );
    assert_eq!(scope.attributes.len(), 1);
    assert_eq!(sl.schema_url, "https://opentelemetry.io/schemas/1.24.0");
    let rec = &sl.log_records[0];
    assert_eq!(rec.time_unix_nano, 1_544_712_660_300_000_000);
    assert_eq!(rec.observed_time_unix_nano, 1_544_712_660_300_000_000);
    assert_eq!(rec.severity_number, 10);
    assert_eq!(rec.severity_text, "Information");
    assert_eq!(rec.trace_id, hex("5b8efff798038103d269b633813fc60c"));
    assert_eq!(rec.span_id, hex("eee19b7ec3c1b174"));
    assert_eq!((rec.flags, rec.dropped_attributes_count), (1, 2));
    assert_eq!(rec.event_name, "ev");
    assert_eq!(rec.body, any(V::StringValue("Example log record".into())));
    let a = &rec.attributes;
    assert_eq!(
        a[0],
        kv("string.attribute", V::StringValue("some string".into()))
    );
    assert_eq!(a[1], kv("boolean.attribute", V::BoolValue(true)));
    assert_eq!(a[2], kv("int.attribute", V::IntValue(10)));
    assert_eq!(a[3], kv("double.attribute", V::DoubleValue(637.704)));
    assert!(matches!(a[4].value.as_ref().unwrap().value, Some(V::DoubleValue(d)) if d.is_nan()));
    let array = ArrayValue {
        values: vec![
            any(V::StringValue("many".into())).unwrap(),
            any(V::IntValue(7)).unwrap(),
            AnyValue::default(),
        ],
    };
    assert_eq!(a[5], kv("array.attribute", V::ArrayValue(array)));
    let map = KeyValueList {
        values: vec![kv("some.map.key", V::StringValue("some value".into()))],
    };
    assert_eq!(a[6], kv("map.attribute", V::KvlistValue(map)));
    assert_eq!(a[7], kv("bytes.attribute", V::BytesValue(b"hi!".to_vec())));
    assert_eq!(
        a[8],
        KeyValue {
            key: "strindex".into(),
            value: any(V::StringValueStrindex(4)),
            key_strindex: 2
        }
    );
    assert_eq!(
        a[9],
        KeyValue {
            key: "no.value".into(),
            value: None,
            key_strindex: 0
        }
    );
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn traces_fixture() {
    let body = json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
        "parentSpanId": "eee19b7ec3c1b173", "traceState": "k=v", "flags": 257,
        "name": "I'm a server span", "startTimeUnixNano": "1544712660000000000",
        "endTimeUnixNano": 1544712661000000000u64, "kind": "SPAN_KIND_SERVER",
        "attributes": [{"key": "my.span.attr", "value": {"stringValue": "some value"}}],
        "droppedAttributesCount": 1, "droppedEventsCount": 2, "droppedLinksCount": 3,
        "events": [{"timeUnixNano": "5", "name": "ev", "droppedAttributesCount": 4,
                    "attributes": [{"key": "e", "value": {"intValue": -1}}]}],
        "links": [{"traceId": "", "spanId": "0000000000000001", "traceState": "t", "flags": 1,
                   "droppedAttributesCount": 5, "attributes": []}],
        "status": {"code": "STATUS_CODE_ERROR", "message": "boom"}
    }, {"kind": 3, "status": {"code": 1}}]}]}]});
    let SignalData::Traces(rs) = decode(Signal::Traces, body.to_string().as_bytes()).unwrap()
    else {
        panic!()
    };
    let s = &rs[0].scope_spans[0].spans[0];
    assert_eq!(s.trace_id, hex("5b8efff798038103d269b633813fc60c"));
    assert_eq!(s.span_id, hex("eee19b7ec3c1b174"));
    assert_eq!(s.parent_span_id, hex("eee19b7ec3c1b173"));
    assert_eq!(
        (s.trace_state.as_str(), s.flags, s.name.as_str()),
        ("k=v", 257, "I'm a server span")
    );
    assert_eq!(
        (s.start_time_unix_nano, s.end_time_unix_nano),
        (1_544_712_660_000_000_000, 1_544_712_661_000_000_000)
    );
    assert_eq!(s.kind, 2);
    assert_eq!(s.attributes.len(), 1);
    assert_eq!(
        (
            s.dropped_attributes_count,
            s.dropped_events_count,
            s.dropped_links_count
        ),
        (1, 2, 3)
    );
    let e = &s.events[0];
    assert_eq!(
        (
            e.time_unix_nano,
            e.name.as_str(),
            e.dropped_attributes_count
        ),
        (5, "ev", 4)
    );
    assert_eq!(e.attributes[0], kv("e", any_value::Value::IntValue(-1)));
    let l = &s.links[0];
    assert!(l.trace_id.is_empty());
    assert_eq!(
        (
            l.span_id.clone(),
            l.trace_state.as_str(),
            l.flags,
            l.dropped_attributes_count
        ),
        (hex("0000000000000001"), "t", 1, 5)
    );
    let st = s.status.as_ref().unwrap();
    assert_eq!((st.code, st.message.as_str()), (2, "boom"));
    let s2 = &rs[0].scope_spans[0].spans[1];
    assert_eq!((s2.kind, s2.status.as_ref().unwrap().code), (3, 1));
}

#[test]
fn metrics_fixture_every_type() {
    let dp = |extra: serde_json::Value| {
        let mut base = json!({"attributes": [{"key": "a", "value": {"boolValue": false}}],
            "startTimeUnixNano": "1", "timeUnixNano": "2", "flags": 1});
        base.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        base
    };
    let body = json!({"resourceMetrics": [{"scopeMetrics": [{"metrics": [
        {"name": "g", "description": "d", "unit": "1", "metadata": [{"key": "m", "value": {"stringValue": "x"}}],
         "gauge": {"dataPoints": [dp(json!({"asDouble": 1.5, "exemplars": [{
            "filteredAttributes": [{"key": "f", "value": {"intValue": "3"}}], "timeUnixNano": "9",
            "spanId": "0102030405060708", "traceId": "0102030405060708090a0b0c0d0e0f10", "asInt": "-4"}]})),
            dp(json!({"asInt": "7"}))]}},
        {"name": "s", "sum": {"dataPoints": [dp(json!({"asInt": 5}))], "aggregationTemporality": "AGGREGATION_TEMPORALITY_DELTA", "isMonotonic": true}},
        {"name": "h", "histogram": {"aggregationTemporality": 2, "dataPoints": [dp(json!({
            "count": "6", "sum": 0, "bucketCounts": ["1", 2, "3"], "explicitBounds": [0.5, "Infinity"],
            "min": -1, "max": "NaN"}))]}},
        {"name": "e", "exponentialHistogram": {"aggregationTemporality": "AGGREGATION_TEMPORALITY_CUMULATIVE",
         "dataPoints": [dp(json!({"count": 3, "sum": 2.5, "scale": -2, "zeroCount": "1", "zeroThreshold": 0.001,
            "positive": {"offset": -3, "bucketCounts": ["1", "1"]}, "negative": {}, "min": 0.5, "max": 2}))]}},
        {"name": "q", "summary": {"dataPoints": [dp(json!({"count": "2", "sum": 3.5,
            "quantileValues": [{"quantile": 0.5, "value": 1}, {"quantile": 1, "value": 2.5}]}))]}},
        {"name": "none"}
    ]}]}]});
    let SignalData::Metrics(rm) = decode(Signal::Metrics, body.to_string().as_bytes()).unwrap()
    else {
        panic!()
    };
    let m = &rm[0].scope_metrics[0].metrics;
    assert_eq!(SignalData::Metrics(rm.clone()).item_count(), 6);
    assert_eq!(
        (
            m[0].name.as_str(),
            m[0].description.as_str(),
            m[0].unit.as_str()
        ),
        ("g", "d", "1")
    );
    assert_eq!(m[0].metadata.len(), 1);
    let Some(metric::Data::Gauge(g)) = &m[0].data else {
        panic!()
    };
    let p = &g.data_points[0];
    assert_eq!(
        (
            p.start_time_unix_nano,
            p.time_unix_nano,
            p.flags,
            p.attributes.len()
        ),
        (1, 2, 1, 1)
    );
    assert_eq!(p.value, Some(number_data_point::Value::AsDouble(1.5)));
    let ex = &p.exemplars[0];
    assert_eq!(
        (ex.time_unix_nano, ex.value, ex.filtered_attributes.len()),
        (9, Some(exemplar::Value::AsInt(-4)), 1)
    );
    assert_eq!((ex.span_id.len(), ex.trace_id.len()), (8, 16));
    assert_eq!(
        g.data_points[1].value,
        Some(number_data_point::Value::AsInt(7))
    );
    let Some(metric::Data::Sum(s)) = &m[1].data else {
        panic!()
    };
    assert_eq!((s.aggregation_temporality, s.is_monotonic), (1, true));
    assert_eq!(
        s.data_points[0].value,
        Some(number_data_point::Value::AsInt(5))
    );
    let Some(metric::Data::Histogram(h)) = &m[2].data else {
        panic!()
    };
    let hp = &h.data_points[0];
    assert_eq!(
        (h.aggregation_temporality, hp.count, hp.sum, hp.min),
        (2, 6, Some(0.0), Some(-1.0))
    );
    assert!(hp.max.unwrap().is_nan());
    assert_eq!(
        (hp.bucket_counts.clone(), hp.explicit_bounds.clone()),
        (vec![1, 2, 3], vec![0.5, f64::INFINITY])
    );
    let Some(metric::Data::ExponentialHistogram(e)) = &m[3].data else {
        panic!()
    };
    let ep = &e.data_points[0];
    assert_eq!(e.aggregation_temporality, 2);
    assert_eq!(
        (ep.count, ep.sum, ep.scale, ep.zero_count, ep.zero_threshold),
        (3, Some(2.5), -2, 1, 0.001)
    );
    assert_eq!(
        ep.positive
            .as_ref()
            .map(|b| (b.offset, b.bucket_counts.clone())),
        Some((-3, vec![1, 1]))
    );
    assert_eq!(ep.negative, Some(Default::default()));
    assert_eq!((ep.min, ep.max), (Some(0.5), Some(2.0)));
    let Some(metric::Data::Summary(q)) = &m[4].data else {
        panic!()
    };
    let qp = &q.data_points[0];
    assert_eq!((qp.count, qp.sum, qp.quantile_values.len()), (2, 3.5, 2));
    assert_eq!(
        (qp.quantile_values[1].quantile, qp.quantile_values[1].value),
        (1.0, 2.5)
    );
    assert_eq!(m[5].data, None);
}

#[test]
fn lenient_forms() {
    let snake = json!({"resource_logs": [{"scope_logs": [{"log_records": [{
        "time_unix_nano": 5, "severity_number": "SEVERITY_NUMBER_INFO", "trace_id": "", "span_id": null,
        "body": {"kvlist_value": {"values": [{"key": "k", "value": {"int_value": 1}}]}},
        "unknownField": {"deep": [1, 2]}
    }]}]}], "somethingElse": true});
    let r = &logs(snake)[0].scope_logs[0].log_records[0];
    assert_eq!((r.time_unix_nano, r.severity_number), (5, 9));
    assert!(r.trace_id.is_empty() && r.span_id.is_empty());
    assert!(matches!(
        r.body.as_ref().unwrap().value,
        Some(any_value::Value::KvlistValue(_))
    ));
    // Empty documents and nulls are empty data.
    assert_eq!(
        decode(Signal::Traces, b"{}").unwrap(),
        SignalData::Traces(vec![])
    );
    assert_eq!(
        decode(Signal::Metrics, br#"{"resourceMetrics":null}"#).unwrap(),
        SignalData::Metrics(vec![])
    );
}

#[test]
fn errors_name_the_json_path() {
    let e = err(
        Signal::Logs,
        r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{},{},{"timeUnixNano":true}]}]}]}"#,
    );
    assert_eq!(
        e,
        "resourceLogs[0].scopeLogs[0].logRecords[2].timeUnixNano: expected an integer or integer string"
    );
    let e = err(
        Signal::Traces,
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"abc"}]}]}]}"#,
    );
    assert_eq!(
        e,
        "resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 32 hex digits"
    );
    let e = err(
        Signal::Traces,
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SPAN_KIND_NOPE"}]}]}]}"#,
    );
    assert!(
        e.ends_with("spans[0].kind: unknown enum value \"SPAN_KIND_NOPE\""),
        "{e}"
    );
    let e = err(
        Signal::Metrics,
        r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":{"dataPoints":[{"asDouble":"x"}]}}]}]}]}"#,
    );
    assert!(e.starts_with("resourceMetrics[0].scopeMetrics[0].metrics[0].sum.dataPoints[0].asDouble: expected a number"), "{e}");
    let e = err(
        Signal::Logs,
        r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"k","value":{"bytesValue":"%%"}}]}}]}"#,
    );
    assert!(
        e.starts_with("resourceLogs[0].resource.attributes[0].value.bytesValue: invalid base64"),
        "{e}"
    );
    assert_eq!(
        err(Signal::Logs, r#"{"resourceLogs":{}}"#),
        "resourceLogs: expected an array"
    );
    assert_eq!(
        err(Signal::Logs, r#"{"resourceLogs":[3]}"#),
        "resourceLogs[0]: expected an object"
    );
    assert_eq!(err(Signal::Logs, "[]"), "expected an object");
    assert!(err(Signal::Logs, "{").starts_with("invalid JSON"));
    let e = err(
        Signal::Logs,
        r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"flags":4294967296}]}]}]}"#,
    );
    assert!(
        e.ends_with("flags: integer 4294967296 is out of range"),
        "{e}"
    );
}

#[test]
fn round_trips_rich_random_data() {
    let mut items = 0;
    for seed in 0..300 {
        let mut g = Gen::new(seed);
        for signal in Signal::ALL {
            let data = g.data(signal);
            let mut out = Vec::new();
            encode(&data, &mut out);
            let back = decode(signal, &out)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)));
            assert_eq!(back, data, "{}", String::from_utf8_lossy(&out));
            items += data.item_count();
        }
    }
    assert!(items > 1000);
}

#[test]
fn non_finite_doubles_round_trip() {
    use any_value::Value as V;
    let data = SignalData::Logs(logs(
        json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [{"attributes": [
        {"key": "a", "value": {"doubleValue": "Infinity"}},
        {"key": "b", "value": {"doubleValue": "-Infinity"}},
        {"key": "c", "value": {"doubleValue": "NaN"}}]}]}]}]}),
    ));
    let mut out = Vec::new();
    encode(&data, &mut out);
    let SignalData::Logs(back) = decode(Signal::Logs, &out).unwrap() else {
        panic!()
    };
    let attrs = &back[0].scope_logs[0].log_records[0].attributes;
    assert_eq!(attrs[0].value, any(V::DoubleValue(f64::INFINITY)));
    assert_eq!(attrs[1].value, any(V::DoubleValue(f64::NEG_INFINITY)));
    assert!(
        matches!(attrs[2].value.as_ref().unwrap().value, Some(V::DoubleValue(d)) if d.is_nan())
    );
}

#[test]
fn partial_decoding_drops_bad_items_with_their_paths() {
    use super::decode_partial;
    let body = json!({"resourceSpans": [
        {"scopeSpans": [
            {"spans": [
                {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": "ok"},
                {"traceId": "not-hex", "spanId": "eee19b7ec3c1b174"},
                {"spanId": "eee19b7ec3c1b174", "name": "no trace id"}
            ]},
            {"spans": [{"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "startTimeUnixNano": true}]}
        ]},
        {"scopeSpans": [{"spans": [3]}]}
    ]});
    let out = decode_partial(Signal::Traces, body.to_string().as_bytes()).unwrap();
    assert_eq!(out.rejected.items, 4);
    assert_eq!(
        out.rejected.reasons,
        vec![
            "resourceSpans[0].scopeSpans[0].spans[1].traceId: expected 32 hex digits".to_string(),
            "resourceSpans[0].scopeSpans[0].spans[2]: span trace_id is not 16 bytes".into(),
            "resourceSpans[0].scopeSpans[1].spans[0].startTimeUnixNano: expected an integer or integer string".into(),
            "resourceSpans[1].scopeSpans[0].spans[0]: expected an object".into(),
        ]
    );
    // The emptied scope and resource are gone; the good span is there.
    let SignalData::Traces(rs) = out.data else {
        unreachable!()
    };
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].scope_spans.len(), 1);
    assert_eq!(rs[0].scope_spans[0].spans.len(), 1);
    assert_eq!(rs[0].scope_spans[0].spans[0].name, "ok");

    // Data points too; a metric that loses all its points goes with them.
    let body = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[
        {"name":"a","gauge":{"dataPoints":[{"asInt":"1"},{"asDouble":"x"}]}},
        {"name":"b","sum":{"dataPoints":[{"asInt":"zz"}]}}]}]}]}"#;
    let out = decode_partial(Signal::Metrics, body.as_bytes()).unwrap();
    assert_eq!(out.rejected.items, 2);
    assert_eq!(out.data.item_count(), 1);
    let SignalData::Metrics(rm) = out.data else {
        unreachable!()
    };
    assert_eq!(rm[0].scope_metrics[0].metrics.len(), 1);

    // Errors outside items and structural errors still fail the request.
    for (signal, bad) in [
        (Signal::Logs, "{"),
        (Signal::Logs, "[]"),
        (Signal::Logs, r#"{"resourceLogs":{}}"#),
        (
            Signal::Logs,
            r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":3}]}]}"#,
        ),
        (
            Signal::Logs,
            r#"{"resourceLogs":[{"resource":{"attributes":3}}]}"#,
        ),
    ] {
        assert!(decode_partial(signal, bad.as_bytes()).is_err(), "{bad}");
    }
    // The strict decoder is unchanged: a span without ids decodes.
    assert!(
        decode(
            Signal::Traces,
            br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{}]}]}]}"#
        )
        .is_ok()
    );
    // A valid request loses nothing.
    let good = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{},{"traceId":""}]}]}]}"#;
    let out = decode_partial(Signal::Logs, good.as_bytes()).unwrap();
    assert!(out.rejected.is_empty());
    assert_eq!(out.data, decode(Signal::Logs, good.as_bytes()).unwrap());
}
