//! A cursor over a protobuf request: reads keys and checks each field's wire
//! type and bounds, so the schema walkers are a `match` on field numbers.
//!
//! One cursor walks the whole request; a nested message is just a smaller `end`.
//! Nothing is copied or allocated on success, and the error (boxed, built only
//! on failure) keeps the hot `Result`s one word wide.

use super::WireError;

pub(super) type R<T> = Result<T, Box<WireError>>;

const VARINT: u8 = 0;
const I64: u8 = 1;
const LEN: u8 = 2;
const SGROUP: u8 = 3;
const EGROUP: u8 = 4;
const I32: u8 = 5;

/// prost's default recursion limit: deeper nesting fails to decode there, so it
/// fails here too (and bounds the walk's stack).
const MAX_DEPTH: u32 = 100;

/// Which field is being read, for error messages: message name and field number.
#[derive(Clone, Copy)]
pub(super) struct At(pub &'static str, pub u32);

pub(super) struct Cur<'a> {
    buf: &'a [u8],
    pub(super) pos: usize,
    depth: u32,
}

impl<'a> Cur<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Cur {
            buf,
            pos: 0,
            depth: 0,
        }
    }

    /// The next field's number and wire type (call while `pos < end`).
    #[inline(always)]
    pub(super) fn key(&mut self, end: usize, msg: &'static str) -> R<(u32, u8)> {
        let at = self.pos;
        let key = self.varint_raw(end, At(msg, 0))?;
        let wt = (key & 7) as u8;
        if key > u64::from(u32::MAX) || wt > 5 || key >> 3 == 0 {
            return Err(bad_key(at, key, msg));
        }
        Ok(((key >> 3) as u32, wt))
    }

    /// A varint ending before `end`; at most 10 bytes, as prost requires.
    #[inline(always)]
    fn varint_raw(&mut self, end: usize, at: At) -> R<u64> {
        if self.pos < end {
            let b = self.buf[self.pos];
            if b < 0x80 {
                self.pos += 1;
                return Ok(u64::from(b));
            }
        }
        self.varint_slow(end, at)
    }

    #[inline(never)]
    fn varint_slow(&mut self, end: usize, at: At) -> R<u64> {
        let start = self.pos;
        let mut value = 0u64;
        for i in 0..10 {
            if self.pos >= end {
                return Err(fail(start, at, "has a truncated varint"));
            }
            let b = self.buf[self.pos];
            self.pos += 1;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                if i == 9 && b > 1 {
                    break;
                }
                return Ok(value);
            }
        }
        Err(fail(start, at, "has an invalid varint"))
    }

    #[inline(always)]
    fn expect(&self, wt: u8, want: u8, at: At) -> R<()> {
        if wt == want {
            Ok(())
        } else {
            Err(wrong_type(self.pos, at, wt, want))
        }
    }

    /// A varint field (int32/64, uint32/64, sint32/64, bool, enum).
    #[inline(always)]
    pub(super) fn varint(&mut self, wt: u8, end: usize, at: At) -> R<()> {
        self.expect(wt, VARINT, at)?;
        self.varint_raw(end, at).map(drop)
    }

    /// A fixed64, sfixed64 or double field.
    #[inline(always)]
    pub(super) fn fixed64(&mut self, wt: u8, end: usize, at: At) -> R<()> {
        self.expect(wt, I64, at)?;
        self.advance(8, end, at)
    }

    /// A fixed32, sfixed32 or float field.
    #[inline(always)]
    pub(super) fn fixed32(&mut self, wt: u8, end: usize, at: At) -> R<()> {
        self.expect(wt, I32, at)?;
        self.advance(4, end, at)
    }

    #[inline(always)]
    fn advance(&mut self, n: usize, end: usize, at: At) -> R<()> {
        if end - self.pos < n {
            return Err(fail(self.pos, at, "is truncated"));
        }
        self.pos += n;
        Ok(())
    }

    /// Reads a length and returns where the payload ends, after checking bounds.
    #[inline(always)]
    fn len_delimited(&mut self, end: usize, at: At) -> R<usize> {
        let start = self.pos;
        let len = self.varint_raw(end, at)?;
        if len > (end - self.pos) as u64 {
            return Err(fail(start, at, "has a length that runs past its end"));
        }
        Ok(self.pos + len as usize)
    }

    /// A `bytes` field.
    #[inline(always)]
    pub(super) fn bytes(&mut self, wt: u8, end: usize, at: At) -> R<()> {
        self.expect(wt, LEN, at)?;
        self.pos = self.len_delimited(end, at)?;
        Ok(())
    }

    /// A `bytes` field whose length matters (trace and span ids): returns it.
    #[inline(always)]
    pub(super) fn bytes_len(&mut self, wt: u8, end: usize, at: At) -> R<usize> {
        self.expect(wt, LEN, at)?;
        let stop = self.len_delimited(end, at)?;
        let len = stop - self.pos;
        self.pos = stop;
        Ok(len)
    }

    /// A `string` field: UTF-8 checked, as prost does.
    #[inline(always)]
    pub(super) fn string(&mut self, wt: u8, end: usize, at: At) -> R<()> {
        self.expect(wt, LEN, at)?;
        let stop = self.len_delimited(end, at)?;
        if !is_utf8(&self.buf[self.pos..stop]) {
            return Err(not_utf8(self.pos, at));
        }
        self.pos = stop;
        Ok(())
    }

    /// A nested message field, walked by `walk` up to its end.
    #[inline(always)]
    pub(super) fn message<T>(
        &mut self,
        wt: u8,
        end: usize,
        at: At,
        walk: impl FnOnce(&mut Self, usize) -> R<T>,
    ) -> R<T> {
        self.expect(wt, LEN, at)?;
        if self.depth >= MAX_DEPTH {
            return Err(too_deep(self.pos));
        }
        let stop = self.len_delimited(end, at)?;
        self.depth += 1;
        // Walkers read while `pos < stop` and every read is bounded by `stop`,
        // so they return exactly at `stop`.
        let out = walk(self, stop)?;
        self.depth -= 1;
        Ok(out)
    }

    /// A repeated fixed64 or double field: packed (length a multiple of 8) or not.
    #[inline]
    pub(super) fn repeated_fixed64(&mut self, wt: u8, end: usize, at: At) -> R<()> {
        if wt == I64 {
            return self.advance(8, end, at);
        }
        self.expect(wt, LEN, at)?;
        let stop = self.len_delimited(end, at)?;
        if (stop - self.pos) % 8 != 0 {
            return Err(fail(
                self.pos,
                at,
                "is packed but not a multiple of 8 bytes",
            ));
        }
        self.pos = stop;
        Ok(())
    }

    /// A repeated varint field: packed or not.
    #[inline]
    pub(super) fn repeated_varint(&mut self, wt: u8, end: usize, at: At) -> R<()> {
        if wt == VARINT {
            return self.varint_raw(end, at).map(drop);
        }
        self.expect(wt, LEN, at)?;
        let stop = self.len_delimited(end, at)?;
        while self.pos < stop {
            self.varint_raw(stop, at)?;
        }
        Ok(())
    }

    /// Skips an unknown field, as protobuf requires of a reader.
    #[inline(never)]
    pub(super) fn skip(&mut self, wt: u8, end: usize, at: At) -> R<()> {
        // prost counts a skipped field as one level of recursion.
        if self.depth >= MAX_DEPTH {
            return Err(too_deep(self.pos));
        }
        match wt {
            VARINT => self.varint_raw(end, at).map(drop),
            I64 => self.advance(8, end, at),
            I32 => self.advance(4, end, at),
            LEN => {
                self.pos = self.len_delimited(end, at)?;
                Ok(())
            }
            SGROUP => {
                // Group members are fields one level deeper.
                self.depth += 1;
                loop {
                    if self.pos >= end {
                        return Err(fail(self.pos, at, "is a group that is not closed"));
                    }
                    let start = self.pos;
                    match self.key(end, at.0)? {
                        (f, EGROUP) if f == at.1 => break,
                        (_, EGROUP) => {
                            return Err(fail(start, at, "has an unexpected end of group"));
                        }
                        (f, wt) => self.skip(wt, end, At(at.0, f))?,
                    }
                }
                self.depth -= 1;
                Ok(())
            }
            _ => Err(fail(self.pos, at, "has an unexpected end of group")),
        }
    }
}

