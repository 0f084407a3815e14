//! Reading protobuf fields in place: a field's number, wire type and where its
//! bytes are, without decoding anything into structs.
//!
//! The bytes were validated (receivers run `wire::inspect`) or encoded by
//! prost, but nothing here trusts that: every length is bounds-checked and a
//! malformed message ends the iteration with an error, never a panic.

use std::ops::Range;

/// Wire type of a varint field.
pub const VARINT: u8 = 0;
/// Wire type of a fixed 64-bit field.
pub const I64: u8 = 1;
/// Wire type of a length-delimited field.
pub const LEN: u8 = 2;
/// Wire type of a fixed 32-bit field.
pub const I32: u8 = 5;

/// Why bytes could not be read as a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed protobuf at byte {at}")]
pub struct Malformed {
    /// Offset of the problem in the buffer.
    pub at: usize,
}

/// One field of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Field number.
    pub number: u32,
    /// Wire type.
    pub wire_type: u8,
    /// The whole field, tag included: what to copy to keep it as it is.
    pub raw: Range<usize>,
    /// The payload: a length-delimited field's contents, a varint's or a
    /// fixed value's bytes.
    pub value: Range<usize>,
}

/// Reads a varint at `*pos`, below `end`.
#[inline(always)]
pub fn varint(buf: &[u8], pos: &mut usize, end: usize) -> Result<u64, Malformed> {
    // Tags and most lengths are one byte.
    if *pos < end {
        let b = buf[*pos];
        if b < 0x80 {
            *pos += 1;
            return Ok(u64::from(b));
        }
    }
    varint_slow(buf, pos, end)
}

#[inline(never)]
fn varint_slow(buf: &[u8], pos: &mut usize, end: usize) -> Result<u64, Malformed> {
    let start = *pos;
    let mut value = 0u64;
    for i in 0..10 {
        if *pos >= end {
            break;
        }
        let b = buf[*pos];
        *pos += 1;
        value |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Ok(value);
        }
    }
    Err(Malformed { at: start })
}

/// Writes `v` as a varint. Lengths and tags here are mostly one or two
/// bytes, which take no loop.
#[inline(always)]
pub fn put_varint(out: &mut Vec<u8>, v: u64) {
    if v < 0x80 {
        out.push(v as u8);
    } else if v < 0x4000 {
        out.extend_from_slice(&[(v as u8) | 0x80, (v >> 7) as u8]);
    } else {
        prost::encoding::encode_varint(v, out);
    }
}

/// The fields of the message in `buf[range]`, in order.
pub fn fields(buf: &[u8], range: Range<usize>) -> Fields<'_> {
    Fields {
        buf,
        pos: range.start,
        end: range.end.min(buf.len()),
        failed: false,
    }
}

/// Iterator over the fields of one message; see [`fields`].
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
    failed: bool,
}

impl Fields<'_> {
    #[inline(always)]
    fn next_field(&mut self) -> Result<Field, Malformed> {
        let start = self.pos;
        let key = varint(self.buf, &mut self.pos, self.end)?;
        let number = u32::try_from(key >> 3).map_err(|_| Malformed { at: start })?;
        let wire_type = (key & 7) as u8;
        if number == 0 {
            return Err(Malformed { at: start });
        }
        let value_start = self.pos;
        let value = match wire_type {
            VARINT => {
                varint(self.buf, &mut self.pos, self.end)?;
                value_start..self.pos
            }
            I64 => self.fixed(8)?,
            I32 => self.fixed(4)?,
            LEN => {
                let len = varint(self.buf, &mut self.pos, self.end)?;
                let from = self.pos;
                let len = usize::try_from(len).map_err(|_| Malformed { at: start })?;
                if self.end - from < len {
                    return Err(Malformed { at: start });
                }
                self.pos = from + len;
                from..self.pos
            }
            // Groups (deprecated) never occur in OTLP; refuse rather than guess.
            _ => return Err(Malformed { at: start }),
        };
        Ok(Field {
            number,
            wire_type,
            raw: start..self.pos,
            value,
        })
    }

    #[inline(always)]
    fn fixed(&mut self, n: usize) -> Result<Range<usize>, Malformed> {
        if self.end - self.pos < n {
            return Err(Malformed { at: self.pos });
        }
        self.pos += n;
        Ok(self.pos - n..self.pos)
    }
}

impl Iterator for Fields<'_> {
    type Item = Result<Field, Malformed>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.end {
            return None;
        }
        let r = self.next_field();
        self.failed = r.is_err();
        Some(r)
    }
}

/// The value of a varint field.
pub fn varint_value(buf: &[u8], f: &Field) -> u64 {
    let mut pos = f.value.start;
    varint(buf, &mut pos, f.value.end).unwrap_or(0)
}

/// The value of a fixed 64-bit field (little-endian).
pub fn fixed64_value(buf: &[u8], f: &Field) -> u64 {
    buf.get(f.value.clone())
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_le_bytes)
}

/// The text of a string field, if it is UTF-8.
pub fn str_value<'a>(buf: &'a [u8], f: &Field) -> Option<&'a str> {
    std::str::from_utf8(buf.get(f.value.clone())?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;
    use weir_core::otlp::common::v1::{AnyValue, KeyValue, any_value::Value};

    #[test]
    fn fields_of_a_message_with_their_ranges() {
        let kv = KeyValue {
            key: "k".into(),
            value: Some(AnyValue {
                value: Some(Value::IntValue(300)),
            }),
            ..Default::default()
        };
        let buf = kv.encode_to_vec();
        let fs: Vec<Field> = fields(&buf, 0..buf.len()).map(Result::unwrap).collect();
        assert_eq!(fs.len(), 2);
        assert_eq!((fs[0].number, fs[0].wire_type), (1, LEN));
        assert_eq!(str_value(&buf, &fs[0]), Some("k"));
        assert_eq!((fs[1].number, fs[1].wire_type), (2, LEN));
        let inner: Vec<Field> = fields(&buf, fs[1].value.clone())
            .map(Result::unwrap)
            .collect();
        assert_eq!((inner[0].number, inner[0].wire_type), (3, VARINT));
        assert_eq!(varint_value(&buf, &inner[0]), 300);
        assert_eq!(fs[1].raw.end, buf.len());
    }

    #[test]
    fn varints_written_as_prost_writes_them() {
        for v in [0u64, 1, 127, 128, 300, 16_383, 16_384, 1 << 40, u64::MAX] {
            let mut ours = Vec::new();
            put_varint(&mut ours, v);
            let mut theirs = Vec::new();
            prost::encoding::encode_varint(v, &mut theirs);
            assert_eq!(ours, theirs, "{v}");
            let mut pos = 0;
            assert_eq!(varint(&ours, &mut pos, ours.len()), Ok(v));
        }
    }

    #[test]
    fn malformed_input_ends_with_an_error_not_a_panic() {
        // A length running past the end, a truncated varint, field number 0,
        // and a group.
        for bad in [
            &[0x0a, 0x05, b'a'][..],
            &[0x08, 0x80],
            &[0x00, 0x01],
            &[0x0b],
        ] {
            let got: Vec<_> = fields(bad, 0..bad.len()).collect();
            assert!(got.last().unwrap().is_err(), "{bad:?}");
        }
        // A range past the buffer is clipped.
        let got: Vec<_> = fields(&[0x08, 0x01], 0..10).collect();
        assert_eq!(got.len(), 1);
        assert!(got[0].is_ok());
    }
}
