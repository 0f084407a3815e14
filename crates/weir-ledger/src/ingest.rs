//! Ledger's ingestion service: the per-item rules applied after the gateway
//! accepted the request. An item that breaks one is rejected inside the 202
//! answer; the rest of the batch goes on.
//!
//! Log rules, checked in this order (the first one broken is the reason):
//! 1. `timestamp` more than 5 minutes after the server's clock.
//! 2. `len(json.dumps(attributes))` over 100,000 (see [`crate::pyjson`]).
//! 3. `log_type` `exception`: `error_type` and `error_message` non-empty.
//! 4. `log_type` `endpoint`: `attributes.endpoint`, an object holding
//!    `method`, `path`, `status_code` and `duration_ms`.
//!
//! `attributes.trace_id` / `span_id` that are not 32 / 16 lower-case hex
//! digits are ignored by Ledger (not linked to a trace), never a reason.
//!
//! Span rules: ids (lower-cased) must be 32 / 16 hex digits, the parent id 16
//! or empty; start at most 5 minutes ahead; duration from 0 to 24 hours.
//! Ledger's published contract gives no maximum duration: 24 hours is
//! weir's choice, documented in [`MAX_SPAN_DURATION_NANOS`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::entry::{LogEntry, LogType, limits};
use crate::gateway::SpanIn;
use crate::pyjson;

const FUTURE_SKEW_NANOS: i128 = limits::FUTURE_SKEW_SECS as i128 * 1_000_000_000;

/// Longest span accepted: 24 hours.
pub const MAX_SPAN_DURATION_NANOS: i64 = 24 * 3600 * 1_000_000_000;

/// Keys `attributes.endpoint` must hold when `log_type` is `endpoint`, in the
/// order Ledger lists the missing ones.
const ENDPOINT_KEYS: [&str; 4] = ["method", "path", "status_code", "duration_ms"];

/// Checks one log as Ledger's ingestion service does; `Err` holds Ledger's
/// reason (without the `Log {idx}: ` prefix, which [`IngestResponse`] adds).
pub fn check(entry: &LogEntry, now_unix_nano: u64) -> Result<(), String> {
    let ts_nanos = i128::from(entry.timestamp.unix_micros()) * 1_000;
    if ts_nanos > i128::from(now_unix_nano) + FUTURE_SKEW_NANOS {
        return Err("Timestamp cannot be more than 5 minutes in the future".into());
    }
    if let Some(attributes) = &entry.attributes {
        if pyjson::object_len(attributes) > limits::ATTRIBUTES_BYTES {
            return Err(format!(
                "Attributes JSONB cannot exceed {} bytes",
                limits::ATTRIBUTES_BYTES
            ));
        }
    }
    match entry.log_type {
        LogType::Exception => {
            if entry.error_type.as_deref().is_none_or(str::is_empty) {
                return Err("error_type is required when log_type is 'exception'".into());
            }
            if entry.error_message.as_deref().is_none_or(str::is_empty) {
                return Err("error_message is required when log_type is 'exception'".into());
            }
        }
        LogType::Endpoint => check_endpoint(entry)?,
        _ => {}
    }
    Ok(())
}

fn check_endpoint(entry: &LogEntry) -> Result<(), String> {
    let Some(attributes) = entry.attributes.as_ref().filter(|a| !a.is_empty()) else {
        return Err("attributes field is required when log_type is 'endpoint'".into());
    };
    // Python's `if not endpoint` treats an empty object like a missing one; a
    // value that is not an object cannot hold the keys, so it counts as missing.
    let endpoint = match attributes.get("endpoint") {
        Some(Value::Object(e)) if !e.is_empty() => e,
        _ => {
            return Err(
                "attributes.endpoint is required when log_type is 'endpoint'. \
                        Must include: method, path, status_code, duration_ms"
                    .into(),
            );
        }
    };
    let missing: Vec<&str> = ENDPOINT_KEYS
        .into_iter()
        .filter(|k| !endpoint.contains_key(*k))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "attributes.endpoint missing required fields: {}",
            missing.join(", ")
        ));
    }
    Ok(())
}

/// The 202 answer to a log request.
///
/// `message` is weir's wording (Ledger's source sets its own text, which
/// clients do not parse): `"Batch accepted"` when every log was taken,
/// `"Batch partially accepted"` when some were rejected, `"Batch rejected"`
/// when all were; for the single route, `"Log accepted"` or `"Log rejected"`.
/// `errors` is `null` when nothing was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestResponse {
    /// Logs queued.
    pub accepted: u64,
    /// Logs rejected.
    pub rejected: u64,
    /// A human-readable summary.
    #[serde(default)]
    pub message: Option<String>,
    /// `"Log {idx}: {reason}"` for each rejected log (0-based index).
    #[serde(default)]
    pub errors: Option<Vec<String>>,
}

