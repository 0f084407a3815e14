//! OTLP attributes in place: reading a `KeyValue` and its `AnyValue` from the
//! bytes, and writing new ones into an arena.

use std::borrow::Cow;
use std::ops::Range;

use prost::Message;
use prost::encoding::encoded_len_varint;
use weir_core::otlp::common::v1::{AnyValue, ArrayValue, KeyValueList, any_value};

use super::read::{
    Field, I64, LEN, Malformed, VARINT, fields, fixed64_value, put_varint, varint_value,
};

/// An attribute value, borrowed from the bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    /// No value (an empty `AnyValue`, or none).
    Empty,
    /// `string_value`.
    Str(&'a str),
    /// `bool_value`.
    Bool(bool),
    /// `int_value`.
    Int(i64),
    /// `double_value`.
    Double(f64),
    /// `bytes_value`.
    Bytes(&'a [u8]),
    /// `array_value`: the `ArrayValue` message body.
    Array(&'a [u8]),
    /// `kvlist_value`: the `KeyValueList` message body.
    Kvlist(&'a [u8]),
}

impl<'a> ValueRef<'a> {
    /// The string value, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ValueRef::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A decoded value seen the same way, so one piece of code reads both
    /// forms. Meant for reading scalars: a decoded array or map is not
    /// encoded for the view and reads as an empty one.
    pub fn view(v: Option<&'a AnyValue>) -> ValueRef<'a> {
        use any_value::Value as V;
        match v.and_then(|v| v.value.as_ref()) {
            None | Some(V::StringValueStrindex(_)) => ValueRef::Empty,
            Some(V::StringValue(s)) => ValueRef::Str(s),
            Some(V::BoolValue(b)) => ValueRef::Bool(*b),
            Some(V::IntValue(i)) => ValueRef::Int(*i),
            Some(V::DoubleValue(d)) => ValueRef::Double(*d),
            Some(V::BytesValue(b)) => ValueRef::Bytes(b),
            Some(V::ArrayValue(_)) => ValueRef::Array(&[]),
            Some(V::KvlistValue(_)) => ValueRef::Kvlist(&[]),
        }
    }

    /// The value decoded (arrays and maps from their bytes).
    pub fn to_any_value(&self) -> AnyValue {
        use any_value::Value as V;
        let value = match *self {
            ValueRef::Empty => None,
            ValueRef::Str(s) => Some(V::StringValue(s.to_owned())),
            ValueRef::Bool(b) => Some(V::BoolValue(b)),
            ValueRef::Int(i) => Some(V::IntValue(i)),
            ValueRef::Double(d) => Some(V::DoubleValue(d)),
            ValueRef::Bytes(b) => Some(V::BytesValue(b.to_vec())),
            ValueRef::Array(b) => Some(V::ArrayValue(ArrayValue::decode(b).unwrap_or_default())),
            ValueRef::Kvlist(b) => {
                Some(V::KvlistValue(KeyValueList::decode(b).unwrap_or_default()))
            }
        };
        AnyValue { value }
    }

    /// A scalar as text: a string as it is, numbers and booleans printed,
    /// bytes as (lossy) UTF-8; `None` for arrays, maps and no value.
    pub fn scalar_text(&self) -> Option<Cow<'a, str>> {
        Some(match *self {
            ValueRef::Str(s) => Cow::Borrowed(s),
            ValueRef::Bool(b) => Cow::Owned(b.to_string()),
            ValueRef::Int(i) => Cow::Owned(i.to_string()),
            ValueRef::Double(d) => Cow::Owned(d.to_string()),
            ValueRef::Bytes(b) => String::from_utf8_lossy(b),
            _ => return None,
        })
    }
}

/// One attribute: its key, value and where its field is. Nothing is
/// validated or parsed beyond finding the parts: [`AttrRef::key`] and
/// [`AttrRef::value`] read them on demand.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrRef<'a> {
    /// The key's bytes.
    pub key_bytes: &'a [u8],
    /// The `AnyValue` message body, when there is one.
    pub value_bytes: Option<&'a [u8]>,
    /// The whole attribute field in the message that holds it, tag included.
    pub raw: Range<usize>,
}

impl<'a> AttrRef<'a> {
    /// The key (empty if it is not UTF-8, which a validated request never has).
    pub fn key(&self) -> &'a str {
        std::str::from_utf8(self.key_bytes).unwrap_or("")
    }

    /// The value (`Empty` when absent or unreadable).
    pub fn value(&self) -> ValueRef<'a> {
        match self.value_bytes {
            Some(b) => value(b, 0..b.len()).unwrap_or(ValueRef::Empty),
            None => ValueRef::Empty,
        }
    }
}

