//! Field readers: serde visitors that take any JSON value, never fail the
//! parse on a wrong type, and return either the field's value or pydantic's
//! errors for it. A JSON syntax error is the only thing that aborts.
//!
//! The input of an error is kept as a `serde_json::Value`; a wrong-typed
//! object or array is only then built into one.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value, json};

use super::error::{ErrorDetail, Loc};
use crate::entry::Names;
use crate::timestamp::Timestamp;

/// A field's value, or its errors (locations relative to the field).
pub(crate) type Checked<T> = Result<T, Vec<ErrorDetail>>;

/// How one kind of field reads each JSON type. Every method defaults to the
/// kind's type error, so a kind only writes what it accepts.
pub(crate) trait Kind<'de>: Sized {
    type Out;
    /// The error for a value of the wrong type.
    fn type_error(&self, input: Value) -> ErrorDetail;

    fn string(self, s: Cow<'de, str>) -> Checked<Self::Out> {
        Err(vec![self.type_error(Value::String(s.into_owned()))])
    }
    fn number(self, n: Number) -> Checked<Self::Out> {
        Err(vec![self.type_error(Value::Number(n))])
    }
    fn boolean(self, b: bool) -> Checked<Self::Out> {
        Err(vec![self.type_error(Value::Bool(b))])
    }
    fn null(self) -> Checked<Self::Out> {
        Err(vec![self.type_error(Value::Null)])
    }
    fn map<A: MapAccess<'de>>(self, map: A) -> Result<Checked<Self::Out>, A::Error> {
        let input = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Err(vec![self.type_error(input)]))
    }
    fn seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Checked<Self::Out>, A::Error> {
        let input = Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(Err(vec![self.type_error(input)]))
    }
}

/// Runs a [`Kind`] as a serde seed.
pub(crate) struct Read<K>(pub K);

