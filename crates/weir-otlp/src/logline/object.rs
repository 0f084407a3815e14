//! Deserializes a JSON object straight into a [`LogRecord`] with serde visitors:
//! no `serde_json::Value` tree is built, and strings are copied once, into the
//! OTLP structs that must own them.

use std::borrow::Cow;
use std::fmt;

use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{ids, severity, timestamp};

/// Record fields fed from well-known keys, and their aliases by priority.
#[derive(Clone, Copy)]
enum Field {
    Body = 0,
    Severity = 1,
    Time = 2,
    TraceId = 3,
    SpanId = 4,
}

const FIELD_COUNT: usize = 5;

const FIELDS: [Field; FIELD_COUNT] = [
    Field::Body,
    Field::Severity,
    Field::Time,
    Field::TraceId,
    Field::SpanId,
];

const ALIASES: [&[&str]; FIELD_COUNT] = [
    &["message", "msg", "body"],
    &["level", "severity"],
    &["timestamp", "time", "ts"],
    &["trace_id", "traceId"],
    &["span_id", "spanId"],
];

/// The field a key feeds and its alias rank (0 = preferred).
fn field_of(key: &str) -> Option<(Field, u8)> {
    let found = match key {
        "message" => (Field::Body, 0),
        "msg" => (Field::Body, 1),
        "body" => (Field::Body, 2),
        "level" => (Field::Severity, 0),
        "severity" => (Field::Severity, 1),
        "timestamp" => (Field::Time, 0),
        "time" => (Field::Time, 1),
        "ts" => (Field::Time, 2),
        "trace_id" => (Field::TraceId, 0),
        "traceId" => (Field::TraceId, 1),
        "span_id" => (Field::SpanId, 0),
        "spanId" => (Field::SpanId, 1),
        _ => return None,
    };
    Some(found)
}

/// Builds a [`LogRecord`] from a JSON object.
pub(super) struct RecordSeed {
    observed_unix_nano: u64,
}

impl RecordSeed {
    pub(super) fn new(observed_unix_nano: u64) -> Self {
        RecordSeed { observed_unix_nano }
    }
}

impl<'de> DeserializeSeed<'de> for RecordSeed {
    type Value = LogRecord;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<LogRecord, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed {
    type Value = LogRecord;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LogRecord, A::Error> {
        // A well-known key may be outranked by an alias that comes later in the
        // object, so candidates wait here until the object ends.
        let mut candidates: [Option<(u8, AnyValue)>; FIELD_COUNT] = Default::default();
        let mut attributes = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value = map.next_value_seed(AnyValueSeed)?;
            let Some((field, rank)) = field_of(&key) else {
                attributes.push(key_value(key.into_owned(), value));
                continue;
            };
            let slot = &mut candidates[field as usize];
            match slot {
                Some((held, _)) if *held <= rank => {
                    attributes.push(key_value(key.into_owned(), value))
                }
                _ => {
                    if let Some((held, outranked)) = slot.replace((rank, value)) {
                        let name = ALIASES[field as usize][held as usize];
                        attributes.push(key_value(name.to_owned(), outranked));
                    }
                }
            }
        }

        let mut record = LogRecord {
            observed_time_unix_nano: self.observed_unix_nano,
            ..Default::default()
        };
        for (field, candidate) in FIELDS.into_iter().zip(candidates) {
            let Some((rank, value)) = candidate else {
                continue;
            };
            if let Some(unused) = apply(&mut record, field, value) {
                let name = ALIASES[field as usize][rank as usize];
                attributes.push(key_value(name.to_owned(), unused));
            }
        }
        record.attributes = attributes;
        Ok(record)
    }
}

/// Puts `value` into the record's `field`; gives it back when it cannot fill
/// that field, so the caller keeps it as an attribute.
fn apply(record: &mut LogRecord, field: Field, value: AnyValue) -> Option<AnyValue> {
    use any_value::Value;
    match field {
        Field::Body => record.body = Some(value),
        Field::Severity => match value.value {
            Some(Value::StringValue(text)) => {
                record.severity_number = severity::severity_number(&text).unwrap_or(0);
                record.severity_text = text;
            }
            Some(Value::IntValue(n)) if (1..=24).contains(&n) => record.severity_number = n as i32,
            other => return Some(AnyValue { value: other }),
        },
        Field::Time => match timestamp::timestamp_from_any(&value) {
            Some(t) => record.time_unix_nano = t,
            None => return Some(value),
        },
        Field::TraceId => match string_of(&value).and_then(ids::parse_trace_id) {
            Some(id) => record.trace_id = id.to_vec(),
            None => return Some(value),
        },
        Field::SpanId => match string_of(&value).and_then(ids::parse_span_id) {
            Some(id) => record.span_id = id.to_vec(),
            None => return Some(value),
        },
    }
    None
}

fn string_of(value: &AnyValue) -> Option<&str> {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => Some(s),
        _ => None,
    }
}

fn key_value(key: String, value: AnyValue) -> KeyValue {
    KeyValue {
        key,
        value: Some(value),
        ..Default::default()
    }
}

/// An object key, borrowed from the input when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// Any JSON value as the matching [`AnyValue`].
pub(super) struct AnyValueSeed;

impl<'de> DeserializeSeed<'de> for AnyValueSeed {
    type Value = AnyValue;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<AnyValue, D::Error> {
        d.deserialize_any(self)
    }
}

fn any(value: any_value::Value) -> AnyValue {
    AnyValue { value: Some(value) }
}

impl<'de> Visitor<'de> for AnyValueSeed {
    type Value = AnyValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<AnyValue, E> {
        Ok(any(any_value::Value::BoolValue(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<AnyValue, E> {
        Ok(any(any_value::Value::IntValue(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<AnyValue, E> {
        // Above i64::MAX a double would lose digits; the decimal string keeps them.
        Ok(any(match i64::try_from(v) {
            Ok(n) => any_value::Value::IntValue(n),
            Err(_) => any_value::Value::StringValue(v.to_string()),
        }))
    }
    fn visit_f64<E>(self, v: f64) -> Result<AnyValue, E> {
        Ok(any(any_value::Value::DoubleValue(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<AnyValue, E> {
        Ok(any(any_value::Value::StringValue(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<AnyValue, E> {
        Ok(any(any_value::Value::StringValue(v)))
    }
    fn visit_unit<E>(self) -> Result<AnyValue, E> {
        Ok(AnyValue { value: None })
    }
    fn visit_none<E>(self) -> Result<AnyValue, E> {
        Ok(AnyValue { value: None })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AnyValue, A::Error> {
        let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element_seed(AnyValueSeed)? {
            values.push(v);
        }
        Ok(any(any_value::Value::ArrayValue(ArrayValue { values })))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnyValue, A::Error> {
        let mut values = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value = map.next_value_seed(AnyValueSeed)?;
            values.push(key_value(key.into_owned(), value));
        }
        Ok(any(any_value::Value::KvlistValue(KeyValueList { values })))
    }
}

/// Converts a parsed JSON value into the matching [`AnyValue`] (objects become
/// kvlists, arrays arrays, `null` an empty value).
pub fn any_value_from_json(value: serde_json::Value) -> AnyValue {
    AnyValueSeed
        .deserialize(value)
        .expect("every JSON value has an AnyValue")
}
