//! OTLP/JSON → OTLP structs: the JSON is parsed into a `serde_json::Value` tree,
//! then each message takes its fields in one pass over its object (moving strings
//! out of the tree, not copying them), accepting the lowerCamelCase or the
//! snake_case name. The JSON path of a value is a chain of
//! stack frames, turned into text only when something is wrong.

use std::fmt;

use serde_json::{Map, Value};
use weir_core::{Signal, SignalData};

use super::JsonDecodeError;
use super::{decode_logs, decode_metrics, decode_traces};
use crate::validate::Rejections;

pub(super) type R<T> = Result<T, JsonDecodeError>;
pub(super) type Obj = Map<String, Value>;

/// Where a value sits in the document, e.g. `resourceLogs[0].scopeLogs[1]`.
#[derive(Clone, Copy)]
pub(super) enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    pub(super) fn key(&'a self, k: &'a str) -> Path<'a> {
        Path::Key(self, k)
    }
    pub(super) fn index(&'a self, i: usize) -> Path<'a> {
        Path::Index(self, i)
    }
    /// An error about the value here.
    #[cold]
    pub(super) fn err(&self, what: impl fmt::Display) -> JsonDecodeError {
        let message = match self {
            Path::Root => what.to_string(),
            _ => format!("{self}: {what}"),
        };
        JsonDecodeError { message }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Key(Path::Root, k) => f.write_str(k),
            Path::Key(p, k) => write!(f, "{p}.{k}"),
            Path::Index(p, i) => write!(f, "{p}[{i}]"),
        }
    }
}

/// How item-level problems are handled, and the items refused so far.
///
/// Strict (`decode`): the first item that fails to decode fails the request.
/// Lenient (`decode_partial`): such an item, or one that decodes but is
/// invalid by [`crate::validate`], is dropped and recorded with its path.
/// Either way an error outside the items fails the whole request.
pub(super) struct Items {
    lenient: bool,
    pub(super) rejected: Rejections,
}

impl Items {
    /// A repeated field of items (log records, spans, data points) read by `f`
    /// and checked by `problem` when lenient. `Ok(None)` when the array had
    /// items and all were refused, so the caller can drop its now-empty parent.
    pub(super) fn list<T>(
        &mut self,
        v: Value,
        p: &Path<'_>,
        f: fn(Obj, &Path<'_>) -> R<T>,
        problem: fn(&T) -> Option<&'static str>,
    ) -> R<Option<Vec<T>>> {
        let items = match v {
            Value::Array(items) => items,
            Value::Null => return Ok(Some(Vec::new())),
            _ => return Err(p.err("expected an array")),
        };
        let had = !items.is_empty();
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let p = p.index(i);
            match message(item, &p, f) {
                Ok(t) if self.lenient => match problem(&t) {
                    None => out.push(t),
                    Some(why) => self.rejected.push(|| format!("{p}: {why}")),
                },
                Ok(t) => out.push(t),
                Err(e) if self.lenient => self.rejected.push(|| e.message),
                Err(e) => return Err(e),
            }
        }
        Ok((!had || !out.is_empty()).then_some(out))
    }
}

/// A repeated field of parents of items (resources, scopes, metrics) read by
/// `f`, which gives `None` for one whose items were all refused; those are
/// dropped. `Ok(None)` when there were some and all were dropped.
pub(super) fn pruned<T>(
    v: Value,
    p: &Path<'_>,
    mut f: impl FnMut(Value, &Path<'_>) -> R<Option<T>>,
) -> R<Option<Vec<T>>> {
    let items = match v {
        Value::Array(items) => items,
        Value::Null => return Ok(Some(Vec::new())),
        _ => return Err(p.err("expected an array")),
    };
    let had = !items.is_empty();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        if let Some(t) = f(item, &p.index(i))? {
            out.push(t);
        }
    }
    Ok((!had || !out.is_empty()).then_some(out))
}

