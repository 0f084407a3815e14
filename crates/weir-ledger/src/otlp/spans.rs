//! Ledger spans to OTLP (the rules are in [`crate::otlp`]).

use std::collections::HashMap;

use weir_core::otlp::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use weir_core::otlp::resource::v1::Resource;
use weir_core::otlp::trace::v1::span::{Event, SpanKind};
use weir_core::otlp::trace::v1::status::StatusCode;
use weir_core::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

use super::{from_hex, keys};
use crate::gateway::SpanIn;

/// The instrumentation scope spans from Ledger's SDK are put under.
pub const SCOPE_NAME: &str = "ledger";

/// Ledger's kind number (server 0, client 1, internal 2, producer 3,
/// consumer 4) as OTLP's.
pub fn ledger_kind_to_otlp(kind: i64) -> SpanKind {
    match kind {
        0 => SpanKind::Server,
        1 => SpanKind::Client,
        2 => SpanKind::Internal,
        3 => SpanKind::Producer,
        4 => SpanKind::Consumer,
        _ => SpanKind::Unspecified,
    }
}

/// Spans grouped by `service_name` into OTLP resources. Pass the spans
/// [`crate::ingest::check_span`] accepted: an id that does not parse is left
/// empty here.
pub fn spans_to_otlp(spans: Vec<SpanIn>) -> Vec<ResourceSpans> {
    let mut out: Vec<ResourceSpans> = Vec::new();
    let mut by_service: HashMap<String, usize> = HashMap::new();
    for span in spans {
        let index = match by_service.get(&span.service_name) {
            Some(i) => *i,
            None => {
                by_service.insert(span.service_name.clone(), out.len());
                out.push(resource_for(&span.service_name));
                out.len() - 1
            }
        };
        out[index].scope_spans[0].spans.push(to_otlp(span));
    }
    out
}

fn resource_for(service_name: &str) -> ResourceSpans {
    let attributes = if service_name.is_empty() {
        Vec::new()
    } else {
        vec![string_kv(keys::SERVICE_NAME.into(), service_name.into())]
    };
    ResourceSpans {
        resource: Some(Resource {
            attributes,
            ..Default::default()
        }),
        scope_spans: vec![ScopeSpans {
            scope: Some(InstrumentationScope {
                name: SCOPE_NAME.into(),
                ..Default::default()
            }),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn to_otlp(span: SpanIn) -> Span {
    let code = match span.status {
        1 => StatusCode::Ok,
        2 => StatusCode::Error,
        _ => StatusCode::Unset,
    };
    Span {
        trace_id: id::<16>(&span.trace_id),
        span_id: id::<8>(&span.span_id),
        parent_span_id: id::<8>(&span.parent_span_id),
        name: span.name,
        kind: ledger_kind_to_otlp(span.kind) as i32,
        start_time_unix_nano: nanos(span.start_unix_nano),
        end_time_unix_nano: nanos(span.end_unix_nano),
        attributes: span
            .attributes
            .into_iter()
            .map(|(k, v)| string_kv(k, v))
            .collect(),
        events: span
            .events
            .into_iter()
            .map(|e| Event {
                time_unix_nano: nanos(e.ts_unix_nano),
                name: e.name,
                attributes: e.attrs.into_iter().map(|(k, v)| string_kv(k, v)).collect(),
                ..Default::default()
            })
            .collect(),
        status: Some(Status {
            message: span.status_message,
            code: code as i32,
        }),
        ..Default::default()
    }
}

fn id<const N: usize>(hex: &str) -> Vec<u8> {
    from_hex::<N>(hex).map_or_else(Vec::new, |id| id.to_vec())
}

fn nanos(t: i64) -> u64 {
    u64::try_from(t).unwrap_or(0)
}

fn string_kv(key: String, value: String) -> KeyValue {
    KeyValue {
        key,
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value)),
        }),
        ..Default::default()
    }
}
