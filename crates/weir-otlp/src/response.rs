//! Export responses (`Export*ServiceResponse` with `partial_success`), in
//! protobuf and OTLP/JSON, for receivers to answer and exporters to read.

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::Message;
use serde_json::{Map, Value};
use weir_core::Signal;

/// A partial success: items the server refused, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartialSuccess {
    /// Refused items (log records, spans, data points).
    pub rejected: i64,
    /// The server's explanation.
    pub message: String,
}

/// The JSON name of the rejected-items field of `signal`'s partial success.
fn rejected_key(signal: Signal) -> (&'static str, &'static str) {
    match signal {
        Signal::Logs => ("rejectedLogRecords", "rejected_log_records"),
        Signal::Traces => ("rejectedSpans", "rejected_spans"),
        Signal::Metrics => ("rejectedDataPoints", "rejected_data_points"),
    }
}

/// Encodes a response for `signal` as protobuf; `None` means full success.
pub fn encode_protobuf(signal: Signal, partial: Option<&PartialSuccess>) -> Vec<u8> {
    let p = partial.cloned();
    match signal {
        Signal::Logs => ExportLogsServiceResponse {
            partial_success: p.map(|p| ExportLogsPartialSuccess {
                rejected_log_records: p.rejected,
                error_message: p.message,
            }),
        }
        .encode_to_vec(),
        Signal::Traces => ExportTraceServiceResponse {
            partial_success: p.map(|p| ExportTracePartialSuccess {
                rejected_spans: p.rejected,
                error_message: p.message,
            }),
        }
        .encode_to_vec(),
        Signal::Metrics => ExportMetricsServiceResponse {
            partial_success: p.map(|p| ExportMetricsPartialSuccess {
                rejected_data_points: p.rejected,
                error_message: p.message,
            }),
        }
        .encode_to_vec(),
    }
}

/// Encodes a response for `signal` as OTLP/JSON; `None` means full success (`{}`).
/// 64-bit counts are strings and default values are left out, as proto3 JSON does.
pub fn encode_json(signal: Signal, partial: Option<&PartialSuccess>) -> Vec<u8> {
    let mut root = Map::new();
    if let Some(p) = partial {
        let mut ps = Map::new();
        if p.rejected != 0 {
            ps.insert(
                rejected_key(signal).0.into(),
                Value::String(p.rejected.to_string()),
            );
        }
        if !p.message.is_empty() {
            ps.insert("errorMessage".into(), Value::String(p.message.clone()));
        }
        root.insert("partialSuccess".into(), Value::Object(ps));
    }
    serde_json::to_vec(&Value::Object(root)).expect("a JSON value serializes")
}

/// `Some` only when the partial success says something (a count or a message:
/// the spec lets a server send a warning with zero rejected items).
fn reported(p: PartialSuccess) -> Option<PartialSuccess> {
    (p != PartialSuccess::default()).then_some(p)
}

/// Reads a protobuf response; `Ok(None)` when it reports no rejection
/// (an empty body is full success too).
pub fn decode_protobuf(signal: Signal, body: &[u8]) -> Result<Option<PartialSuccess>, String> {
    let err = |e: prost::DecodeError| format!("invalid export response: {e}");
    let p = match signal {
        Signal::Logs => ExportLogsServiceResponse::decode(body)
            .map_err(err)?
            .partial_success
            .map(|p| PartialSuccess {
                rejected: p.rejected_log_records,
                message: p.error_message,
            }),
        Signal::Traces => ExportTraceServiceResponse::decode(body)
            .map_err(err)?
            .partial_success
            .map(|p| PartialSuccess {
                rejected: p.rejected_spans,
                message: p.error_message,
            }),
        Signal::Metrics => ExportMetricsServiceResponse::decode(body)
            .map_err(err)?
            .partial_success
            .map(|p| PartialSuccess {
                rejected: p.rejected_data_points,
                message: p.error_message,
            }),
    };
    Ok(p.and_then(reported))
}

