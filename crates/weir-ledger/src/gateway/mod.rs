//! Ledger's gateway (FastAPI + pydantic v2): parses a request body into the
//! typed request, or refuses the whole request with pydantic's error list.
//!
//! Parsing streams the body through serde visitors straight into
//! [`LogEntry`] / [`SpanIn`]; only `attributes` becomes a `serde_json::Value`
//! (its values are free-form), and the input of an error. Like pydantic, every
//! error of the request is reported, not only the first: entries in order,
//! the fields of one entry in the model's order.
//!
//! | body | answer |
//! |---|---|
//! | empty | 422 `missing` at `["body"]` |
//! | not UTF-8 | 400 `{"detail": "There was an error parsing the body"}` |
//! | not JSON | 422 `json_invalid` at `["body", <byte offset>]`, `ctx.error` in Python's words |
//! | not an object | 422 `model_type` at `["body"]` |
//! | `logs` missing / not a list | 422 `missing` / `list_type` at `["body", "logs"]` |
//! | 0 or more than 1000 logs | 422 `too_short` / `too_long` (the latter without `input`) |
//! | a field wrong | 422 with `loc` `["body", "logs", i, field]` |
//!
//! Known differences from Python: JSON that only Python reads (`NaN`,
//! `Infinity`, UTF-16/32 bodies) is refused as `json_invalid`; the offset of
//! `json_invalid` counts bytes and may point a little after Python's; an
//! integer beyond 64 bits is read as a float.

mod error;
mod fields;
mod log;
mod span;

#[cfg(test)]
mod tests;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess};
use serde_json::{Value, json};

pub use error::{ErrorDetail, Loc, Unprocessable};
pub use span::{SpanEvent, SpanIn};

use crate::entry::{LogEntry, limits};
use fields::{Checked, Errors, FieldKey, Kind, Read, list_type, model_type};

/// `POST /api/v1/ingest/batch`: `{"logs": [LogEntry, ...]}` with 1 to 1000 entries.
pub fn parse_batch(body: &[u8]) -> Result<Vec<LogEntry>, Unprocessable> {
    run(
        body,
        Model {
            class_name: "BatchLogRequest",
            field: &["logs"],
            item: || log::Entry,
            bounds: Some((1, limits::BATCH)),
        },
    )
}

/// `POST /api/v1/ingest/single`: one `LogEntry`.
pub fn parse_single(body: &[u8]) -> Result<LogEntry, Unprocessable> {
    run(body, log::Entry)
}

/// `POST /api/v1/ingest/spans/batch`: `{"spans": [Span, ...]}`.
///
/// Ledger's span schema is not in its published contract; this reads what
/// its SDK sends (see [`SpanIn`]) and bounds the list to 1 to 1000 spans like
/// the log batch.
pub fn parse_spans(body: &[u8]) -> Result<Vec<SpanIn>, Unprocessable> {
    run(
        body,
        Model {
            class_name: "SpanBatchRequest",
            field: &["spans"],
            item: || span::Span,
            bounds: Some((1, limits::BATCH)),
        },
    )
}

fn run<'de, K: Kind<'de>>(body: &'de [u8], kind: K) -> Result<K::Out, Unprocessable> {
    // Python's `json.loads` of bytes drops a UTF-8 byte order mark.
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if body.is_empty() {
        // FastAPI only decodes a non-empty body; an empty one is a missing body.
        let mut e = error::ErrorDetail::new("missing", "Field required", Value::Null);
        e.loc = vec![Loc::from("body")];
        return Err(Unprocessable::new(vec![e]));
    }
    let text = std::str::from_utf8(body).map_err(|_| Unprocessable::not_text())?;
    let mut de = serde_json::Deserializer::from_str(text);
    let read = Read(kind)
        .deserialize(&mut de)
        .and_then(|read| de.end().map(|()| read));
    match read {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(errors)) => Err(Unprocessable::new(finish(text, errors))),
        Err(e) => Err(Unprocessable::new(vec![error::json_invalid(text, &e)])),
    }
}