impl IngestResponse {
    /// Checks every entry of a batch and builds the answer.
    pub fn for_batch(entries: &[LogEntry], now_unix_nano: u64) -> Self {
        let mut errors = Vec::new();
        for (idx, entry) in entries.iter().enumerate() {
            if let Err(reason) = check(entry, now_unix_nano) {
                errors.push(format!("Log {idx}: {reason}"));
            }
        }
        let accepted = entries.len() as u64 - errors.len() as u64;
        Self::from_outcomes(accepted, errors, false)
    }

    /// The answer for `accepted` logs taken and one `"Log {idx}: {reason}"`
    /// line a rejected one (for callers that check entries themselves, e.g.
    /// to forward the accepted ones without checking twice). `single`: the
    /// single route's wording.
    pub fn from_outcomes(accepted: u64, errors: Vec<String>, single: bool) -> Self {
        let rejected = errors.len() as u64;
        let message = match (single, accepted, rejected) {
            (true, _, 0) => "Log accepted",
            (true, _, _) => "Log rejected",
            (false, _, 0) => "Batch accepted",
            (false, 0, _) => "Batch rejected",
            (false, _, _) => "Batch partially accepted",
        };
        IngestResponse {
            accepted,
            rejected,
            message: Some(message.into()),
            errors: (!errors.is_empty()).then_some(errors),
        }
    }

    /// Checks the entry of the single route and builds the answer.
    pub fn for_single(entry: &LogEntry, now_unix_nano: u64) -> Self {
        match check(entry, now_unix_nano) {
            Ok(()) => IngestResponse {
                accepted: 1,
                rejected: 0,
                message: Some("Log accepted".into()),
                errors: None,
            },
            Err(reason) => IngestResponse {
                accepted: 0,
                rejected: 1,
                message: Some("Log rejected".into()),
                errors: Some(vec![format!("Log 0: {reason}")]),
            },
        }
    }
}

/// The 202 answer to a span request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanIngestResponse {
    /// Spans queued.
    pub accepted: u64,
    /// Spans rejected.
    pub rejected: u64,
}

impl SpanIngestResponse {
    /// Keeps the spans Ledger keeps, and the answer that says so.
    pub fn split(spans: Vec<SpanIn>, now_unix_nano: u64) -> (Vec<SpanIn>, Self) {
        let total = spans.len() as u64;
        let kept: Vec<SpanIn> = spans
            .into_iter()
            .filter(|s| check_span(s, now_unix_nano))
            .collect();
        let answer = SpanIngestResponse {
            accepted: kept.len() as u64,
            rejected: total - kept.len() as u64,
        };
        (kept, answer)
    }

    /// Checks every span and counts.
    pub fn for_spans(spans: &[SpanIn], now_unix_nano: u64) -> Self {
        let accepted = spans
            .iter()
            .filter(|s| check_span(s, now_unix_nano))
            .count() as u64;
        SpanIngestResponse {
            accepted,
            rejected: spans.len() as u64 - accepted,
        }
    }
}

/// Whether Ledger keeps this span (see the module docs for the rules).
pub fn check_span(span: &SpanIn, now_unix_nano: u64) -> bool {
    let ids_ok = is_hex_id(&span.trace_id, 32)
        && is_hex_id(&span.span_id, 16)
        && (span.parent_span_id.is_empty() || is_hex_id(&span.parent_span_id, 16));
    let start_ok =
        i128::from(span.start_unix_nano) <= i128::from(now_unix_nano) + FUTURE_SKEW_NANOS;
    let duration = i128::from(span.end_unix_nano) - i128::from(span.start_unix_nano);
    ids_ok && start_ok && (0..=i128::from(MAX_SPAN_DURATION_NANOS)).contains(&duration)
}

