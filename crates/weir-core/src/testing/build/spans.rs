//! Spans: [`span`] and [`spans`].

use super::group;
use crate::otlp::common::v1::KeyValue;
use crate::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span, status};
use crate::testing::value::{IntoAnyValue, kv};
use crate::{Batch, BatchMeta};

/// A span being built; start one with [`span`]. A string converts into one
/// (its name), so [`spans`] takes plain strings too.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpanBuilder {
    span: Span,
    resource: Vec<KeyValue>,
}

/// A span named `name`. [`spans`] gives it a trace and span id unless set.
///
/// ```
/// use weir_core::testing::{attr_str, kv, span};
///
/// let s = span("GET /users")
///     .attr("http.route", "/users")
///     .event("exception", vec![kv("exception.message", "timeout")])
///     .error("upstream timed out")
///     .into_span();
/// assert_eq!(attr_str(&s.attributes, "http.route"), Some("/users"));
/// assert_eq!(s.events.len(), 1);
/// ```
pub fn span(name: &str) -> SpanBuilder {
    SpanBuilder {
        span: Span {
            name: name.to_owned(),
            ..Default::default()
        },
        resource: Vec::new(),
    }
}

impl SpanBuilder {
    /// Adds an attribute to the span.
    pub fn attr(mut self, key: &str, value: impl IntoAnyValue) -> Self {
        self.span.attributes.push(kv(key, value));
        self
    }

    /// Sets the trace id.
    pub fn trace_id(mut self, id: [u8; 16]) -> Self {
        self.span.trace_id = id.to_vec();
        self
    }

    /// Sets the span id.
    pub fn span_id(mut self, id: [u8; 8]) -> Self {
        self.span.span_id = id.to_vec();
        self
    }

    /// Sets the parent span id.
    pub fn parent(mut self, id: [u8; 8]) -> Self {
        self.span.parent_span_id = id.to_vec();
        self
    }

    /// Sets the span kind (an OTLP `span::SpanKind` or its number).
    pub fn kind(mut self, kind: impl Into<i32>) -> Self {
        self.span.kind = kind.into();
        self
    }

    /// Sets start and end, in nanoseconds since the Unix epoch.
    pub fn times(mut self, start_unix_nanos: u64, end_unix_nanos: u64) -> Self {
        self.span.start_time_unix_nano = start_unix_nanos;
        self.span.end_time_unix_nano = end_unix_nanos;
        self
    }

    /// Marks the span failed with `message`.
    pub fn error(mut self, message: &str) -> Self {
        self.span.status = Some(Status {
            message: message.to_owned(),
            code: status::StatusCode::Error.into(),
        });
        self
    }

    /// Adds an event with `attributes` (see [`kv`]).
    pub fn event(mut self, name: &str, attributes: Vec<KeyValue>) -> Self {
        self.span.events.push(span::Event {
            name: name.to_owned(),
            attributes,
            ..Default::default()
        });
        self
    }

    /// Adds an attribute to the span's resource.
    pub fn resource(mut self, key: &str, value: impl IntoAnyValue) -> Self {
        self.resource.push(kv(key, value));
        self
    }

    /// The span itself (its resource is left behind).
    pub fn into_span(self) -> Span {
        self.span
    }
}

impl From<&str> for SpanBuilder {
    fn from(name: &str) -> Self {
        span(name)
    }
}

impl From<Span> for SpanBuilder {
    fn from(span: Span) -> Self {
        SpanBuilder {
            span,
            resource: Vec::new(),
        }
    }
}

/// A traces batch. Span `i` (from 0) without ids gets trace id `i + 1` and
/// span id `i + 1` (big-endian), so every span is its own trace unless you
/// say otherwise.
///
/// ```
/// use weir_core::testing::{span, spans};
///
/// let batch = spans(["GET /", "SELECT users"]);
/// assert_eq!(batch.items(), 2);
///
/// let trace = [7; 16];
/// let batch = spans([
///     span("GET /").trace_id(trace).span_id([1; 8]),
///     span("SELECT users").trace_id(trace).span_id([2; 8]).parent([1; 8]),
/// ]);
/// assert_eq!(batch.items(), 2);
/// ```
pub fn spans<I>(spans: I) -> Batch
where
    I: IntoIterator,
    I::Item: Into<SpanBuilder>,
{
    let groups = group(spans.into_iter().enumerate().map(|(i, s)| {
        let mut b: SpanBuilder = s.into();
        let n = i as u64 + 1;
        if b.span.trace_id.is_empty() {
            b.span.trace_id = u128::from(n).to_be_bytes().to_vec();
        }
        if b.span.span_id.is_empty() {
            b.span.span_id = n.to_be_bytes().to_vec();
        }
        (b.resource, b.span)
    }));
    let resource_spans = groups
        .into_iter()
        .map(|(resource, spans)| ResourceSpans {
            resource,
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    Batch::traces(resource_spans, BatchMeta::default())
}
