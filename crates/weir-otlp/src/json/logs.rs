//! `ExportLogsServiceRequest` in OTLP/JSON.

use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};

use super::common::{
    attributes_field, write_any_value, write_request, write_resource, write_scope,
};
use super::writer::ObjectWriter;

/// Writes `{"resourceLogs":[...]}`.
pub fn encode_logs(resource_logs: &[ResourceLogs], out: &mut Vec<u8>) {
    write_request(out, "resourceLogs", resource_logs, write_resource_logs);
}

fn write_resource_logs(out: &mut Vec<u8>, rl: &ResourceLogs) {
    let mut o = ObjectWriter::new(out);
    o.message_field("resource", rl.resource.as_ref(), write_resource);
    o.list_field("scopeLogs", &rl.scope_logs, write_scope_logs);
    o.str_field("schemaUrl", &rl.schema_url);
    o.end();
}

fn write_scope_logs(out: &mut Vec<u8>, sl: &ScopeLogs) {
    let mut o = ObjectWriter::new(out);
    o.message_field("scope", sl.scope.as_ref(), write_scope);
    o.list_field("logRecords", &sl.log_records, write_log_record);
    o.str_field("schemaUrl", &sl.schema_url);
    o.end();
}

fn write_log_record(out: &mut Vec<u8>, r: &LogRecord) {
    let mut o = ObjectWriter::new(out);
    o.u64_field("timeUnixNano", r.time_unix_nano);
    o.u64_field("observedTimeUnixNano", r.observed_time_unix_nano);
    o.int_field("severityNumber", r.severity_number);
    o.str_field("severityText", &r.severity_text);
    o.message_field("body", r.body.as_ref(), write_any_value);
    attributes_field(&mut o, "attributes", &r.attributes);
    o.int_field("droppedAttributesCount", r.dropped_attributes_count);
    o.int_field("flags", r.flags);
    o.hex_field("traceId", &r.trace_id);
    o.hex_field("spanId", &r.span_id);
    o.str_field("eventName", &r.event_name);
    o.end();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use weir_core::otlp::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
    use weir_core::otlp::resource::v1::Resource;

    fn string(s: &str) -> Option<AnyValue> {
        Some(AnyValue {
            value: Some(any_value::Value::StringValue(s.into())),
        })
    }

    #[test]
    fn every_log_field() {
        let record = LogRecord {
            time_unix_nano: 1_700_000_000_123_456_789,
            observed_time_unix_nano: u64::MAX,
            severity_number: 17,
            severity_text: "ERROR".into(),
            body: string("boom \"quoted\"\n\u{1}"),
            attributes: vec![KeyValue {
                key: "http.status".into(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::IntValue(503)),
                }),
                key_strindex: 0,
            }],
            dropped_attributes_count: 3,
            flags: 1,
            trace_id: (0u8..16).collect(),
            span_id: vec![0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1],
            event_name: "app.crash".into(),
        };
        let logs = vec![ResourceLogs {
            resource: Some(Resource::default()),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: "weir".into(),
                    ..Default::default()
                }),
                log_records: vec![record, LogRecord::default()],
                schema_url: "https://opentelemetry.io/schemas/1.24.0".into(),
            }],
            schema_url: String::new(),
        }];
        let mut out = Vec::new();
        encode_logs(&logs, &mut out);
        let v: Value = serde_json::from_slice(&out).unwrap();
        let rl = &v["resourceLogs"][0];
        assert_eq!(rl["resource"], json!({}));
        assert!(rl.get("schemaUrl").is_none());
        let sl = &rl["scopeLogs"][0];
        assert_eq!(sl["scope"], json!({"name": "weir"}));
        assert_eq!(sl["schemaUrl"], "https://opentelemetry.io/schemas/1.24.0");
        let r = &sl["logRecords"][0];
        assert_eq!(r["timeUnixNano"], "1700000000123456789");
        assert_eq!(r["observedTimeUnixNano"], "18446744073709551615");
        assert_eq!(r["severityNumber"], 17);
        assert_eq!(r["severityText"], "ERROR");
        assert_eq!(r["body"], json!({"stringValue": "boom \"quoted\"\n\u{1}"}));
        assert_eq!(
            r["attributes"],
            json!([{"key": "http.status", "value": {"intValue": "503"}}])
        );
        assert_eq!(r["droppedAttributesCount"], 3);
        assert_eq!(r["flags"], 1);
        assert_eq!(r["traceId"], "000102030405060708090a0b0c0d0e0f");
        assert_eq!(r["spanId"], "deadbeef00000001");
        assert_eq!(r["eventName"], "app.crash");
        assert_eq!(r.as_object().unwrap().len(), 11, "every field written: {r}");
        // A record at its defaults is an empty object.
        assert_eq!(sl["logRecords"][1], json!({}));
    }

    #[test]
    fn empty_request() {
        let mut out = Vec::new();
        encode_logs(&[], &mut out);
        assert_eq!(out, b"{}");
    }
}