/// Puts `"body"` in front of every location and fills in the inputs of
/// `missing` errors: the object that lacks the field, read again from the
/// body (the slow path is only for refused requests).
fn finish(text: &str, mut errors: Vec<ErrorDetail>) -> Vec<ErrorDetail> {
    let whole = errors
        .iter()
        .any(|e| e.input_is_parent)
        .then(|| serde_json::from_str::<Value>(text).ok())
        .flatten();
    for e in &mut errors {
        if e.input_is_parent {
            let parent = &e.loc[..e.loc.len().saturating_sub(1)];
            let mut at = whole.as_ref();
            for step in parent {
                at = at.and_then(|v| match step {
                    Loc::Key(k) => v.get(k.as_ref()),
                    Loc::Index(i) => v.get(i),
                });
            }
            e.input = Some(at.cloned().unwrap_or(Value::Null));
            e.input_is_parent = false;
        }
        e.loc.insert(0, Loc::from("body"));
    }
    errors
}

/// A request model with one list field (`{"logs": [...]}`).
struct Model<F> {
    class_name: &'static str,
    /// The list field's name (a one-item slice, as [`FieldKey`] takes).
    field: &'static [&'static str],
    item: F,
    /// The least and most items the list takes.
    bounds: Option<(usize, usize)>,
}

impl<'de, F, K> Kind<'de> for Model<F>
where
    F: Fn() -> K,
    K: Kind<'de>,
{
    type Out = Vec<K::Out>;

    fn type_error(&self, input: Value) -> ErrorDetail {
        model_type(self.class_name, input)
    }

    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked<Self::Out>, A::Error> {
        let mut list = None;
        while let Some(field) = map.next_key_seed(FieldKey(self.field))? {
            match field {
                Some(_) => {
                    let read = List {
                        item: &self.item,
                        bounds: self.bounds,
                    };
                    list = Some(map.next_value_seed(Read(read))?);
                }
                None => fields::skip(&mut map)?,
            }
        }
        let mut errors = Errors(Vec::new());
        let items = errors.required(self.field[0], list);
        Ok(items.ok_or(errors.0))
    }
}

/// `list[Item]` with optional length bounds.
pub(crate) struct List<'a, F> {
    /// Makes the reader of one item.
    pub(crate) item: &'a F,
    /// The least and most items, when bounded.
    pub(crate) bounds: Option<(usize, usize)>,
}

impl<'de, F, K> Kind<'de> for List<'_, F>
where
    F: Fn() -> K,
    K: Kind<'de>,
{
    type Out = Vec<K::Out>;

    fn type_error(&self, input: Value) -> ErrorDetail {
        list_type(input)
    }

    fn seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked<Self::Out>, A::Error> {
        let max = self.bounds.map_or(usize::MAX, |(_, max)| max);
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(16).min(max));
        let mut errors = Vec::new();
        let mut count = 0;
        while count < max {
            let Some(read) = seq.next_element_seed(Read((self.item)()))? else {
                break;
            };
            match read {
                Ok(item) => items.push(item),
                Err(es) => errors.extend(es.into_iter().map(|e| e.under(Loc::Index(count)))),
            }
            count += 1;
        }
        // pydantic stops at the first item past the maximum and reports only
        // that; the rest must still be valid JSON, so it is read and counted.
        if count == max {
            while seq.next_element::<IgnoredAny>()?.is_some() {
                count += 1;
            }
        }
        if let Some((min, max)) = self.bounds {
            if count > max {
                let msg =
                    format!("List should have at most {max} items after validation, not {count}");
                let mut e = ErrorDetail::new("too_long", msg, Value::Null).with_ctx(
                    json!({"field_type": "List", "max_length": max, "actual_length": count}),
                );
                // The input would be the whole list: left out.
                e.input = None;
                return Ok(Err(vec![e]));
            }
            if count < min {
                let msg = format!(
                    "List should have at least {min} item{} after validation, not {count}",
                    if min == 1 { "" } else { "s" }
                );
                let e = ErrorDetail::new("too_short", msg, Value::Array(Vec::new())).with_ctx(
                    json!({"field_type": "List", "min_length": min, "actual_length": count}),
                );
                errors.push(e);
            }
        }
        Ok(if errors.is_empty() {
            Ok(items)
        } else {
            Err(errors)
        })
    }
}
