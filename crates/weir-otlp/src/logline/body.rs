//! Many records in one body, as an HTTP client sends them: a JSON array of
//! objects, NDJSON (one object a line), or the wrapper
//! `{"resource": {...}, "logs": [...]}`. Each object maps exactly as one
//! stdin line does ([`RecordSeed`]), straight from the bytes.
//!
//! Errors say which record failed (its index in the array, or its line), so
//! a client can find it; a body with a bad record is refused whole, so a
//! retry never duplicates the good ones.

use std::fmt;

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::object::{AnyValueSeed, RecordSeed};

/// Where in a body the first bad record is, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The body is not JSON at all, or not an object or array of objects.
    #[error("{0}")]
    Body(String),
    /// Record `index` (0-based) of the array is not a valid object.
    #[error("record {index}: {reason}")]
    Record {
        /// 0-based position in the array.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// Line `line` (1-based) of an NDJSON body is not a valid object.
    #[error("line {line}: {reason}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// Records of a body and the resource attributes its wrapper named.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct BodyRecords {
    /// The `resource` object of a wrapper, as attributes (empty otherwise).
    pub resource: Vec<KeyValue>,
    /// The records, in body order.
    pub records: Vec<LogRecord>,
}

/// Maps an `application/json` body: one object (one record), an array of
/// objects, or the wrapper `{"resource": {...}, "logs": [...]}` (an object
/// whose only keys are `logs`, an array, and optionally `resource`, an
/// object; any other object is a record, even one with a `logs` key).
pub fn records_from_json_body(body: &[u8], observed: u64) -> Result<BodyRecords, BodyError> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => {
            let mut records = Vec::new();
            records_from_array(body, observed, &mut records)?;
            Ok(BodyRecords {
                resource: Vec::new(),
                records,
            })
        }
        Some(b'{') => {
            if let Some((resource, logs)) = wrapper(body)? {
                let resource = match resource {
                    None => Vec::new(),
                    Some(raw) => resource_attributes(raw)?,
                };
                let mut records = Vec::new();
                records_from_array(logs.get().as_bytes(), observed, &mut records)?;
                return Ok(BodyRecords { resource, records });
            }
            let record = super::record_from_json_slice(body, observed)
                .map_err(|e| BodyError::Record {
                    index: 0,
                    reason: e.to_string(),
                })?;
            Ok(BodyRecords {
                resource: Vec::new(),
                records: vec![record],
            })
        }
        Some(_) => Err(BodyError::Body(
            "expected a JSON object, an array of objects, or {\"resource\": {...}, \"logs\": [...]}"
                .into(),
        )),
        None => Err(BodyError::Body("empty body".into())),
    }
}

/// Maps an NDJSON body: each non-blank line must be a JSON object. Records
/// are appended to `out`.
pub fn records_from_ndjson(
    body: &[u8],
    observed: u64,
    out: &mut Vec<LogRecord>,
) -> Result<(), BodyError> {
    for (i, line) in body.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let record =
            super::record_from_json_slice(line, observed).map_err(|e| BodyError::Line {
                line: i + 1,
                reason: e.to_string(),
            })?;
        out.push(record);
    }
    Ok(())
}

/// Appends the records of a JSON array of objects to `out`.
fn records_from_array(
    bytes: &[u8],
    observed: u64,
    out: &mut Vec<LogRecord>,
) -> Result<(), BodyError> {
    let start = out.len();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let seed = ArraySeed { observed, out };
    let result = seed.deserialize(&mut de).and_then(|()| de.end());
    // The records mapped before the error are in `out`: the next one failed.
    result.map_err(|e| BodyError::Record {
        index: out.len() - start,
        reason: if e.is_syntax() || e.is_eof() {
            format!("invalid JSON: {e}")
        } else {
            e.to_string()
        },
    })
}

struct ArraySeed<'o> {
    observed: u64,
    out: &'o mut Vec<LogRecord>,
}

impl<'de> DeserializeSeed<'de> for ArraySeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ArraySeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of JSON objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if let Some(n) = seq.size_hint() {
            self.out.reserve(n);
        }
        while let Some(record) = seq.next_element_seed(RecordSeed::new(self.observed))? {
            self.out.push(record);
        }
        Ok(())
    }
}

/// The wrapper's parts when `body` is one: `(resource, logs)`.
fn wrapper(body: &[u8]) -> Result<Option<(Option<&RawValue>, &RawValue)>, BodyError> {
    let top: Vec<(String, &RawValue)> = {
        let mut de = serde_json::Deserializer::from_slice(body);
        let top = TopSeed
            .deserialize(&mut de)
            .and_then(|t| de.end().map(|()| t));
        match top {
            Ok(t) => t,
            Err(e) => return Err(BodyError::Body(format!("invalid JSON: {e}"))),
        }
    };
    let mut logs = None;
    let mut resource = None;
    for (key, raw) in top {
        match key.as_str() {
            "logs" if raw.get().starts_with('[') => logs = Some(raw),
            "resource" if raw.get().starts_with('{') => resource = Some(raw),
            _ => return Ok(None),
        }
    }
    Ok(logs.map(|logs| (resource, logs)))
}