/// Decodes an export request of `signal`, strictly or leniently (see [`Items`]).
pub(super) fn decode_request(
    signal: Signal,
    body: &[u8],
    lenient: bool,
) -> R<(SignalData, Rejections)> {
    let mut items = Items {
        lenient,
        rejected: Rejections::default(),
    };
    let root: Value = serde_json::from_slice(body).map_err(|e| JsonDecodeError {
        message: format!("invalid JSON: {e}"),
    })?;
    let root_path = Path::Root;
    let obj = object(root, &root_path)?;
    let (camel, snake) = match signal {
        Signal::Logs => ("resourceLogs", "resource_logs"),
        Signal::Traces => ("resourceSpans", "resource_spans"),
        Signal::Metrics => ("resourceMetrics", "resource_metrics"),
    };
    let mut data = match signal {
        Signal::Logs => SignalData::Logs(Vec::new()),
        Signal::Traces => SignalData::Traces(Vec::new()),
        Signal::Metrics => SignalData::Metrics(Vec::new()),
    };
    for (k, v) in obj {
        if k != camel && k != snake {
            continue;
        }
        let p = root_path.key(&k);
        let it = &mut items;
        match &mut data {
            SignalData::Logs(out) => {
                *out =
                    pruned(v, &p, |v, p| decode_logs::resource_logs(v, p, it))?.unwrap_or_default()
            }
            SignalData::Traces(out) => {
                *out = pruned(v, &p, |v, p| decode_traces::resource_spans(v, p, it))?
                    .unwrap_or_default()
            }
            SignalData::Metrics(out) => {
                *out = pruned(v, &p, |v, p| decode_metrics::resource_metrics(v, p, it))?
                    .unwrap_or_default()
            }
        }
    }
    Ok((data, items.rejected))
}

/// An object (`null` reads as an empty one, as proto3 JSON asks of any field).
pub(super) fn object(v: Value, p: &Path<'_>) -> R<Obj> {
    match v {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Obj::new()),
        _ => Err(p.err("expected an object")),
    }
}

/// A message: `f` reads it from its object.
pub(super) fn message<T>(v: Value, p: &Path<'_>, f: impl FnOnce(Obj, &Path<'_>) -> R<T>) -> R<T> {
    f(object(v, p)?, p)
}

/// A repeated field: an array (or `null`) whose items `f` reads.
pub(super) fn list<T>(
    v: Value,
    p: &Path<'_>,
    mut f: impl FnMut(Value, &Path<'_>) -> R<T>,
) -> R<Vec<T>> {
    match v {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| f(item, &p.index(i)))
            .collect(),
        Value::Null => Ok(Vec::new()),
        _ => Err(p.err("expected an array")),
    }
}

/// A repeated message field.
pub(super) fn messages<T>(v: Value, p: &Path<'_>, f: fn(Obj, &Path<'_>) -> R<T>) -> R<Vec<T>> {
    list(v, p, |item, p| message(item, p, f))
}

pub(super) fn string(v: Value, p: &Path<'_>) -> R<String> {
    match v {
        Value::String(s) => Ok(s),
        Value::Null => Ok(String::new()),
        _ => Err(p.err("expected a string")),
    }
}

pub(super) fn boolean(v: Value, p: &Path<'_>) -> R<bool> {
    match v {
        Value::Bool(b) => Ok(b),
        Value::Null => Ok(false),
        _ => Err(p.err("expected true or false")),
    }
}

/// Any integer type: a JSON number, or a string of one (proto3 JSON accepts both
/// for every integer type, and writes 64-bit ones as strings).
fn integer<T: TryFrom<i128>>(v: &Value, p: &Path<'_>) -> R<T> {
    let wide: Option<i128> = match v {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            // `1e3` or `5.0` are integers written as floats; fractions are not.
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 2e38)
                    .map(|f| f as i128)
            }),
        Value::String(s) => s.parse::<i128>().ok(),
        Value::Null => Some(0),
        _ => None,
    };
    let Some(wide) = wide else {
        return Err(p.err("expected an integer or integer string"));
    };
    T::try_from(wide).map_err(|_| p.err(format_args!("integer {wide} is out of range")))
}

pub(super) fn u64_(v: &Value, p: &Path<'_>) -> R<u64> {
    integer(v, p)
}
pub(super) fn i64_(v: &Value, p: &Path<'_>) -> R<i64> {
    integer(v, p)
}
pub(super) fn u32_(v: &Value, p: &Path<'_>) -> R<u32> {
    integer(v, p)
}
pub(super) fn i32_(v: &Value, p: &Path<'_>) -> R<i32> {
    integer(v, p)
}

/// A double: a number, or `"NaN"`, `"Infinity"`, `"-Infinity"` or a numeric string.
pub(super) fn f64_(v: &Value, p: &Path<'_>) -> R<f64> {
    match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| p.err("expected a number")),
        Value::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            s => s
                .parse()
                .map_err(|_| p.err("expected a number, \"NaN\", \"Infinity\" or \"-Infinity\"")),
        },
        Value::Null => Ok(0.0),
        _ => Err(p.err("expected a number")),
    }
}