/// Reads an OTLP/JSON response; `Ok(None)` when it reports no rejection
/// (`{}` or an empty body). Counts may be numbers or strings; keys may be
/// lowerCamelCase or snake_case; unknown keys are ignored.
pub fn decode_json(signal: Signal, body: &[u8]) -> Result<Option<PartialSuccess>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let root: Value =
        serde_json::from_slice(body).map_err(|e| format!("invalid export response: {e}"))?;
    let root = root
        .as_object()
        .ok_or("export response is not a JSON object")?;
    let get = |m: &Map<String, Value>, camel: &str, snake: &str| {
        m.get(camel).or_else(|| m.get(snake)).cloned()
    };
    let ps = match get(root, "partialSuccess", "partial_success") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(m)) => m,
        Some(_) => return Err("partialSuccess is not an object".into()),
    };
    let (camel, snake) = rejected_key(signal);
    let rejected = match get(&ps, camel, snake) {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| format!("partialSuccess.{camel}: not an integer"))?,
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| format!("partialSuccess.{camel}: not an integer"))?,
        Some(_) => {
            return Err(format!(
                "partialSuccess.{camel}: expected an integer or integer string"
            ));
        }
    };
    let message = match get(&ps, "errorMessage", "error_message") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s,
        Some(_) => return Err("partialSuccess.errorMessage: expected a string".into()),
    };
    Ok(reported(PartialSuccess { rejected, message }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(rejected: i64, message: &str) -> PartialSuccess {
        PartialSuccess {
            rejected,
            message: message.into(),
        }
    }

    #[test]
    fn protobuf_round_trips() {
        for s in Signal::ALL {
            assert!(encode_protobuf(s, None).is_empty());
            assert_eq!(decode_protobuf(s, &encode_protobuf(s, None)).unwrap(), None);
            let ps = p(5, "5 records had no body");
            assert_eq!(
                decode_protobuf(s, &encode_protobuf(s, Some(&ps))).unwrap(),
                Some(ps)
            );
            let warn = p(0, "deprecated field used");
            assert_eq!(
                decode_protobuf(s, &encode_protobuf(s, Some(&warn))).unwrap(),
                Some(warn)
            );
            // An empty partial_success means nothing was refused.
            assert_eq!(
                decode_protobuf(s, &encode_protobuf(s, Some(&p(0, "")))).unwrap(),
                None
            );
            assert!(decode_protobuf(s, b"\x0a\x05ab").is_err());
        }
    }

    #[test]
    fn protobuf_matches_the_generated_types() {
        let bytes = encode_protobuf(Signal::Traces, Some(&p(3, "bad")));
        let r = ExportTraceServiceResponse::decode(&bytes[..]).unwrap();
        assert_eq!(r.partial_success.unwrap().rejected_spans, 3);
    }

    #[test]
    fn json_encoding() {
        assert_eq!(encode_json(Signal::Logs, None), b"{}");
        assert_eq!(
            String::from_utf8(encode_json(Signal::Logs, Some(&p(5, "bad \"x\"")))).unwrap(),
            r#"{"partialSuccess":{"errorMessage":"bad \"x\"","rejectedLogRecords":"5"}}"#
        );
        assert_eq!(
            encode_json(Signal::Traces, Some(&p(2, ""))),
            br#"{"partialSuccess":{"rejectedSpans":"2"}}"#
        );
        assert_eq!(
            encode_json(Signal::Metrics, Some(&p(7, ""))),
            br#"{"partialSuccess":{"rejectedDataPoints":"7"}}"#
        );
    }

    #[test]
    fn json_round_trips_and_leniency() {
        for s in Signal::ALL {
            assert_eq!(decode_json(s, &encode_json(s, None)).unwrap(), None);
            let ps = p(9_007_199_254_740_993, "too big");
            assert_eq!(
                decode_json(s, &encode_json(s, Some(&ps))).unwrap(),
                Some(ps)
            );
        }
        assert_eq!(decode_json(Signal::Logs, b"").unwrap(), None);
        assert_eq!(
            decode_json(Signal::Logs, br#"{"partialSuccess":{}}"#).unwrap(),
            None
        );
        assert_eq!(
            decode_json(
                Signal::Logs,
                br#"{"partialSuccess":{"rejectedLogRecords":5,"errorMessage":"x"},"other":1}"#
            )
            .unwrap(),
            Some(p(5, "x"))
        );
        assert_eq!(
            decode_json(
                Signal::Traces,
                br#"{"partial_success":{"rejected_spans":"4"}}"#
            )
            .unwrap(),
            Some(p(4, ""))
        );
        for bad in [
            &br#"{"partialSuccess":{"rejectedLogRecords":true}}"#[..],
            br#"{"partialSuccess":{"rejectedLogRecords":"x"}}"#,
            br#"{"partialSuccess":{"rejectedLogRecords":1.5}}"#,
            br#"{"partialSuccess":3}"#,
            br#"[]"#,
            b"{",
        ] {
            assert!(
                decode_json(Signal::Logs, bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
