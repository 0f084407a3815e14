//! The text the `debug` exporter prints: one summary line per batch and, when
//! detailed, one line per log record, span or metric.
//!
//! ```text
//! debug: logs batch: 2 items, 1 resources, 164 bytes
//!   log 2026-11-26T10:15:00.000000000Z ERROR/17 "disk full" host="a" retries=3
//!   span trace=5b8efff798038103d269b633813fc60c span=eee19b7ec3c1b174 name="GET /" kind=server duration=1.5ms
//!   metric name="http.requests" type=sum points=3
//! ```

use std::io::{self, Write};
use std::time::Duration;

use weir_core::otlp::common::v1::{AnyValue, KeyValue, any_value};
use weir_core::otlp::logs::v1::LogRecord;
use weir_core::otlp::metrics::v1::{Metric, metric};
use weir_core::otlp::trace::v1::Span;
use weir_core::{Batch, BatchError, SignalData, data_points};

use super::Verbosity;
use crate::utc::UtcTime;

/// Appends the text for `batch` to `out`; `id` is the component id that starts
/// the summary line. Fails only if the batch's bytes do not decode.
pub fn write_batch(
    out: &mut Vec<u8>,
    id: &str,
    batch: &Batch,
    verbosity: Verbosity,
) -> Result<(), BatchError> {
    // Counting resources needs no decode when the received bytes are at hand.
    let resources = match batch.received_bytes() {
        Some(bytes) if !batch.is_decoded() => count_resources(bytes),
        _ => None,
    };
    let resources = match resources {
        Some(n) => n,
        None => resource_count(batch.data()?),
    };
    writeln!(
        out,
        "{id}: {} batch: {} items, {resources} resources, {} bytes",
        batch.signal(),
        batch.items(),
        batch.size_bytes()
    )
    .expect("writing to a Vec cannot fail");
    if verbosity == Verbosity::Detailed {
        write_records(out, batch.data()?).expect("writing to a Vec cannot fail");
    }
    Ok(())
}

fn resource_count(data: &SignalData) -> usize {
    match data {
        SignalData::Logs(v) => v.len(),
        SignalData::Traces(v) => v.len(),
        SignalData::Metrics(v) => v.len(),
    }
}

/// Number of field-1 entries (the resource list) of an export request, found by
/// walking the protobuf's top level; `None` if the bytes do not walk cleanly.
fn count_resources(mut bytes: &[u8]) -> Option<usize> {
    fn varint(bytes: &mut &[u8]) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = bytes.split_first()?;
            *bytes = rest;
            value |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(value);
            }
        }
        None
    }
    let mut count = 0;
    while !bytes.is_empty() {
        let key = varint(&mut bytes)?;
        let skip = match key & 7 {
            0 => varint(&mut bytes).map(|_| 0)?,
            1 => 8,
            2 => usize::try_from(varint(&mut bytes)?).ok()?,
            5 => 4,
            _ => return None,
        };
        bytes = bytes.get(skip..)?;
        count += usize::from(key == (1 << 3 | 2));
    }
    Some(count)
}

fn write_records(out: &mut Vec<u8>, data: &SignalData) -> io::Result<()> {
    match data {
        SignalData::Logs(resources) => {
            let records = resources.iter().flat_map(|r| &r.scope_logs);
            for record in records.flat_map(|s| &s.log_records) {
                write_log(out, record)?;
            }
        }
        SignalData::Traces(resources) => {
            let spans = resources.iter().flat_map(|r| &r.scope_spans);
            for span in spans.flat_map(|s| &s.spans) {
                write_span(out, span)?;
            }
        }
        SignalData::Metrics(resources) => {
            let metrics = resources.iter().flat_map(|r| &r.scope_metrics);
            for metric in metrics.flat_map(|s| &s.metrics) {
                write_metric(out, metric)?;
            }
        }
    }
    Ok(())
}

