//! `LogEntry` ⇄ OTLP `LogRecord` (the rules are in the table in [`crate::otlp`]).

use serde_json::{Map, Value};
use weir_core::otlp::common::v1::{AnyValue, KeyValue, any_value};
use weir_core::otlp::logs::v1::LogRecord;
use weir_otlp::logline::{any_value_from_json, severity_number};

use super::keys;
use super::value::any_value_to_json;
use crate::entry::{Importance, Level, LogEntry, LogType, Names};
use crate::ingest::is_lower_hex_id;
use crate::timestamp::Timestamp;

/// An entry as an OTLP log record; `observed_unix_nano` is when weir got it.
pub fn entry_to_record(entry: LogEntry, observed_unix_nano: u64) -> LogRecord {
    let mut record = LogRecord {
        time_unix_nano: entry.timestamp.unix_nano(),
        observed_time_unix_nano: observed_unix_nano,
        severity_number: severity_of(entry.level),
        severity_text: entry.level.as_str().to_owned(),
        body: entry.message.map(string_value),
        ..Default::default()
    };
    let mut attributes = Vec::with_capacity(entry.attributes.as_ref().map_or(0, Map::len) + 4);
    for (key, value) in entry.attributes.into_iter().flatten() {
        // Valid ids move to the record's own fields; anything else stays.
        if let Value::String(id) = &value {
            if key == keys::TRACE_ID {
                if let Some(bytes) = valid_id::<16>(id) {
                    record.trace_id = bytes.to_vec();
                    continue;
                }
            } else if key == keys::SPAN_ID {
                if let Some(bytes) = valid_id::<8>(id) {
                    record.span_id = bytes.to_vec();
                    continue;
                }
            }
        }
        attributes.push(key_value(key, any_value_from_json(value)));
    }
    let inferred = inferred_log_type(entry.error_type.is_some());
    let fields = [
        (keys::EXCEPTION_TYPE, entry.error_type),
        (keys::EXCEPTION_MESSAGE, entry.error_message),
        (keys::EXCEPTION_STACKTRACE, entry.stack_trace),
        (keys::DEPLOYMENT_ENVIRONMENT_NAME, entry.environment),
        (keys::SERVICE_VERSION, entry.release),
        (
            keys::LOG_TYPE,
            (entry.log_type != inferred).then(|| entry.log_type.as_str().to_owned()),
        ),
        (
            keys::IMPORTANCE,
            (entry.importance != Importance::Standard)
                .then(|| entry.importance.as_str().to_owned()),
        ),
        (keys::SDK_VERSION, entry.sdk_version),
        (keys::PLATFORM, entry.platform),
        (keys::PLATFORM_VERSION, entry.platform_version),
    ];
    for (key, value) in fields {
        if let Some(value) = value {
            attributes.push(key_value(key.to_owned(), string_value(value)));
        }
    }
    record.attributes = attributes;
    record
}

/// An OTLP log record (with its resource's attributes) as a Ledger entry.
pub fn record_to_entry(resource_attrs: &[KeyValue], record: &LogRecord) -> LogEntry {
    let (mut entry, used) = entry_fields(resource_attrs, record);
    let mut attributes = Map::new();
    for kv in resource_attrs.iter().chain(&record.attributes) {
        if used.contains(&kv.key.as_str()) {
            continue;
        }
        let value = kv.value.as_ref().map_or(Value::Null, any_value_to_json);
        attributes.insert(kv.key.clone(), value);
    }
    if let Some(hex) = trace_id_hex(record) {
        attributes.insert(keys::TRACE_ID.into(), Value::String(hex));
    }
    if let Some(hex) = span_id_hex(record) {
        attributes.insert(keys::SPAN_ID.into(), Value::String(hex));
    }
    entry.attributes = (!attributes.is_empty()).then_some(attributes);
    entry
}

/// The record's trace id as lower-case hex, when it has a valid one.
pub(super) fn trace_id_hex(record: &LogRecord) -> Option<String> {
    (record.trace_id.len() == 16 && record.trace_id.iter().any(|b| *b != 0))
        .then(|| super::to_hex(&record.trace_id))
}

/// The record's span id as lower-case hex, when it has a valid one.
pub(super) fn span_id_hex(record: &LogRecord) -> Option<String> {
    (record.span_id.len() == 8 && record.span_id.iter().any(|b| *b != 0))
        .then(|| super::to_hex(&record.span_id))
}

