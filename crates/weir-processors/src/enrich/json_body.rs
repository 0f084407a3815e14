//! `parse_json_body`: a string body holding a JSON object is mapped by
//! [`weir_otlp::logline::record_from_json_slice`], the stdin receiver's mapping.
//!
//! What the JSON gives wins: its message becomes the body (no message: no body),
//! its level the severity, its time the timestamp, its trace and span ids the
//! record's; its other keys become attributes, replacing record attributes of the
//! same key. A body that is not a JSON object (or does not parse) is left as is.

use weir_core::otlp::common::v1::{AnyValue, any_value::Value};
use weir_core::otlp::logs::v1::LogRecord;
use weir_otlp::logline::record_from_json_slice;

use super::attributes::position;

/// Parses the body of `record` in place; true when it was a JSON object.
pub(crate) fn apply(record: &mut LogRecord) -> bool {
    let Some(AnyValue {
        value: Some(Value::StringValue(text)),
    }) = &record.body
    else {
        return false;
    };
    if !text.trim_start().starts_with('{') {
        return false;
    }
    let Ok(parsed) = record_from_json_slice(text.as_bytes(), record.observed_time_unix_nano) else {
        return false;
    };
    record.body = parsed.body;
    if parsed.severity_number != 0 || !parsed.severity_text.is_empty() {
        record.severity_number = parsed.severity_number;
        record.severity_text = parsed.severity_text;
    }
    if parsed.time_unix_nano != 0 {
        record.time_unix_nano = parsed.time_unix_nano;
    }
    if !parsed.trace_id.is_empty() {
        record.trace_id = parsed.trace_id;
    }
    if !parsed.span_id.is_empty() {
        record.span_id = parsed.span_id;
    }
    if record.attributes.is_empty() {
        record.attributes = parsed.attributes;
    } else {
        for kv in parsed.attributes {
            match position(&record.attributes, &kv.key) {
                Some(i) => record.attributes[i] = kv,
                None => record.attributes.push(kv),
            }
        }
    }
    true
}
