//! Log-line mapping: the one place that turns foreign log input (a text line, a
//! JSON object) into an OTLP [`LogRecord`]. The stdin receiver uses it for every
//! line; the http receiver (one object, arrays, NDJSON: see [`records_from_json_body`])
//! and the enrich processor reuse it.
//!
//! A JSON object maps as follows (keys are case-sensitive; when the first alias of
//! a field is present, the later aliases stay ordinary attributes):
//!
//! | key | becomes |
//! |---|---|
//! | `message`, `msg`, `body` | body (a string stays a string; any other value keeps its type) |
//! | `level`, `severity` | severity text (as given) and number (see [`severity_number`]) |
//! | `timestamp`, `time`, `ts` | time: RFC 3339 or epoch s/ms/µs/ns (see [`timestamp`]) |
//! | `trace_id`, `traceId` | trace id, when 32 hex digits |
//! | `span_id`, `spanId` | span id, when 16 hex digits |
//! | anything else | an attribute of the same type; objects nest as kvlists |
//!
//! A value that cannot fill its field (a level that is an object, a time that does
//! not parse, an id that is not hex) is kept as an attribute under its own key, so
//! no input is lost.
//!
//! ```
//! use weir_otlp::logline::{LineFormat, record_from_line};
//! let r = record_from_line(br#"{"msg":"hi","level":"warn","user":"ada"}"#, LineFormat::Auto, 1);
//! assert_eq!(r.severity_number, 13);
//! assert_eq!(r.attributes[0].key, "user");
//! ```

mod body;
mod ids;
mod object;
mod severity;
pub mod timestamp;

#[cfg(test)]
mod tests;

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use serde::Deserialize;
use serde::de::DeserializeSeed;

pub use body::{BodyError, BodyRecords, records_from_json_body, records_from_ndjson};
pub use ids::{parse_span_id, parse_trace_id};
pub use object::any_value_from_json;
pub use severity::severity_number;
pub use timestamp::{parse_rfc3339, timestamp_from_any, timestamp_from_json};

/// Attribute names weir itself puts on records.
pub mod attr {
    /// Why a line read in `json` format was kept as text (a short reason).
    pub const PARSE_ERROR: &str = "weir.parse_error";
    /// `true` on a record whose input was cut to the size limit.
    pub const TRUNCATED: &str = "weir.truncated";
    /// Length in bytes of the input before it was cut.
    pub const ORIGINAL_BYTES: &str = "weir.original_bytes";
}

/// How to read a line. In configs: `auto`, `text` or `json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineFormat {
    /// A line that starts with `{` and parses as a JSON object is structured;
    /// any other line is text.
    #[default]
    Auto,
    /// Every line is text: the body is the line.
    Text,
    /// Every line should be a JSON object; one that is not is kept as text with
    /// a [`attr::PARSE_ERROR`] attribute.
    Json,
}

/// Why a line did not map as a JSON object.
#[derive(Debug, thiserror::Error)]
pub enum JsonLineError {
    /// The input does not start with `{`.
    #[error("not a JSON object")]
    NotAnObject,
    /// The JSON is malformed (or not valid UTF-8).
    #[error("invalid JSON: {0}")]
    Invalid(#[from] serde_json::Error),
}

/// Maps one line (without its `\n`; a trailing `\r` is stripped) read in `format`.
/// Never fails: input that is not what `format` expects is kept as text.
pub fn record_from_line(line: &[u8], format: LineFormat, observed_unix_nano: u64) -> LogRecord {
    let line = strip_line_end(line);
    match format {
        LineFormat::Text => record_from_text(line, observed_unix_nano),
        LineFormat::Auto => {
            if starts_like_object(line)
                && let Ok(record) = record_from_json_slice(line, observed_unix_nano)
            {
                return record;
            }
            record_from_text(line, observed_unix_nano)
        }
        LineFormat::Json => match record_from_json_slice(line, observed_unix_nano) {
            Ok(record) => record,
            Err(e) => {
                let mut record = record_from_text(line, observed_unix_nano);
                record
                    .attributes
                    .push(string_attribute(attr::PARSE_ERROR, e.to_string()));
                record
            }
        },
    }
}

/// A record whose body is `line` as a string (invalid UTF-8 replaced with U+FFFD;
/// a trailing `\r` stripped).
pub fn record_from_text(line: &[u8], observed_unix_nano: u64) -> LogRecord {
    let line = strip_line_end(line);
    // `from_utf8` has a fast path that `from_utf8_lossy` lacks (measured ~10% of
    // the stdin path for 1 KB lines); valid input costs the one copy the struct needs.
    let body = match std::str::from_utf8(line) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(line).into_owned(),
    };
    LogRecord {
        observed_time_unix_nano: observed_unix_nano,
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue(body)),
        }),
        ..Default::default()
    }
}