/// [`record_to_entry`] without `attributes`, and the attribute keys that
/// became fields (and so are left out of `attributes`).
pub(super) fn entry_fields(
    resource_attrs: &[KeyValue],
    record: &LogRecord,
) -> (LogEntry, Vec<&'static str>) {
    let time = match record.time_unix_nano {
        0 => record.observed_time_unix_nano,
        t => t,
    };
    // A mapped key: the record's value, else the resource's.
    let lookup = |key: &str| find(&record.attributes, key).or_else(|| find(resource_attrs, key));
    let mut used: Vec<&'static str> = Vec::with_capacity(8);
    let mut take = |key: &'static str| -> Option<String> {
        let found = lookup(key)?;
        used.push(key);
        Some(as_text(found))
    };
    let error_type = take(keys::EXCEPTION_TYPE);
    let error_message = take(keys::EXCEPTION_MESSAGE);
    let stack_trace = take(keys::EXCEPTION_STACKTRACE);
    let environment =
        take(keys::DEPLOYMENT_ENVIRONMENT_NAME).or_else(|| take(keys::DEPLOYMENT_ENVIRONMENT));
    let release = take(keys::SERVICE_VERSION);
    let sdk_version = take(keys::SDK_VERSION);
    let platform = take(keys::PLATFORM);
    let platform_version = take(keys::PLATFORM_VERSION);
    // Only a valid name is used (and so not repeated in `attributes`).
    let log_type = match lookup(keys::LOG_TYPE)
        .and_then(str_of)
        .and_then(LogType::from_name)
    {
        Some(t) => {
            used.push(keys::LOG_TYPE);
            t
        }
        None => inferred_log_type(error_type.is_some()),
    };
    let importance = match lookup(keys::IMPORTANCE)
        .and_then(str_of)
        .and_then(Importance::from_name)
    {
        Some(i) => {
            used.push(keys::IMPORTANCE);
            i
        }
        None => Importance::default(),
    };

    // Cutting fields to Ledger's limits (the exporter's job) belongs right
    // after this mapping; nothing is truncated here.
    let entry = LogEntry {
        timestamp: Timestamp::from_unix_nano(time),
        level: level_of(record.severity_number, &record.severity_text),
        log_type,
        importance,
        message: record.body.as_ref().and_then(body_text),
        error_type,
        error_message,
        stack_trace,
        environment,
        release,
        attributes: None,
        sdk_version,
        platform,
        platform_version,
    };
    (entry, used)
}

/// The OTLP severity number written for a level.
fn severity_of(level: Level) -> i32 {
    match level {
        Level::Debug => 5,
        Level::Info => 9,
        Level::Warning => 13,
        Level::Error => 17,
        Level::Critical => 21,
    }
}

/// The level of an OTLP severity number (1-24), else of its text, else info.
fn level_of(number: i32, text: &str) -> Level {
    let number = match number {
        1..=24 => number,
        _ => severity_number(text).unwrap_or(9),
    };
    match number {
        1..=8 => Level::Debug,
        9..=12 => Level::Info,
        13..=16 => Level::Warning,
        17..=20 => Level::Error,
        _ => Level::Critical,
    }
}

/// The `log_type` the way back assumes without `ledger.log_type`.
fn inferred_log_type(has_exception_type: bool) -> LogType {
    if has_exception_type {
        LogType::Exception
    } else {
        LogType::Logger
    }
}

/// An id Ledger would link: lower-case hex of the right length, not all zeros
/// (OTLP's "no id").
fn valid_id<const N: usize>(hex: &str) -> Option<[u8; N]> {
    if !is_lower_hex_id(hex, 2 * N) {
        return None;
    }
    super::from_hex::<N>(hex).filter(|id| id.iter().any(|b| *b != 0))
}

/// The last attribute with this key (a repeated key keeps its last value, as
/// when the attributes become a JSON object).
fn find<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attrs
        .iter()
        .rev()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
}

/// A value as text for a string field: strings as is, others as JSON.
fn as_text(value: &AnyValue) -> String {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        _ => any_value_to_json(value).to_string(),
    }
}

fn str_of(value: &AnyValue) -> Option<&str> {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => Some(s),
        _ => None,
    }
}

fn body_text(body: &AnyValue) -> Option<String> {
    match &body.value {
        None => None,
        Some(any_value::Value::StringValue(s)) => Some(s.clone()),
        Some(_) => Some(any_value_to_json(body).to_string()),
    }
}

fn string_value(s: String) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(s)),
    }
}

fn key_value(key: String, value: AnyValue) -> KeyValue {
    KeyValue {
        key,
        value: Some(value),
        ..Default::default()
    }
}