/// `len` hex digits in either case (Ledger lower-cases ids before checking).
pub(crate) fn is_hex_id(id: &str, len: usize) -> bool {
    id.len() == len && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `len` lower-case hex digits: the ids Ledger links from `attributes`.
pub fn is_lower_hex_id(id: &str, len: usize) -> bool {
    id.len() == len && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::entry::Level;
    use crate::timestamp::Timestamp;

    const NOW: u64 = 1_736_937_045_000_000_000;

    fn entry() -> LogEntry {
        LogEntry::new(Timestamp::from_unix_nano(NOW), Level::Info)
    }

    fn reason(e: &LogEntry) -> String {
        check(e, NOW).unwrap_err()
    }

    #[test]
    fn future_timestamps() {
        let mut e = entry();
        e.timestamp = Timestamp::from_unix_nano(NOW + 300_000_000_000);
        assert!(check(&e, NOW).is_ok(), "exactly 5 minutes ahead is fine");
        e.timestamp = Timestamp::from_unix_nano(NOW + 300_000_001_000);
        assert_eq!(
            reason(&e),
            "Timestamp cannot be more than 5 minutes in the future"
        );
    }

    #[test]
    fn attribute_size() {
        let mut e = entry();
        // {"a": "xxx..."}: 2 + 3 + 2 + 2 + n characters.
        let n = 100_000 - 9;
        e.attributes = json!({"a": "x".repeat(n)}).as_object().cloned();
        assert!(check(&e, NOW).is_ok());
        e.attributes = json!({"a": "x".repeat(n + 1)}).as_object().cloned();
        assert_eq!(reason(&e), "Attributes JSONB cannot exceed 100000 bytes");
        // Non-ASCII counts as its \uXXXX escape.
        e.attributes = json!({"a": "é".repeat(n / 6 + 1)}).as_object().cloned();
        assert_eq!(reason(&e), "Attributes JSONB cannot exceed 100000 bytes");
    }

    #[test]
    fn exceptions() {
        let mut e = entry();
        e.log_type = LogType::Exception;
        assert_eq!(
            reason(&e),
            "error_type is required when log_type is 'exception'"
        );
        e.error_type = Some(String::new());
        assert_eq!(
            reason(&e),
            "error_type is required when log_type is 'exception'"
        );
        e.error_type = Some("ValueError".into());
        assert_eq!(
            reason(&e),
            "error_message is required when log_type is 'exception'"
        );
        e.error_message = Some("bad".into());
        assert!(check(&e, NOW).is_ok());
    }

    #[test]
    fn endpoints() {
        let mut e = entry();
        e.log_type = LogType::Endpoint;
        assert_eq!(
            reason(&e),
            "attributes field is required when log_type is 'endpoint'"
        );
        e.attributes = Some(Default::default());
        assert_eq!(
            reason(&e),
            "attributes field is required when log_type is 'endpoint'"
        );
        e.attributes = json!({"user": 1}).as_object().cloned();
        assert_eq!(
            reason(&e),
            "attributes.endpoint is required when log_type is 'endpoint'. Must include: method, path, status_code, duration_ms"
        );
        e.attributes = json!({"endpoint": {"status_code": 200, "duration_ms": 3}})
            .as_object()
            .cloned();
        assert_eq!(
            reason(&e),
            "attributes.endpoint missing required fields: method, path"
        );
        e.attributes = json!({"endpoint": {"method": "GET", "path": "/", "status_code": 200, "duration_ms": 3}})
            .as_object()
            .cloned();
        assert!(check(&e, NOW).is_ok());
    }

    #[test]
    fn bad_ids_in_attributes_are_not_a_reason() {
        let mut e = entry();
        e.attributes = json!({"trace_id": "XYZ", "span_id": 5})
            .as_object()
            .cloned();
        assert!(check(&e, NOW).is_ok());
    }

    #[test]
    fn batch_answer() {
        let mut bad = entry();
        bad.log_type = LogType::Exception;
        let r = IngestResponse::for_batch(&[entry(), entry(), entry(), bad], NOW);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"accepted": 3, "rejected": 1, "message": "Batch partially accepted",
                "errors": ["Log 3: error_type is required when log_type is 'exception'"]})
        );
        let r = IngestResponse::for_batch(&[entry()], NOW);
        assert_eq!(r.errors, None);
        assert_eq!(r.message.as_deref(), Some("Batch accepted"));
        assert_eq!(IngestResponse::for_single(&entry(), NOW).accepted, 1);
    }

    fn span() -> SpanIn {
        SpanIn {
            trace_id: "0AF7651916CD43DD8448EB211C80319C".into(),
            span_id: "b7ad6b7169203331".into(),
            parent_span_id: String::new(),
            name: "op".into(),
            kind: 2,
            start_unix_nano: NOW as i64,
            end_unix_nano: NOW as i64 + 1_000,
            status: 0,
            status_message: String::new(),
            attributes: Vec::new(),
            events: Vec::new(),
            service_name: "svc".into(),
        }
    }

    #[test]
    fn span_rules() {
        assert!(
            check_span(&span(), NOW),
            "upper-case ids are lower-cased, so fine"
        );
        let cases: [fn(&mut SpanIn); 6] = [
            |s| s.trace_id.truncate(31),
            |s| s.span_id = "zzzzzzzzzzzzzzzz".into(),
            |s| s.parent_span_id = "abc".into(),
            |s| s.end_unix_nano = s.start_unix_nano - 1,
            |s| s.end_unix_nano = s.start_unix_nano + MAX_SPAN_DURATION_NANOS + 1,
            |s| {
                s.start_unix_nano += 301_000_000_000;
                s.end_unix_nano = s.start_unix_nano;
            },
        ];
        for (i, spoil) in cases.iter().enumerate() {
            let mut s = span();
            spoil(&mut s);
            assert!(!check_span(&s, NOW), "case {i}");
        }
        let r = SpanIngestResponse::for_spans(
            &[
                span(),
                SpanIn {
                    name: "x".into(),
                    span_id: "1".into(),
                    ..span()
                },
            ],
            NOW,
        );
        assert_eq!(
            serde_json::to_value(r).unwrap(),
            json!({"accepted": 1, "rejected": 1})
        );
    }
}
