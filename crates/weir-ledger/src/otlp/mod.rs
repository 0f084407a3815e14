//! The mapping between Ledger's types and OTLP, both ways. One place holds
//! the rules so the receiver (Ledger → OTLP), the exporter (OTLP → Ledger)
//! and the stand-in server agree.
//!
//! # Logs
//!
//! | `LogEntry` | OTLP `LogRecord` |
//! |---|---|
//! | `timestamp` | `time_unix_nano` (µs precision; a record without time uses its observed time) |
//! | `level` debug / info / warning / error / critical | `severity_number` 5 / 9 / 13 / 17 / 21, `severity_text` the level's name |
//! | `message` | `body` string (none when null) |
//! | `attributes` | attributes, nested objects as kvlists, arrays as arrays |
//! | `attributes.trace_id` / `span_id` (32 / 16 lower-case hex, not all zeros) | `trace_id` / `span_id` (otherwise they stay attributes) |
//! | `error_type` / `error_message` / `stack_trace` | `exception.type` / `exception.message` / `exception.stacktrace` |
//! | `environment` | `deployment.environment.name` |
//! | `release` | `service.version` |
//! | `log_type` | `ledger.log_type`, written only when it differs from what the way back infers: `exception` when `exception.type` is present, else `logger` |
//! | `importance` | `ledger.importance`, written only when not `standard` |
//! | `sdk_version` / `platform` / `platform_version` | `ledger.sdk_version` / `ledger.platform` / `ledger.platform_version` |
//!
//! The way back ([`record_to_entry`]) is the exact inverse for what the way
//! there produced, and also takes any OTLP record:
//! - time: `time_unix_nano`, else `observed_time_unix_nano`, written as
//!   RFC 3339 UTC with `Z` and at most 6 fraction digits (nanoseconds are
//!   truncated to microseconds; a record with neither time gets the epoch,
//!   which the exporter should replace with its own clock).
//! - level: severity number 1-8 debug, 9-12 info, 13-16 warning, 17-20 error,
//!   21-24 critical; else the severity text (any case, common names such as
//!   `warn`, `fatal`, `err`, `notice`); else `info`.
//! - message: a string body as is; any other body as JSON text (bytes as
//!   base64); no body, none.
//! - the keys of the table above are looked up in the record's attributes,
//!   then the resource's (`service.version` and `deployment.environment.name`
//!   usually sit on the resource), falling back to `deployment.environment`
//!   for `environment`; a key used for a field is not repeated in
//!   `attributes`. `ledger.log_type` / `ledger.importance` are used only when
//!   they name a valid value; otherwise they stay attributes.
//! - `attributes`: the resource's attributes, then the record's (the record
//!   wins on a shared key), plus `trace_id` / `span_id` as lower-case hex when
//!   the record has valid ids. Values: strings, booleans, integers, doubles
//!   as JSON; a non-finite double as the string `NaN` / `Infinity` /
//!   `-Infinity`; bytes as base64; kvlists as objects; arrays as arrays; an
//!   empty value as `null`. No attributes: `attributes` is `null`.
//!
//! Not preserved by a round trip: `attributes: {}` (comes back `null`),
//! integers above `i64::MAX` (become strings on the way there), and
//! attribute keys that collide with the mapped names above (they are read as
//! the fields they name on the way back).
//!
//! # Spans
//!
//! [`spans_to_otlp`]: one resource per `service_name` (attribute
//! `service.name`, left out when empty), in order of first appearance, one
//! scope `ledger`; kind server 0 → SERVER, client 1 → CLIENT, internal 2 →
//! INTERNAL, producer 3 → PRODUCER, consumer 4 → CONSUMER, anything else →
//! UNSPECIFIED; status 0 / 1 / 2 → UNSET / OK / ERROR with its message; events
//! with their attributes; negative times become 0.

mod logs;
mod spans;
mod value;
mod write;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod write_tests;

pub use logs::{entry_to_record, record_to_entry};
pub use spans::{ledger_kind_to_otlp, spans_to_otlp};
pub use value::any_value_to_json;
pub use write::write_fitted_entry;

/// Attribute keys the mapping reads and writes.
pub mod keys {
    /// `error_type`.
    pub const EXCEPTION_TYPE: &str = "exception.type";
    /// `error_message`.
    pub const EXCEPTION_MESSAGE: &str = "exception.message";
    /// `stack_trace`.
    pub const EXCEPTION_STACKTRACE: &str = "exception.stacktrace";
    /// `environment` (current semantic convention).
    pub const DEPLOYMENT_ENVIRONMENT_NAME: &str = "deployment.environment.name";
    /// `environment` (older semantic convention, read only).
    pub const DEPLOYMENT_ENVIRONMENT: &str = "deployment.environment";
    /// `release`.
    pub const SERVICE_VERSION: &str = "service.version";
    /// The resource attribute spans are grouped by.
    pub const SERVICE_NAME: &str = "service.name";
    /// `log_type`.
    pub const LOG_TYPE: &str = "ledger.log_type";
    /// `importance`.
    pub const IMPORTANCE: &str = "ledger.importance";
    /// `sdk_version`.
    pub const SDK_VERSION: &str = "ledger.sdk_version";
    /// `platform`.
    pub const PLATFORM: &str = "ledger.platform";
    /// `platform_version`.
    pub const PLATFORM_VERSION: &str = "ledger.platform_version";
    /// Attribute of a `LogEntry` carrying the trace id.
    pub const TRACE_ID: &str = "trace_id";
    /// Attribute of a `LogEntry` carrying the span id.
    pub const SPAN_ID: &str = "span_id";
}

/// Lower-case hex of an id.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// Bytes of an id written in hex of either case; `None` when it is not
/// `2 * N` hex digits.
pub(crate) fn from_hex<const N: usize>(hex: &str) -> Option<[u8; N]> {
    let digits = hex.as_bytes();
    if digits.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let hi = char::from(pair[0]).to_digit(16)?;
        let lo = char::from(pair[1]).to_digit(16)?;
        *byte = (hi << 4 | lo) as u8;
    }
    Some(out)
}