/// An enum: its number, or its name as the `.proto` file spells it.
pub(super) fn enumeration(v: &Value, p: &Path<'_>, by_name: fn(&str) -> Option<i32>) -> R<i32> {
    match v {
        Value::String(s) if s.parse::<i32>().is_err() => {
            by_name(s).ok_or_else(|| p.err(format_args!("unknown enum value {s:?}")))
        }
        _ => i32_(v, p).map_err(|_| p.err("expected an enum name or integer")),
    }
}

/// A trace or span id: lower- or upper-case hex of exactly `len` bytes, or empty.
pub(super) fn hex_id(v: &Value, p: &Path<'_>, len: usize) -> R<Vec<u8>> {
    let s = match v {
        Value::String(s) => s.as_bytes(),
        Value::Null => return Ok(Vec::new()),
        _ => return Err(p.err("expected a hex string")),
    };
    if s.is_empty() {
        return Ok(Vec::new());
    }
    if s.len() != 2 * len {
        return Err(p.err(format_args!("expected {} hex digits", 2 * len)));
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    s.chunks_exact(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| p.err(format_args!("expected {} hex digits", 2 * len)))
}

/// A `bytes` field: base64, standard or URL-safe alphabet, padded or not (as
/// proto3 JSON parsers accept).
pub(super) fn base64_bytes(v: &Value, p: &Path<'_>) -> R<Vec<u8>> {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let s = match v {
        Value::String(s) => s.as_str(),
        Value::Null => return Ok(Vec::new()),
        _ => return Err(p.err("expected a base64 string")),
    };
    let engine = match (s.contains(['-', '_']), s.ends_with('=')) {
        (false, true) => &STANDARD,
        (false, false) => &STANDARD_NO_PAD,
        (true, true) => &URL_SAFE,
        (true, false) => &URL_SAFE_NO_PAD,
    };
    engine
        .decode(s)
        .map_err(|e| p.err(format_args!("invalid base64: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_read_like_the_document() {
        let root = Path::Root;
        let a = root.key("resourceLogs");
        let b = a.index(0);
        let c = b.key("scopeLogs");
        let d = c.index(2);
        assert_eq!(
            d.key("x").err("bad").message,
            "resourceLogs[0].scopeLogs[2].x: bad"
        );
        assert_eq!(root.err("bad").message, "bad");
    }

    #[test]
    fn scalars() {
        let p = Path::Root;
        assert_eq!(u64_(&json!("18446744073709551615"), &p).unwrap(), u64::MAX);
        assert_eq!(u64_(&json!(18446744073709551615u64), &p).unwrap(), u64::MAX);
        assert_eq!(i64_(&json!("-5"), &p).unwrap(), -5);
        assert_eq!(u32_(&json!(3.0), &p).unwrap(), 3);
        assert_eq!(u32_(&json!(1e3), &p).unwrap(), 1000);
        assert!(u32_(&json!(-1), &p).is_err());
        assert!(u32_(&json!(1.5), &p).is_err());
        assert!(u64_(&json!("1.5"), &p).is_err());
        assert!(u64_(&json!(true), &p).is_err());
        assert!(f64_(&json!("NaN"), &p).unwrap().is_nan());
        assert_eq!(f64_(&json!("-Infinity"), &p).unwrap(), f64::NEG_INFINITY);
        assert_eq!(f64_(&json!("2.5"), &p).unwrap(), 2.5);
        assert_eq!(f64_(&json!(7), &p).unwrap(), 7.0);
        assert!(f64_(&json!("lots"), &p).is_err());
        assert_eq!(hex_id(&json!("0A0b"), &p, 2).unwrap(), vec![10, 11]);
        assert_eq!(hex_id(&json!(""), &p, 16).unwrap(), Vec::<u8>::new());
        assert!(hex_id(&json!("0g0b"), &p, 2).is_err());
        assert!(hex_id(&json!("abc"), &p, 2).is_err());
        assert_eq!(base64_bytes(&json!("aGkh"), &p).unwrap(), b"hi!");
        assert_eq!(base64_bytes(&json!("aGk="), &p).unwrap(), b"hi");
        assert_eq!(base64_bytes(&json!("aGk"), &p).unwrap(), b"hi");
        assert_eq!(base64_bytes(&json!("-_8"), &p).unwrap(), vec![0xfb, 0xff]);
        assert!(base64_bytes(&json!("*"), &p).is_err());
    }
}