/// UTF-8 validation with a fast path for ASCII, which nearly all telemetry text is.
#[inline(always)]
fn is_utf8(s: &[u8]) -> bool {
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        if u64::from_le_bytes(c.try_into().expect("8 bytes")) & 0x8080_8080_8080_8080 != 0 {
            return std::str::from_utf8(s).is_ok();
        }
    }
    chunks.remainder().is_ascii() || std::str::from_utf8(s).is_ok()
}

#[cold]
#[inline(never)]
fn fail(offset: usize, at: At, what: &str) -> Box<WireError> {
    let At(msg, field) = at;
    let message = match field {
        0 => format!("{msg} {what}"),
        _ => format!("field {field} of {msg} {what}"),
    };
    Box::new(WireError { offset, message })
}

#[cold]
#[inline(never)]
fn not_utf8(offset: usize, At(msg, field): At) -> Box<WireError> {
    let message = format!("string field {field} of {msg} is not valid UTF-8");
    Box::new(WireError { offset, message })
}

#[cold]
#[inline(never)]
fn wrong_type(offset: usize, at: At, wt: u8, want: u8) -> Box<WireError> {
    let name = |t| match t {
        VARINT => "varint",
        I64 => "64-bit",
        LEN => "length-delimited",
        SGROUP => "start-group",
        EGROUP => "end-group",
        _ => "32-bit",
    };
    let At(msg, field) = at;
    let message = format!(
        "field {field} of {msg} has wire type {wt} ({}), expected {want} ({})",
        name(wt),
        name(want)
    );
    Box::new(WireError { offset, message })
}

#[cold]
#[inline(never)]
fn bad_key(offset: usize, key: u64, msg: &str) -> Box<WireError> {
    let message = if key > u64::from(u32::MAX) {
        format!("field key {key} of {msg} is out of range")
    } else if key & 7 > 5 {
        format!("invalid wire type {} in {msg}", key & 7)
    } else {
        format!("field number 0 in {msg}")
    };
    Box::new(WireError { offset, message })
}

#[cold]
#[inline(never)]
fn too_deep(offset: usize) -> Box<WireError> {
    Box::new(WireError {
        offset,
        message: format!("messages nest deeper than {MAX_DEPTH}"),
    })
}