fn write_log(out: &mut Vec<u8>, r: &LogRecord) -> io::Result<()> {
    out.extend_from_slice(b"  log ");
    match [r.time_unix_nano, r.observed_time_unix_nano]
        .into_iter()
        .find(|t| *t != 0)
    {
        Some(t) => UtcTime::from_unix_nanos(t).write_rfc3339(out)?,
        None => out.push(b'-'),
    }
    let text = if r.severity_text.is_empty() {
        "-"
    } else {
        &r.severity_text
    };
    write!(out, " {text}/{} ", r.severity_number)?;
    write_optional_value(out, r.body.as_ref())?;
    write_attributes(out, &r.attributes)?;
    out.push(b'\n');
    Ok(())
}

fn write_span(out: &mut Vec<u8>, s: &Span) -> io::Result<()> {
    out.extend_from_slice(b"  span trace=");
    write_id(out, &s.trace_id);
    out.extend_from_slice(b" span=");
    write_id(out, &s.span_id);
    let kind = match s.kind {
        1 => "internal",
        2 => "server",
        3 => "client",
        4 => "producer",
        5 => "consumer",
        _ => "unspecified",
    };
    let duration =
        Duration::from_nanos(s.end_time_unix_nano.saturating_sub(s.start_time_unix_nano));
    writeln!(out, " name={:?} kind={kind} duration={duration:?}", s.name)
}

fn write_metric(out: &mut Vec<u8>, m: &Metric) -> io::Result<()> {
    let kind = match &m.data {
        None => "none",
        Some(metric::Data::Gauge(_)) => "gauge",
        Some(metric::Data::Sum(_)) => "sum",
        Some(metric::Data::Histogram(_)) => "histogram",
        Some(metric::Data::ExponentialHistogram(_)) => "exponential_histogram",
        Some(metric::Data::Summary(_)) => "summary",
    };
    let points = data_points(m.data.as_ref());
    writeln!(
        out,
        "  metric name={:?} type={kind} points={points}",
        m.name
    )
}

fn write_attributes(out: &mut Vec<u8>, attributes: &[KeyValue]) -> io::Result<()> {
    for kv in attributes {
        write!(out, " {}=", kv.key)?;
        write_optional_value(out, kv.value.as_ref())?;
    }
    Ok(())
}

fn write_optional_value(out: &mut Vec<u8>, value: Option<&AnyValue>) -> io::Result<()> {
    match value.and_then(|v| v.value.as_ref()) {
        Some(v) => write_value(out, v),
        None => {
            out.push(b'-');
            Ok(())
        }
    }
}

/// A value on one line: strings quoted with newlines and quotes escaped, bytes
/// in hex, arrays as `[a, b]`, maps as `{k=v, k=v}`.
fn write_value(out: &mut Vec<u8>, value: &any_value::Value) -> io::Result<()> {
    use any_value::Value as V;
    match value {
        V::StringValue(s) => write!(out, "{s:?}"),
        V::BoolValue(b) => write!(out, "{b}"),
        V::IntValue(i) => write!(out, "{i}"),
        V::DoubleValue(d) => write!(out, "{d}"),
        V::StringValueStrindex(i) => write!(out, "strindex:{i}"),
        V::BytesValue(b) => {
            out.extend_from_slice(b"0x");
            write_hex(out, b);
            Ok(())
        }
        V::ArrayValue(a) => {
            out.push(b'[');
            for (i, v) in a.values.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                write_optional_value(out, Some(v))?;
            }
            out.push(b']');
            Ok(())
        }
        V::KvlistValue(kv) => {
            out.push(b'{');
            for (i, kv) in kv.values.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                write!(out, "{}=", kv.key)?;
                write_optional_value(out, kv.value.as_ref())?;
            }
            out.push(b'}');
            Ok(())
        }
    }
}

/// A trace or span id in hex, `-` when absent.
fn write_id(out: &mut Vec<u8>, id: &[u8]) {
    if id.is_empty() {
        out.push(b'-');
    }
    write_hex(out, id);
}

fn write_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.extend_from_slice(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]);
    }
}

#[cfg(test)]
#[path = "format_tests.rs"]
mod tests;
