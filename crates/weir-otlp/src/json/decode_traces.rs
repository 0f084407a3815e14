//! OTLP/JSON decoding of `ExportTraceServiceRequest`.

use serde_json::Value;
use weir_core::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span, status};

use super::decode::{
    Items, Obj, Path, R, enumeration, hex_id, message, messages, pruned, string, u32_, u64_,
};
use crate::validate::span_problem;

use super::decode_common::{attributes, optional, resource, scope};

/// A `ResourceSpans`; `None` when all its spans were refused.
pub(super) fn resource_spans(
    v: Value,
    p: &Path<'_>,
    items: &mut Items,
) -> R<Option<ResourceSpans>> {
    message(v, p, |o, p| {
        let mut rs = ResourceSpans::default();
        for (k, v) in o {
            let p = p.key(&k);
            match k.as_str() {
                "resource" => rs.resource = optional(v, &p, resource)?,
                "scopeSpans" | "scope_spans" => {
                    match pruned(v, &p, |v, p| message(v, p, |o, p| scope_spans(o, p, items)))? {
                        Some(s) => rs.scope_spans = s,
                        None => return Ok(None),
                    }
                }
                "schemaUrl" | "schema_url" => rs.schema_url = string(v, &p)?,
                _ => {}
            }
        }
        Ok(Some(rs))
    })
}

fn scope_spans(o: Obj, p: &Path<'_>, items: &mut Items) -> R<Option<ScopeSpans>> {
    let mut ss = ScopeSpans::default();
    for (k, v) in o {
        let p = p.key(&k);
        match k.as_str() {
            "scope" => ss.scope = optional(v, &p, scope)?,
            "spans" => match items.list(v, &p, span, span_problem)? {
                Some(l) => ss.spans = l,
                None => return Ok(None),
            },
            "schemaUrl" | "schema_url" => ss.schema_url = string(v, &p)?,
            _ => {}
        }
    }
    Ok(Some(ss))
}

fn span(o: Obj, p: &Path<'_>) -> R<Span> {
    let mut s = Span::default();
    for (k, v) in o {
        let p = p.key(&k);
        match k.as_str() {
            "traceId" | "trace_id" => s.trace_id = hex_id(&v, &p, 16)?,
            "spanId" | "span_id" => s.span_id = hex_id(&v, &p, 8)?,
            "traceState" | "trace_state" => s.trace_state = string(v, &p)?,
            "parentSpanId" | "parent_span_id" => s.parent_span_id = hex_id(&v, &p, 8)?,
            "flags" => s.flags = u32_(&v, &p)?,
            "name" => s.name = string(v, &p)?,
            "kind" => {
                s.kind = enumeration(&v, &p, |n| {
                    span::SpanKind::from_str_name(n).map(|e| e as i32)
                })?
            }
            "startTimeUnixNano" | "start_time_unix_nano" => s.start_time_unix_nano = u64_(&v, &p)?,
            "endTimeUnixNano" | "end_time_unix_nano" => s.end_time_unix_nano = u64_(&v, &p)?,
            "attributes" => s.attributes = attributes(v, &p)?,
            "droppedAttributesCount" | "dropped_attributes_count" => {
                s.dropped_attributes_count = u32_(&v, &p)?
            }
            "events" => s.events = messages(v, &p, event)?,
            "droppedEventsCount" | "dropped_events_count" => s.dropped_events_count = u32_(&v, &p)?,
            "links" => s.links = messages(v, &p, link)?,
            "droppedLinksCount" | "dropped_links_count" => s.dropped_links_count = u32_(&v, &p)?,
            "status" => s.status = optional(v, &p, span_status)?,
            _ => {}
        }
    }
    Ok(s)
}

fn event(o: Obj, p: &Path<'_>) -> R<span::Event> {
    let mut e = span::Event::default();
    for (k, v) in o {
        let p = p.key(&k);
        match k.as_str() {
            "timeUnixNano" | "time_unix_nano" => e.time_unix_nano = u64_(&v, &p)?,
            "name" => e.name = string(v, &p)?,
            "attributes" => e.attributes = attributes(v, &p)?,
            "droppedAttributesCount" | "dropped_attributes_count" => {
                e.dropped_attributes_count = u32_(&v, &p)?
            }
            _ => {}
        }
    }
    Ok(e)
}

fn link(o: Obj, p: &Path<'_>) -> R<span::Link> {
    let mut l = span::Link::default();
    for (k, v) in o {
        let p = p.key(&k);
        match k.as_str() {
            "traceId" | "trace_id" => l.trace_id = hex_id(&v, &p, 16)?,
            "spanId" | "span_id" => l.span_id = hex_id(&v, &p, 8)?,
            "traceState" | "trace_state" => l.trace_state = string(v, &p)?,
            "attributes" => l.attributes = attributes(v, &p)?,
            "droppedAttributesCount" | "dropped_attributes_count" => {
                l.dropped_attributes_count = u32_(&v, &p)?
            }
            "flags" => l.flags = u32_(&v, &p)?,
            _ => {}
        }
    }
    Ok(l)
}

fn span_status(o: Obj, p: &Path<'_>) -> R<Status> {
    let mut s = Status::default();
    for (k, v) in o {
        let p = p.key(&k);
        match k.as_str() {
            "message" => s.message = string(v, &p)?,
            "code" => {
                s.code = enumeration(&v, &p, |n| {
                    status::StatusCode::from_str_name(n).map(|e| e as i32)
                })?
            }
            _ => {}
        }
    }
    Ok(s)
}
