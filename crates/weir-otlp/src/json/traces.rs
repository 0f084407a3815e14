//! `ExportTraceServiceRequest` in OTLP/JSON.

use weir_core::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};

use super::common::{attributes_field, write_request, write_resource, write_scope};
use super::writer::ObjectWriter;

/// Writes `{"resourceSpans":[...]}`.
pub fn encode_traces(resource_spans: &[ResourceSpans], out: &mut Vec<u8>) {
    write_request(out, "resourceSpans", resource_spans, write_resource_spans);
}

fn write_resource_spans(out: &mut Vec<u8>, rs: &ResourceSpans) {
    let mut o = ObjectWriter::new(out);
    o.message_field("resource", rs.resource.as_ref(), write_resource);
    o.list_field("scopeSpans", &rs.scope_spans, write_scope_spans);
    o.str_field("schemaUrl", &rs.schema_url);
    o.end();
}

fn write_scope_spans(out: &mut Vec<u8>, ss: &ScopeSpans) {
    let mut o = ObjectWriter::new(out);
    o.message_field("scope", ss.scope.as_ref(), write_scope);
    o.list_field("spans", &ss.spans, write_span);
    o.str_field("schemaUrl", &ss.schema_url);
    o.end();
}

fn write_span(out: &mut Vec<u8>, s: &Span) {
    let mut o = ObjectWriter::new(out);
    o.hex_field("traceId", &s.trace_id);
    o.hex_field("spanId", &s.span_id);
    o.str_field("traceState", &s.trace_state);
    o.hex_field("parentSpanId", &s.parent_span_id);
    o.int_field("flags", s.flags);
    o.str_field("name", &s.name);
    o.int_field("kind", s.kind);
    o.u64_field("startTimeUnixNano", s.start_time_unix_nano);
    o.u64_field("endTimeUnixNano", s.end_time_unix_nano);
    attributes_field(&mut o, "attributes", &s.attributes);
    o.int_field("droppedAttributesCount", s.dropped_attributes_count);
    o.list_field("events", &s.events, write_event);
    o.int_field("droppedEventsCount", s.dropped_events_count);
    o.list_field("links", &s.links, write_link);
    o.int_field("droppedLinksCount", s.dropped_links_count);
    o.message_field("status", s.status.as_ref(), write_status);
    o.end();
}

fn write_event(out: &mut Vec<u8>, e: &span::Event) {
    let mut o = ObjectWriter::new(out);
    o.u64_field("timeUnixNano", e.time_unix_nano);
    o.str_field("name", &e.name);
    attributes_field(&mut o, "attributes", &e.attributes);
    o.int_field("droppedAttributesCount", e.dropped_attributes_count);
    o.end();
}

fn write_link(out: &mut Vec<u8>, l: &span::Link) {
    let mut o = ObjectWriter::new(out);
    o.hex_field("traceId", &l.trace_id);
    o.hex_field("spanId", &l.span_id);
    o.str_field("traceState", &l.trace_state);
    attributes_field(&mut o, "attributes", &l.attributes);
    o.int_field("droppedAttributesCount", l.dropped_attributes_count);
    o.int_field("flags", l.flags);
    o.end();
}

fn write_status(out: &mut Vec<u8>, s: &Status) {
    let mut o = ObjectWriter::new(out);
    o.str_field("message", &s.message);
    o.int_field("code", s.code);
    o.end();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use weir_core::otlp::common::v1::{AnyValue, KeyValue, any_value};

    fn attr(key: &str, v: f64) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::DoubleValue(v)),
            }),
            key_strindex: 0,
        }
    }

    #[test]
    fn every_span_field() {
        let span = Span {
            trace_id: vec![0xab; 16],
            span_id: vec![1, 2, 3, 4, 5, 6, 7, 8],
            trace_state: "vendor=x".into(),
            parent_span_id: vec![0xff; 8],
            flags: 0x301,
            name: "GET /users".into(),
            kind: 2,
            start_time_unix_nano: 1_000,
            end_time_unix_nano: 2_500,
            attributes: vec![attr("ratio", f64::INFINITY)],
            dropped_attributes_count: 1,
            events: vec![span::Event {
                time_unix_nano: 1_500,
                name: "retry".into(),
                attributes: vec![attr("n", -0.5)],
                dropped_attributes_count: 4,
            }],
            dropped_events_count: 2,
            links: vec![span::Link {
                trace_id: vec![0x11; 16],
                span_id: vec![0x22; 8],
                trace_state: "a=b".into(),
                attributes: vec![attr("w", 1.0)],
                dropped_attributes_count: 5,
                flags: 256,
            }],
            dropped_links_count: 3,
            status: Some(Status {
                message: "bad gateway".into(),
                code: 2,
            }),
        };
        let traces = vec![ResourceSpans {
            resource: None,
            scope_spans: vec![ScopeSpans {
                scope: None,
                spans: vec![span, Span::default()],
                schema_url: String::new(),
            }],
            schema_url: "https://schema".into(),
        }];
        let mut out = Vec::new();
        encode_traces(&traces, &mut out);
        let v: Value = serde_json::from_slice(&out).unwrap();
        let rs = &v["resourceSpans"][0];
        assert!(rs.get("resource").is_none());
        assert_eq!(rs["schemaUrl"], "https://schema");
        let ss = &rs["scopeSpans"][0];
        assert!(ss.get("scope").is_none());
        let s = &ss["spans"][0];
        assert_eq!(s["traceId"], "abababababababababababababababab");
        assert_eq!(s["spanId"], "0102030405060708");
        assert_eq!(s["traceState"], "vendor=x");
        assert_eq!(s["parentSpanId"], "ffffffffffffffff");
        assert_eq!(s["flags"], 0x301);
        assert_eq!(s["name"], "GET /users");
        assert_eq!(s["kind"], 2);
        assert_eq!(s["startTimeUnixNano"], "1000");
        assert_eq!(s["endTimeUnixNano"], "2500");
        assert_eq!(
            s["attributes"],
            json!([{"key": "ratio", "value": {"doubleValue": "Infinity"}}])
        );
        assert_eq!(s["droppedAttributesCount"], 1);
        assert_eq!(
            s["events"],
            json!([{"timeUnixNano": "1500", "name": "retry",
                    "attributes": [{"key": "n", "value": {"doubleValue": -0.5}}],
                    "droppedAttributesCount": 4}])
        );
        assert_eq!(s["droppedEventsCount"], 2);
        assert_eq!(
            s["links"],
            json!([{"traceId": "11111111111111111111111111111111", "spanId": "2222222222222222",
                    "traceState": "a=b", "attributes": [{"key": "w", "value": {"doubleValue": 1.0}}],
                    "droppedAttributesCount": 5, "flags": 256}])
        );
        assert_eq!(s["droppedLinksCount"], 3);
        assert_eq!(s["status"], json!({"message": "bad gateway", "code": 2}));
        assert_eq!(s.as_object().unwrap().len(), 16, "every field written: {s}");
        assert_eq!(ss["spans"][1], json!({}));
    }
}