/// The top-level keys of an object with their values left unparsed.
struct TopSeed;

impl<'de> DeserializeSeed<'de> for TopSeed {
    type Value = Vec<(String, &'de RawValue)>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopSeed {
    type Value = Vec<(String, &'de RawValue)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut keys = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            keys.push((key, map.next_value::<&RawValue>()?));
        }
        Ok(keys)
    }
}

/// The wrapper's `resource` object as attributes, in their order (same
/// value mapping as record attributes).
fn resource_attributes(raw: &RawValue) -> Result<Vec<KeyValue>, BodyError> {
    let mut de = serde_json::Deserializer::from_str(raw.get());
    ResourceSeed
        .deserialize(&mut de)
        .map_err(|e| BodyError::Body(format!("`resource` is not a JSON object: {e}")))
}

struct ResourceSeed;

impl<'de> DeserializeSeed<'de> for ResourceSeed {
    type Value = Vec<KeyValue>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ResourceSeed {
    type Value = Vec<KeyValue>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut attrs = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(AnyValueSeed)?;
            attrs.push(KeyValue {
                key,
                value: Some(value),
                ..Default::default()
            });
        }
        Ok(attrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::any_value::Value;

    fn body_text(r: &LogRecord) -> &str {
        match r.body.as_ref().and_then(|b| b.value.as_ref()) {
            Some(Value::StringValue(s)) => s,
            other => panic!("body {other:?}"),
        }
    }

    #[test]
    fn one_object_is_one_record_mapped_as_a_stdin_line() {
        let line = br#"{"msg":"hi","level":"warn","user":"ada"}"#;
        let got = records_from_json_body(line, 7).unwrap();
        assert_eq!(
            got.records,
            vec![super::super::record_from_json_slice(line, 7).unwrap()]
        );
        assert!(got.resource.is_empty());
    }

    #[test]
    fn arrays_keep_order_and_map_each_object() {
        let got = records_from_json_body(br#" [{"msg":"a"},{"msg":"b","n":1}] "#, 1).unwrap();
        assert_eq!(got.records.len(), 2);
        assert_eq!(body_text(&got.records[0]), "a");
        assert_eq!(body_text(&got.records[1]), "b");
        assert_eq!(got.records[1].attributes[0].key, "n");
        assert!(records_from_json_body(b"[]", 1).unwrap().records.is_empty());
    }

    #[test]
    fn the_wrapper_gives_the_resource() {
        let got = records_from_json_body(
            br#"{"resource":{"service.name":"api","pod":{"n":2}},"logs":[{"msg":"x"}]}"#,
            1,
        )
        .unwrap();
        assert_eq!(got.resource.len(), 2);
        assert_eq!(got.resource[0].key, "service.name");
        assert_eq!(got.records.len(), 1);
        // `logs` alone is a wrapper too; `logs` next to other keys is a record.
        assert_eq!(
            records_from_json_body(br#"{"logs":[{"msg":"x"},{"msg":"y"}]}"#, 1)
                .unwrap()
                .records
                .len(),
            2
        );
        let record = records_from_json_body(br#"{"msg":"m","logs":[1,2]}"#, 1).unwrap();
        assert_eq!(record.records.len(), 1);
        assert_eq!(body_text(&record.records[0]), "m");
    }

    #[test]
    fn a_bad_record_is_named_by_index_or_line() {
        let err = records_from_json_body(br#"[{"msg":"a"},{"msg":"b"},3]"#, 1).unwrap_err();
        assert!(matches!(err, BodyError::Record { index: 2, .. }), "{err}");
        let err = records_from_json_body(br#"[{"msg":"a"},{"msg":"b""#, 1).unwrap_err();
        assert!(matches!(err, BodyError::Record { index: 1, .. }), "{err}");
        assert!(
            err.to_string().starts_with("record 1: invalid JSON"),
            "{err}"
        );
        let err = records_from_json_body(br#"{"logs":[{"msg":"a"},"x"]}"#, 1).unwrap_err();
        assert!(matches!(err, BodyError::Record { index: 1, .. }), "{err}");
        let mut out = Vec::new();
        let err = records_from_ndjson(
            b"{\"msg\":\"a\"}\n\n{\"msg\":\"b\"}\nnot json\n",
            1,
            &mut out,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "line 4: not a JSON object");
        assert!(matches!(
            records_from_json_body(b"42", 1),
            Err(BodyError::Body(_))
        ));
        assert!(matches!(
            records_from_json_body(b"  ", 1),
            Err(BodyError::Body(_))
        ));
        assert!(matches!(
            records_from_json_body(b"{\"a\":", 1),
            Err(BodyError::Body(_))
        ));
    }

    #[test]
    fn ndjson_skips_blank_lines_and_takes_crlf() {
        let mut out = Vec::new();
        records_from_ndjson(b"{\"msg\":\"a\"}\r\n\n  \n{\"msg\":\"b\"}", 1, &mut out).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(body_text(&out[1]), "b");
    }
}