/// Reads the `AnyValue` message in `buf[body]`. The last of several set
/// oneof fields wins, as in prost. Invalid UTF-8 in a string reads as empty,
/// which cannot happen for bytes the receiver's walk accepted.
pub fn value(buf: &[u8], body: Range<usize>) -> Result<ValueRef<'_>, Malformed> {
    let mut v = ValueRef::Empty;
    for f in fields(buf, body) {
        let f = f?;
        let bytes = &buf[f.value.clone()];
        v = match (f.number, f.wire_type) {
            (1, LEN) => ValueRef::Str(std::str::from_utf8(bytes).unwrap_or("")),
            (2, VARINT) => ValueRef::Bool(varint_value(buf, &f) != 0),
            (3, VARINT) => ValueRef::Int(varint_value(buf, &f) as i64),
            (4, I64) => ValueRef::Double(f64::from_bits(fixed64_value(buf, &f))),
            (5, LEN) => ValueRef::Array(bytes),
            (6, LEN) => ValueRef::Kvlist(bytes),
            (7, LEN) => ValueRef::Bytes(bytes),
            _ => v,
        };
    }
    Ok(v)
}

/// Finds the parts of the `KeyValue` message that attribute field `f` holds.
#[inline]
pub fn attr<'a>(buf: &'a [u8], f: &Field) -> Result<AttrRef<'a>, Malformed> {
    let mut key_bytes: &[u8] = &[];
    let mut value_bytes = None;
    for kf in fields(buf, f.value.clone()) {
        let kf = kf?;
        match (kf.number, kf.wire_type) {
            (1, LEN) => key_bytes = &buf[kf.value],
            (2, LEN) => value_bytes = Some(&buf[kf.value]),
            _ => {}
        }
    }
    Ok(AttrRef {
        key_bytes,
        value_bytes,
        raw: f.raw.clone(),
    })
}

/// The attributes (repeated `KeyValue` field `field`) of the message in
/// `buf[body]`, in order.
pub fn attributes(
    buf: &[u8],
    body: Range<usize>,
    field: u32,
) -> impl Iterator<Item = Result<AttrRef<'_>, Malformed>> + '_ {
    fields(buf, body).filter_map(move |f| match f {
        Ok(f) if f.number == field && f.wire_type == LEN => Some(attr(buf, &f)),
        Ok(_) => None,
        Err(e) => Some(Err(e)),
    })
}

/// The body length of an `AnyValue` holding `v`.
pub fn value_len(v: &ValueRef<'_>) -> usize {
    let len_field = |n: usize| 1 + encoded_len_varint(n as u64) + n;
    match v {
        ValueRef::Empty => 0,
        ValueRef::Str(s) => len_field(s.len()),
        ValueRef::Bool(_) => 2,
        ValueRef::Int(i) => 1 + encoded_len_varint(*i as u64),
        ValueRef::Double(_) => 9,
        ValueRef::Bytes(b) | ValueRef::Array(b) | ValueRef::Kvlist(b) => len_field(b.len()),
    }
}

/// Writes the `AnyValue` body for `v`.
pub fn put_value(out: &mut Vec<u8>, v: &ValueRef<'_>) {
    let put_len = |tag: u8, b: &[u8], out: &mut Vec<u8>| {
        out.push(tag);
        put_varint(out, b.len() as u64);
        out.extend_from_slice(b);
    };
    match v {
        ValueRef::Empty => {}
        ValueRef::Str(s) => put_len(0x0a, s.as_bytes(), out),
        ValueRef::Bool(b) => out.extend_from_slice(&[0x10, u8::from(*b)]),
        ValueRef::Int(i) => {
            out.push(0x18);
            put_varint(out, *i as u64);
        }
        ValueRef::Double(d) => {
            out.push(0x21);
            out.extend_from_slice(&d.to_le_bytes());
        }
        ValueRef::Array(b) => put_len(0x2a, b, out),
        ValueRef::Kvlist(b) => put_len(0x32, b, out),
        ValueRef::Bytes(b) => put_len(0x3a, b, out),
    }
}

/// Writes a whole attribute: field `field` (length-delimited) holding the
/// `KeyValue` `key` = `v`, as prost would encode it.
pub fn put_attr(out: &mut Vec<u8>, field: u32, key: &str, v: &ValueRef<'_>) {
    let value_len = value_len(v);
    let key_part = if key.is_empty() {
        0
    } else {
        1 + encoded_len_varint(key.len() as u64) + key.len()
    };
    // prost writes a present `value` message even when it is empty.
    let kv_len = key_part + 1 + encoded_len_varint(value_len as u64) + value_len;
    put_varint(out, u64::from(field << 3 | 2));
    put_varint(out, kv_len as u64);
    if !key.is_empty() {
        out.push(0x0a);
        put_varint(out, key.len() as u64);
        out.extend_from_slice(key.as_bytes());
    }
    out.push(0x12);
    put_varint(out, value_len as u64);
    put_value(out, v);
}

