//! The OTLP/JSON encoding of export requests, as the OTLP specification defines
//! it: the proto3 JSON mapping with lowerCamelCase names, trace and span ids as
//! lower-case hex (OTLP's one deviation from proto3, which would use base64), enums
//! as integers, 64-bit integers as decimal strings, non-finite doubles as `"NaN"`,
//! `"Infinity"`, `"-Infinity"`, and fields at their default value left out.
//!
//! The encoders append straight to a caller's buffer (no serde, no allocation per
//! record), since the file exporter runs them for every record it writes.
//!
//! ```
//! use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
//!
//! let logs = vec![ResourceLogs {
//!     scope_logs: vec![ScopeLogs {
//!         log_records: vec![LogRecord { time_unix_nano: 5, severity_number: 9, ..Default::default() }],
//!         ..Default::default()
//!     }],
//!     ..Default::default()
//! }];
//! let mut out = Vec::new();
//! weir_otlp::json::encode_logs(&logs, &mut out);
//! assert_eq!(
//!     out,
//!     br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"5","severityNumber":9}]}]}]}"#
//! );
//! ```

mod common;
mod logs;
mod metrics;
mod traces;
mod writer;

pub use logs::encode_logs;
pub use metrics::encode_metrics;
pub use traces::encode_traces;

use weir_core::SignalData;

/// Appends `data` as an OTLP/JSON export request: `{"resourceLogs":[...]}`,
/// `{"resourceSpans":[...]}` or `{"resourceMetrics":[...]}`.
pub fn encode(data: &SignalData, out: &mut Vec<u8>) {
    match data {
        SignalData::Logs(v) => encode_logs(v, out),
        SignalData::Traces(v) => encode_traces(v, out),
        SignalData::Metrics(v) => encode_metrics(v, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_core::otlp::metrics::v1::ResourceMetrics;
    use weir_core::otlp::trace::v1::ResourceSpans;

    #[test]
    fn encode_dispatches_by_signal() {
        let mut out = Vec::new();
        encode(
            &SignalData::Traces(vec![ResourceSpans::default()]),
            &mut out,
        );
        assert_eq!(out, br#"{"resourceSpans":[{}]}"#);
        out.clear();
        encode(
            &SignalData::Metrics(vec![ResourceMetrics::default()]),
            &mut out,
        );
        assert_eq!(out, br#"{"resourceMetrics":[{}]}"#);
        out.clear();
        encode(&SignalData::Logs(vec![]), &mut out);
        assert_eq!(out, b"{}");
    }
}

/// Why an OTLP/JSON body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonDecodeError {
    /// What is wrong and where, e.g. `resourceLogs[0].scopeLogs[1].logRecords[3].traceId: expected 32 hex digits`.
    pub message: String,
}

impl std::fmt::Display for JsonDecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for JsonDecodeError {}

/// Decodes an OTLP/JSON export request of `signal` (lenient as the spec asks:
/// lowerCamelCase or snake_case keys, enums as integers or names, 64-bit
/// integers as strings or numbers, unknown fields ignored, hex ids).
///
/// Errors name the JSON path of the offending value, e.g.
/// `resourceLogs[0].scopeLogs[0].logRecords[2].timeUnixNano: expected an integer or integer string`.
pub fn decode(
    signal: weir_core::Signal,
    body: &[u8],
) -> Result<weir_core::SignalData, JsonDecodeError> {
    decode::decode_request(signal, body, false).map(|(data, _)| data)
}

/// An OTLP/JSON request taken in part by [`decode_partial`].
#[derive(Debug, Clone, PartialEq)]
pub struct PartialDecode {
    /// The items that decoded and are valid, under their resources and scopes.
    pub data: weir_core::SignalData,
    /// The items left out, with the first few reasons (each with its JSON path).
    pub rejected: crate::validate::Rejections,
}

/// Decodes an OTLP/JSON export request of `signal` item by item, as a receiver
/// does: an item (log record, span, data point) that does not decode (a
/// non-hex `traceId`, a string where a number belongs, ...) or that is invalid
/// by [`crate::validate`] is left out and recorded with its path, e.g.
/// `resourceSpans[0].scopeSpans[0].spans[2].traceId: expected 32 hex digits`;
/// scopes, resources and metrics that lose all their items that way are left
/// out too. Anything wrong outside the items (not JSON, not the OTLP shape,
/// a bad resource or scope) fails the whole request, as with [`decode`].
pub fn decode_partial(
    signal: weir_core::Signal,
    body: &[u8],
) -> Result<PartialDecode, JsonDecodeError> {
    decode::decode_request(signal, body, true)
        .map(|(data, rejected)| PartialDecode { data, rejected })
}

mod decode;
mod decode_common;
mod decode_logs;
mod decode_metrics;
#[cfg(test)]
mod decode_tests;
mod decode_traces;