impl<'de, K: Kind<'de>> DeserializeSeed<'de> for Read<K> {
    type Value = Checked<K::Out>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, K: Kind<'de>> Visitor<'de> for Read<K> {
    type Value = Checked<K::Out>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(self.0.boolean(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(self.0.number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(self.0.number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        // JSON has no NaN or infinities, so this always holds a number.
        Ok(match Number::from_f64(v) {
            Some(n) => self.0.number(n),
            None => self.0.null(),
        })
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(self.0.string(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.0.string(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(self.0.string(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(self.0.null())
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(self.0.null())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.map(map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.0.seq(seq)
    }
}

/// `str` (or `str | None` when `nullable`), with an optional `max_length`
/// counted in characters.
pub(crate) struct Str {
    pub max: Option<usize>,
    pub nullable: bool,
}

impl<'de> Kind<'de> for Str {
    type Out = Option<String>;
    fn type_error(&self, input: Value) -> ErrorDetail {
        ErrorDetail::new("string_type", "Input should be a valid string", input)
    }
    fn string(self, s: Cow<'de, str>) -> Checked<Option<String>> {
        if let Some(max) = self.max {
            // A string of at most `max` bytes has at most `max` characters:
            // only longer ones need counting.
            if s.len() > max && s.chars().count() > max {
                let msg = format!("String should have at most {max} characters");
                let e = ErrorDetail::new("string_too_long", msg, Value::String(s.into_owned()))
                    .with_ctx(json!({ "max_length": max }));
                return Err(vec![e]);
            }
        }
        Ok(Some(s.into_owned()))
    }
    fn null(self) -> Checked<Option<String>> {
        if self.nullable {
            Ok(None)
        } else {
            Err(vec![self.type_error(Value::Null)])
        }
    }
}

/// A `Literal[...]` of strings: exact, case-sensitive names.
pub(crate) struct Lit<T>(pub PhantomData<T>);

impl<T> Lit<T> {
    pub(crate) fn new() -> Self {
        Lit(PhantomData)
    }
}

impl<'de, T: Names> Kind<'de> for Lit<T> {
    type Out = T;
    fn type_error(&self, input: Value) -> ErrorDetail {
        ErrorDetail::new(
            "literal_error",
            format!("Input should be {}", T::EXPECTED),
            input,
        )
        .with_ctx(json!({ "expected": T::EXPECTED }))
    }
    fn string(self, s: Cow<'de, str>) -> Checked<T> {
        T::from_name(&s).ok_or_else(|| vec![self.type_error(Value::String(s.into_owned()))])
    }
}

/// `datetime`.
pub(crate) struct DateTime;

impl<'de> Kind<'de> for DateTime {
    type Out = Timestamp;
    fn type_error(&self, input: Value) -> ErrorDetail {
        ErrorDetail::new("datetime_type", "Input should be a valid datetime", input)
    }
    fn string(self, s: Cow<'de, str>) -> Checked<Timestamp> {
        Timestamp::parse(&s).map_err(|e| {
            let msg = e.to_string();
            vec![
                ErrorDetail::new(e.kind, msg, Value::String(s.into_owned()))
                    .with_ctx(json!({ "error": e.error })),
            ]
        })
    }
    fn number(self, n: Number) -> Checked<Timestamp> {
        let parsed = match n.as_i64() {
            Some(i) => Timestamp::from_number_int(i),
            None => Timestamp::from_number_float(n.as_f64().unwrap_or(f64::INFINITY)),
        };
        parsed.map_err(|e| {
            let msg = e.to_string();
            vec![
                ErrorDetail::new(e.kind, msg, Value::Number(n))
                    .with_ctx(json!({ "error": e.error })),
            ]
        })
    }
}

/// `dict[str, Any]` (or `... | None` when `nullable`).
pub(crate) struct Dict {
    pub nullable: bool,
}

impl<'de> Kind<'de> for Dict {
    type Out = Option<Map<String, Value>>;
    fn type_error(&self, input: Value) -> ErrorDetail {
        ErrorDetail::new("dict_type", "Input should be a valid dictionary", input)
    }
    fn null(self) -> Checked<Self::Out> {
        if self.nullable {
            Ok(None)
        } else {
            Err(vec![self.type_error(Value::Null)])
        }
    }
    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked<Self::Out>, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value::<Value>()?;
            out.insert(key, value);
        }
        Ok(Ok(Some(out)))
    }
}

/// `dict[str, str]`: a value that is not a string is an error at its key.
pub(crate) struct StrDict;

impl<'de> Kind<'de> for StrDict {
    type Out = Vec<(String, String)>;
    fn type_error(&self, input: Value) -> ErrorDetail {
        ErrorDetail::new("dict_type", "Input should be a valid dictionary", input)
    }
    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked<Self::Out>, A::Error> {
        let mut out: Vec<(String, String)> = Vec::with_capacity(map.size_hint().unwrap_or(4));
        let mut errors = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let read = Str {
                max: None,
                nullable: false,
            };
            match map.next_value_seed(Read(read))? {
                Ok(value) => {
                    let value = value.unwrap_or_default();
                    // A repeated key keeps its last value, as a Python dict does.
                    match out.iter_mut().find(|(k, _)| *k == key) {
                        Some(slot) => slot.1 = value,
                        None => out.push((key, value)),
                    }
                }
                Err(es) => {
                    let key = Loc::Key(Cow::Owned(key));
                    errors.extend(es.into_iter().map(|e| e.under(key.clone())));
                }
            }
        }
        Ok(if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        })
    }
}

/// `int` in lax mode: integers, floats without a fraction, booleans, and
/// strings holding an integer.
pub(crate) struct Int;

impl<'de> Kind<'de> for Int {
    type Out = i64;
    fn type_error(&self, input: Value) -> ErrorDetail {
        ErrorDetail::new("int_type", "Input should be a valid integer", input)
    }
    fn number(self, n: Number) -> Checked<i64> {
        if let Some(i) = n.as_i64() {
            return Ok(i);
        }
        let f = n.as_f64().unwrap_or(f64::NAN);
        if f.fract() == 0.0 && f.abs() < 9.2e18 {
            return Ok(f as i64);
        }
        // Python ints have no bound; an integer beyond i64 is out of every
        // range Ledger checks, so it is refused like a fraction would be.
        let msg = "Input should be a valid integer, got a number with a fractional part";
        Err(vec![ErrorDetail::new(
            "int_from_float",
            msg,
            Value::Number(n),
        )])
    }
    fn boolean(self, b: bool) -> Checked<i64> {
        Ok(i64::from(b))
    }
    fn string(self, s: Cow<'de, str>) -> Checked<i64> {
        s.trim().parse::<i64>().map_err(|_| {
            let msg = "Input should be a valid integer, unable to parse string as an integer";
            vec![ErrorDetail::new(
                "int_parsing",
                msg,
                Value::String(s.into_owned()),
            )]
        })
    }
}

/// Reads a value that is not a field of the model (pydantic ignores it; it
/// still has to be valid JSON).
pub(crate) fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<IgnoredAny>().map(drop)
}

/// Collects the per-field outcomes of a model in the model's field order.
pub(crate) struct Errors(pub Vec<ErrorDetail>);

impl Errors {
    /// A required field: its value, or a `missing` error when absent.
    pub(crate) fn required<T>(
        &mut self,
        name: &'static str,
        slot: Option<Checked<T>>,
    ) -> Option<T> {
        match slot {
            None => {
                self.0.push(ErrorDetail::missing(name));
                None
            }
            Some(read) => self.field(name, read),
        }
    }

    /// An optional field: its value, its default when absent.
    pub(crate) fn optional<T>(
        &mut self,
        name: &'static str,
        slot: Option<Checked<T>>,
        default: T,
    ) -> Option<T> {
        match slot {
            None => Some(default),
            Some(read) => self.field(name, read),
        }
    }

    fn field<T>(&mut self, name: &'static str, read: Checked<T>) -> Option<T> {
        match read {
            Ok(v) => Some(v),
            Err(es) => {
                self.0
                    .extend(es.into_iter().map(|e| e.under(Loc::from(name))));
                None
            }
        }
    }
}

/// Reads an object key as the index of a model field (`None`: not a field),
/// without allocating.
pub(crate) struct FieldKey(pub &'static [&'static str]);

impl<'de> DeserializeSeed<'de> for FieldKey {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for FieldKey {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().position(|name| *name == v))
    }
}

/// The error for a model given something other than an object.
pub(crate) fn model_type(class_name: &'static str, input: Value) -> ErrorDetail {
    let msg = format!("Input should be a valid dictionary or instance of {class_name}");
    ErrorDetail::new("model_type", msg, input).with_ctx(json!({ "class_name": class_name }))
}

/// The error for a list field given something else.
pub(crate) fn list_type(input: Value) -> ErrorDetail {
    ErrorDetail::new("list_type", "Input should be a valid list", input)
}