/// Writes a whole attribute from raw parts: field `field` holding a
/// `KeyValue` with `key` and, when given, the `AnyValue` body `value`.
pub fn put_attr_raw(out: &mut Vec<u8>, field: u32, key: &[u8], value: Option<&[u8]>) {
    let key_part = if key.is_empty() {
        0
    } else {
        1 + encoded_len_varint(key.len() as u64) + key.len()
    };
    let value_part = value.map_or(0, |v| 1 + encoded_len_varint(v.len() as u64) + v.len());
    put_varint(out, u64::from(field << 3 | 2));
    put_varint(out, (key_part + value_part) as u64);
    if !key.is_empty() {
        out.push(0x0a);
        put_varint(out, key.len() as u64);
        out.extend_from_slice(key);
    }
    if let Some(v) = value {
        out.push(0x12);
        put_varint(out, v.len() as u64);
        out.extend_from_slice(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;
    use weir_core::otlp::common::v1::{AnyValue, ArrayValue, KeyValue, any_value::Value};
    use weir_core::otlp::logs::v1::LogRecord;

    fn kv(key: &str, v: Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(v) }),
            ..Default::default()
        }
    }

    fn samples() -> Vec<KeyValue> {
        vec![
            kv("s", Value::StringValue("text é".into())),
            kv("b", Value::BoolValue(true)),
            kv("f", Value::BoolValue(false)),
            kv("i", Value::IntValue(-7)),
            kv("big", Value::IntValue(i64::MAX)),
            kv("d", Value::DoubleValue(2.5)),
            kv("bytes", Value::BytesValue(vec![0, 255])),
            kv(
                "arr",
                Value::ArrayValue(ArrayValue {
                    values: vec![AnyValue {
                        value: Some(Value::IntValue(1)),
                    }],
                }),
            ),
            kv("", Value::StringValue(String::new())),
            KeyValue {
                key: "none".into(),
                value: None,
                ..Default::default()
            },
        ]
    }

    #[test]
    fn attributes_read_in_place() {
        let rec = LogRecord {
            severity_number: 9,
            attributes: samples(),
            ..Default::default()
        };
        let buf = rec.encode_to_vec();
        let got: Vec<AttrRef> = attributes(&buf, 0..buf.len(), 6)
            .map(Result::unwrap)
            .collect();
        assert_eq!(got.len(), 10);
        assert_eq!(got[0].key(), "s");
        assert_eq!(got[0].value(), ValueRef::Str("text é"));
        assert_eq!(got[1].value(), ValueRef::Bool(true));
        assert_eq!(got[2].value(), ValueRef::Bool(false));
        assert_eq!(got[3].value(), ValueRef::Int(-7));
        assert_eq!(got[4].value(), ValueRef::Int(i64::MAX));
        assert_eq!(got[5].value(), ValueRef::Double(2.5));
        assert_eq!(got[6].value(), ValueRef::Bytes(&[0, 255]));
        assert!(matches!(got[7].value(), ValueRef::Array(_)));
        assert_eq!(got[8].value(), ValueRef::Str(""));
        assert_eq!(got[9].value(), ValueRef::Empty);
        // `raw` is the whole field: decoding it alone gives the attribute.
        let one = LogRecord::decode(&buf[got[3].raw.clone()]).unwrap();
        assert_eq!(one.attributes, vec![kv("i", Value::IntValue(-7))]);
    }

    #[test]
    fn written_attributes_are_byte_for_byte_what_prost_writes() {
        for a in samples().into_iter().filter(|a| a.value.is_some()) {
            let want = LogRecord {
                attributes: vec![a.clone()],
                ..Default::default()
            }
            .encode_to_vec();
            let buf = want.clone();
            let read: Vec<AttrRef> = attributes(&buf, 0..buf.len(), 6)
                .map(Result::unwrap)
                .collect();
            let mut out = Vec::new();
            put_attr(&mut out, 6, read[0].key(), &read[0].value());
            assert_eq!(out, want, "{a:?}");
            let mut raw = Vec::new();
            put_attr_raw(&mut raw, 6, read[0].key_bytes, read[0].value_bytes);
            assert_eq!(raw, want, "{a:?}");
        }
    }
}
