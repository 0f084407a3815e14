//! The gateway's refusal: pydantic v2's error list as FastAPI sends it in a
//! 422 `{"detail": [...]}` body (`include_url=False`, so no `url` key).

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value, json};

/// One step of an error's `loc`: an object key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Loc {
    /// An object key (a field name, or an attribute key).
    Key(Cow<'static, str>),
    /// A position in a list (or, for `json_invalid`, in the body).
    Index(usize),
}

impl From<&'static str> for Loc {
    fn from(key: &'static str) -> Self {
        Loc::Key(Cow::Borrowed(key))
    }
}

impl From<usize> for Loc {
    fn from(index: usize) -> Self {
        Loc::Index(index)
    }
}

/// One pydantic error: `{"type", "loc", "msg", "input", "ctx"?}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorDetail {
    /// pydantic's error type, e.g. `literal_error`, `missing`, `string_too_long`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Where: starts with `"body"`.
    pub loc: Vec<Loc>,
    /// pydantic's message, e.g. `Field required`.
    pub msg: Cow<'static, str>,
    /// The offending input. `None` (key left out) only for a list over its
    /// maximum length, whose input would repeat the whole body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// The error's parameters, e.g. `{"max_length": 10000}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ctx: Option<Map<String, Value>>,
    /// Set on `missing` errors: the input is the object that lacks the field,
    /// filled in from the body once parsing is over (only errors pay for it).
    #[serde(skip)]
    pub(crate) input_is_parent: bool,
}

impl ErrorDetail {
    /// An error at no location yet (the caller prefixes the path).
    pub(crate) fn new(kind: &'static str, msg: impl Into<Cow<'static, str>>, input: Value) -> Self {
        ErrorDetail {
            kind,
            loc: Vec::new(),
            msg: msg.into(),
            input: Some(input),
            ctx: None,
            input_is_parent: false,
        }
    }

    /// Adds the `ctx` object.
    pub(crate) fn with_ctx(mut self, ctx: Value) -> Self {
        if let Value::Object(map) = ctx {
            self.ctx = Some(map);
        }
        self
    }

    /// A `missing` error for `field` (its input is filled in later).
    pub(crate) fn missing(field: &'static str) -> Self {
        ErrorDetail {
            kind: "missing",
            loc: vec![Loc::from(field)],
            msg: Cow::Borrowed("Field required"),
            input: Some(Value::Null),
            ctx: None,
            input_is_parent: true,
        }
    }

    /// Puts `step` in front of the location.
    pub(crate) fn under(mut self, step: Loc) -> Self {
        self.loc.insert(0, step);
        self
    }
}

/// The gateway refused the whole request.
///
/// Almost always a 422 with pydantic's error list. One case is a 400: a body
/// that is not UTF-8 text, which FastAPI answers with
/// `{"detail": "There was an error parsing the body"}` (its JSON decoding
/// raises a `UnicodeDecodeError`, not a `JSONDecodeError`).
#[derive(Debug, Clone, PartialEq)]
pub struct Unprocessable {
    /// The errors, in pydantic's order (entries in order, fields in the
    /// model's order within an entry). Empty for the 400 case.
    pub errors: Vec<ErrorDetail>,
    not_text: bool,
}

impl Unprocessable {
    pub(crate) fn new(errors: Vec<ErrorDetail>) -> Self {
        Unprocessable {
            errors,
            not_text: false,
        }
    }

    pub(crate) fn not_text() -> Self {
        Unprocessable {
            errors: Vec::new(),
            not_text: true,
        }
    }

    /// The HTTP status to answer with: 422, or 400 for a body that is not text.
    pub fn status(&self) -> u16 {
        if self.not_text { 400 } else { 422 }
    }

    /// The response body: `{"detail": [...]}` (or `{"detail": "..."}` for a 400).
    pub fn to_json(&self) -> Vec<u8> {
        let body = if self.not_text {
            json!({"detail": "There was an error parsing the body"})
        } else {
            json!({ "detail": self.errors })
        };
        serde_json::to_vec(&body).expect("error details serialize")
    }
}

impl std::fmt::Display for Unprocessable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.not_text {
            return f.write_str("body is not UTF-8 text");
        }
        write!(f, "{} validation error(s)", self.errors.len())?;
        if let Some(first) = self.errors.first() {
            write!(f, "; first: {} at {:?}", first.msg, first.loc)?;
        }
        Ok(())
    }
}

impl std::error::Error for Unprocessable {}

/// The `json_invalid` error FastAPI sends when `json.loads` fails:
/// `{"type": "json_invalid", "loc": ["body", pos], "msg": "JSON decode error",
/// "input": {}, "ctx": {"error": <Python's message>}}`.
///
/// `pos` is the byte offset serde_json stopped at (Python counts characters
/// and sometimes points at the start of the bad token instead); the message is
/// Python's wording for the matching kind of mistake.
pub(crate) fn json_invalid(body: &str, err: &serde_json::Error) -> ErrorDetail {
    let pos = byte_offset(body, err.line(), err.column());
    let text = err.to_string();
    let python = if text.starts_with("EOF while parsing a string") {
        "Unterminated string starting at"
    } else if text.starts_with("EOF") || text.starts_with("expected value") {
        "Expecting value"
    } else if text.starts_with("key must be a string") {
        "Expecting property name enclosed in double quotes"
    } else if text.starts_with("expected `:`") {
        "Expecting ':' delimiter"
    } else if text.starts_with("expected `,` or") {
        "Expecting ',' delimiter"
    } else if text.starts_with("trailing characters") {
        "Extra data"
    } else if text.starts_with("control character") {
        "Invalid control character at"
    } else if text.starts_with("invalid escape") || text.starts_with("invalid unicode") {
        "Invalid \\escape"
    } else {
        "Expecting value"
    };
    let mut e = ErrorDetail::new("json_invalid", "JSON decode error", json!({}))
        .with_ctx(json!({ "error": python }));
    e.loc = vec![Loc::from("body"), Loc::Index(pos)];
    e
}

/// serde_json reports 1-based line and column (column in bytes); turn them
/// into a 0-based byte offset.
fn byte_offset(body: &str, line: usize, column: usize) -> usize {
    let line_start: usize = body
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (line_start + column.saturating_sub(1)).min(body.len())
}