/// Maps the JSON object in `bytes` (surrounding whitespace allowed), deserializing
/// straight into the record without an intermediate `serde_json::Value`.
pub fn record_from_json_slice(
    bytes: &[u8],
    observed_unix_nano: u64,
) -> Result<LogRecord, JsonLineError> {
    if !starts_like_object(bytes) {
        return Err(JsonLineError::NotAnObject);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let record = object::RecordSeed::new(observed_unix_nano).deserialize(&mut de)?;
    de.end()?;
    Ok(record)
}

/// Maps an already parsed JSON object (for callers that hold a
/// `serde_json::Value`, e.g. a decoded HTTP body).
pub fn record_from_json_object(
    object: serde_json::Map<String, serde_json::Value>,
    observed_unix_nano: u64,
) -> LogRecord {
    object::RecordSeed::new(observed_unix_nano)
        .deserialize(serde_json::Value::Object(object))
        .expect("a JSON object always maps onto a record")
}

/// Marks `record` as cut from an input of `original_bytes` bytes
/// ([`attr::TRUNCATED`], [`attr::ORIGINAL_BYTES`]).
pub fn mark_truncated(record: &mut LogRecord, original_bytes: usize) {
    record.attributes.push(KeyValue {
        key: attr::TRUNCATED.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::BoolValue(true)),
        }),
        ..Default::default()
    });
    record.attributes.push(KeyValue {
        key: attr::ORIGINAL_BYTES.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(
                i64::try_from(original_bytes).unwrap_or(i64::MAX),
            )),
        }),
        ..Default::default()
    });
}

/// The longest prefix of `bytes` of at most `max` bytes that does not end inside
/// a UTF-8 sequence. `bytes` is returned whole when it fits.
pub fn truncate_utf8(bytes: &[u8], max: usize) -> &[u8] {
    if bytes.len() <= max {
        bytes
    } else {
        trim_partial_utf8(&bytes[..max])
    }
}

/// Drops the UTF-8 sequence that `prefix`, cut from longer input, may end in
/// the middle of. Looks only at the last few bytes, so it is O(1).
pub fn trim_partial_utf8(prefix: &[u8]) -> &[u8] {
    // Find the lead byte of the last sequence (at most 3 continuation bytes back).
    for back in 1..=prefix.len().min(4) {
        let i = prefix.len() - back;
        let b = prefix[i];
        if b & 0xC0 == 0x80 {
            continue; // continuation byte
        }
        let needed = match b {
            0x00..=0x7F => 1,
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => return prefix, // not UTF-8 anyway: a byte cut is as good as any
        };
        return if back >= needed { prefix } else { &prefix[..i] };
    }
    prefix
}

/// Removes a trailing `\n` and then a trailing `\r`.
fn strip_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Whether the first non-whitespace byte is `{`.
fn starts_like_object(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}

fn string_attribute(key: &str, value: String) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value)),
        }),
        ..Default::default()
    }
}
