//! `SpanIn`, one item of `POST /api/v1/ingest/spans/batch`, and its reader.
//!
//! Ledger's published contract lists the fields its SDK (1.4 and later)
//! sends, not the server's pydantic model, so the schema here is inferred:
//! `trace_id`, `span_id`, `name`, `start_unix_nano` and `end_unix_nano` are
//! required; the rest default (`parent_span_id` `""`, `kind` 2 = internal,
//! `status` 0 = unset, `status_message` `""`, empty `attributes` and
//! `events`, `service_name` `""`), and those optional strings also take
//! `null` as their default. Ids are checked later, per span
//! ([`crate::ingest::check_span`]): a bad id rejects the span, not the request.

use serde::de::MapAccess;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::List;
use super::error::ErrorDetail;
use super::fields::{Checked, Errors, FieldKey, Int, Kind, Read, Str, StrDict, model_type, skip};

/// One span as Ledger's SDK sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanIn {
    /// 32 hex digits (either case; Ledger lower-cases).
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// 16 hex digits, or `""` for a root span.
    #[serde(default)]
    pub parent_span_id: String,
    /// Operation name.
    pub name: String,
    /// Ledger's numbering: server 0, client 1, internal 2, producer 3,
    /// consumer 4 (not OTLP's).
    #[serde(default = "internal")]
    pub kind: i64,
    /// Start, unix nanoseconds.
    pub start_unix_nano: i64,
    /// End, unix nanoseconds.
    pub end_unix_nano: i64,
    /// unset 0, ok 1, error 2.
    #[serde(default)]
    pub status: i64,
    /// Status description.
    #[serde(default)]
    pub status_message: String,
    /// String attributes, in the order sent (a repeated key keeps its last value).
    #[serde(default, with = "pairs")]
    pub attributes: Vec<(String, String)>,
    /// Events.
    #[serde(default)]
    pub events: Vec<SpanEvent>,
    /// The service that made the span.
    #[serde(default)]
    pub service_name: String,
}

fn internal() -> i64 {
    2
}

/// An event on a span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanEvent {
    /// Event name.
    pub name: String,
    /// When, unix nanoseconds.
    pub ts_unix_nano: i64,
    /// String attributes.
    #[serde(default, with = "pairs")]
    pub attrs: Vec<(String, String)>,
}

/// Serializes attribute pairs as a JSON object.
mod pairs {
    use serde::ser::SerializeMap;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(pairs: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(pairs.len()))?;
        for (k, v) in pairs {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
        let map = std::collections::BTreeMap::<String, String>::deserialize(d)?;
        Ok(map.into_iter().collect())
    }
}

const SPAN_FIELDS: &[&str] = &[
    "trace_id",
    "span_id",
    "parent_span_id",
    "name",
    "kind",
    "start_unix_nano",
    "end_unix_nano",
    "status",
    "status_message",
    "attributes",
    "events",
    "service_name",
];

fn text(nullable: bool) -> Read<Str> {
    Read(Str {
        max: None,
        nullable,
    })
}

/// Reads one span object.
pub(crate) struct Span;

impl<'de> Kind<'de> for Span {
    type Out = SpanIn;

    fn type_error(&self, input: Value) -> ErrorDetail {
        model_type("SpanIn", input)
    }

    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked<SpanIn>, A::Error> {
        // Strings by field index (0, 1, 2, 3, 8, 11), integers (4, 5, 6, 7).
        let mut strings: [Option<Checked<Option<String>>>; 12] = Default::default();
        let mut ints: [Option<Checked<i64>>; 12] = Default::default();
        let mut attributes = None;
        let mut events = None;
        while let Some(field) = map.next_key_seed(FieldKey(SPAN_FIELDS))? {
            match field {
                Some(i @ (0 | 1 | 3)) => strings[i] = Some(map.next_value_seed(text(false))?),
                Some(i @ (2 | 8 | 11)) => strings[i] = Some(map.next_value_seed(text(true))?),
                Some(i @ 4..=7) => ints[i] = Some(map.next_value_seed(Read(Int))?),
                Some(9) => attributes = Some(map.next_value_seed(Read(StrDict))?),
                Some(_) => {
                    let list = List {
                        item: &|| Event,
                        bounds: None,
                    };
                    events = Some(map.next_value_seed(Read(list))?);
                }
                None => skip(&mut map)?,
            }
        }
        let mut e = Errors(Vec::new());
        let trace_id = e.required(SPAN_FIELDS[0], strings[0].take()).flatten();
        let span_id = e.required(SPAN_FIELDS[1], strings[1].take()).flatten();
        let parent = e
            .optional(SPAN_FIELDS[2], strings[2].take(), None)
            .flatten();
        let name = e.required(SPAN_FIELDS[3], strings[3].take()).flatten();
        let kind = e.optional(SPAN_FIELDS[4], ints[4].take(), internal());
        let start = e.required(SPAN_FIELDS[5], ints[5].take());
        let end = e.required(SPAN_FIELDS[6], ints[6].take());
        let status = e.optional(SPAN_FIELDS[7], ints[7].take(), 0);
        let status_message = e
            .optional(SPAN_FIELDS[8], strings[8].take(), None)
            .flatten();
        let attributes = e.optional(SPAN_FIELDS[9], attributes, Vec::new());
        let events = e.optional(SPAN_FIELDS[10], events, Vec::new());
        let service_name = e
            .optional(SPAN_FIELDS[11], strings[11].take(), None)
            .flatten();
        if !e.0.is_empty() {
            return Ok(Err(e.0));
        }
        let (
            Some(trace_id),
            Some(span_id),
            Some(name),
            Some(kind),
            Some(start),
            Some(end),
            Some(status),
        ) = (trace_id, span_id, name, kind, start, end, status)
        else {
            unreachable!("a missing or bad field is an error");
        };
        Ok(Ok(SpanIn {
            trace_id,
            span_id,
            parent_span_id: parent.unwrap_or_default(),
            name,
            kind,
            start_unix_nano: start,
            end_unix_nano: end,
            status,
            status_message: status_message.unwrap_or_default(),
            attributes: attributes.unwrap_or_default(),
            events: events.unwrap_or_default(),
            service_name: service_name.unwrap_or_default(),
        }))
    }
}

const EVENT_FIELDS: &[&str] = &["name", "ts_unix_nano", "attrs"];

/// Reads one span event object.
pub(crate) struct Event;

impl<'de> Kind<'de> for Event {
    type Out = SpanEvent;

    fn type_error(&self, input: Value) -> ErrorDetail {
        model_type("SpanEvent", input)
    }

    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked<SpanEvent>, A::Error> {
        let (mut name, mut ts, mut attrs) = (None, None, None);
        while let Some(field) = map.next_key_seed(FieldKey(EVENT_FIELDS))? {
            match field {
                Some(0) => name = Some(map.next_value_seed(text(false))?),
                Some(1) => ts = Some(map.next_value_seed(Read(Int))?),
                Some(_) => attrs = Some(map.next_value_seed(Read(StrDict))?),
                None => skip(&mut map)?,
            }
        }
        let mut e = Errors(Vec::new());
        let name = e.required(EVENT_FIELDS[0], name).flatten();
        let ts = e.required(EVENT_FIELDS[1], ts);
        let attrs = e.optional(EVENT_FIELDS[2], attrs, Vec::new());
        match (name, ts, attrs) {
            (Some(name), Some(ts_unix_nano), Some(attrs)) if e.0.is_empty() => Ok(Ok(SpanEvent {
                name,
                ts_unix_nano,
                attrs,
            })),
            _ => Ok(Err(e.0)),
        }
    }
}
