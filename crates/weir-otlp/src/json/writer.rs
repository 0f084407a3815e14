//! The low-level JSON writer shared by every signal: escaped strings, numbers in
//! the proto3 JSON mapping, hex ids, base64, and [`ObjectWriter`], which leaves out
//! fields at their default value and places the commas.
//!
//! Everything appends to a caller's `Vec<u8>`: no serde, no per-value allocation.

/// Bytes that cannot appear raw inside a JSON string: `"`, `\` and the control
/// characters below 0x20. Everything else, UTF-8 included, is copied as is.
static NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = true;
        i += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

const LOW_BITS: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// True when any of the 8 bytes in `word` needs escaping. The classic SWAR tests
/// (`has_zero`, `has_less`) are exact about *whether* a byte matches, which is all
/// the fast path needs; it lets plain text (the common case) move 8 bytes a step.
#[inline]
fn word_needs_escape(word: u64) -> bool {
    let has_zero = |v: u64| v.wrapping_sub(LOW_BITS) & !v & HIGH_BITS;
    let control = word.wrapping_sub(LOW_BITS * 0x20) & !word & HIGH_BITS;
    let quote = has_zero(word ^ (LOW_BITS * u64::from(b'"')));
    let backslash = has_zero(word ^ (LOW_BITS * u64::from(b'\\')));
    (control | quote | backslash) != 0
}

/// Length of the longest prefix of `bytes` that needs no escaping.
#[inline]
fn plain_prefix_len(bytes: &[u8]) -> usize {
    let mut i = 0;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("8-byte chunk"));
        if word_needs_escape(word) {
            break;
        }
        i += 8;
    }
    while i < bytes.len() && !NEEDS_ESCAPE[bytes[i] as usize] {
        i += 1;
    }
    i
}

/// Writes `s` as a JSON string, quotes included.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut rest = bytes;
    loop {
        let plain = plain_prefix_len(rest);
        out.extend_from_slice(&rest[..plain]);
        let Some(&byte) = rest.get(plain) else { break };
        write_escape(out, byte);
        rest = &rest[plain + 1..];
    }
    out.push(b'"');
}

/// Writes the escape sequence of one byte that [`NEEDS_ESCAPE`] flags.
fn write_escape(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match byte {
        b'"' => b'"',
        b'\\' => b'\\',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        0x08 => b'b',
        0x0c => b'f',
        _ => {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xf)],
            ]);
            return;
        }
    };
    out.extend_from_slice(&[b'\\', short]);
}

/// Writes a 64-bit integer the proto3 way: as a decimal string (`"42"`), since
/// JSON numbers lose precision above 2^53 in most parsers.
#[inline]
pub fn write_u64_string(out: &mut Vec<u8>, v: u64) {
    out.push(b'"');
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    out.push(b'"');
}

/// Writes a signed 64-bit integer as a decimal string.
#[inline]
pub fn write_i64_string(out: &mut Vec<u8>, v: i64) {
    out.push(b'"');
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    out.push(b'"');
}

/// Writes a 32-bit integer as a JSON number.
#[inline]
pub fn write_int<I: itoa::Integer>(out: &mut Vec<u8>, v: I) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Writes a double as a JSON number, or `"NaN"`, `"Infinity"`, `"-Infinity"`.
#[inline]
pub fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
    } else if v.is_nan() {
        out.extend_from_slice(b"\"NaN\"");
    } else if v > 0.0 {
        out.extend_from_slice(b"\"Infinity\"");
    } else {
        out.extend_from_slice(b"\"-Infinity\"");
    }
}

/// Writes bytes as a lower-case hex string: OTLP/JSON's form for trace and span ids.
pub fn write_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 2 + 2);
    out.push(b'"');
    for &b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0xf)]);
    }
    out.push(b'"');
}

/// Writes bytes as a standard (RFC 4648, padded) base64 string: proto3 JSON's form
/// for `bytes` fields.
pub fn write_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sextet = |n: u32, shift: u32| ALPHABET[((n >> shift) & 0x3f) as usize];
    out.reserve(bytes.len().div_ceil(3) * 4 + 2);
    out.push(b'"');
    let mut chunks = bytes.chunks_exact(3);
    for c in &mut chunks {
        let n = u32::from(c[0]) << 16 | u32::from(c[1]) << 8 | u32::from(c[2]);
        out.extend_from_slice(&[sextet(n, 18), sextet(n, 12), sextet(n, 6), sextet(n, 0)]);
    }
    match *chunks.remainder() {
        [a] => {
            let n = u32::from(a) << 16;
            out.extend_from_slice(&[sextet(n, 18), sextet(n, 12), b'=', b'=']);
        }
        [a, b] => {
            let n = u32::from(a) << 16 | u32::from(b) << 8;
            out.extend_from_slice(&[sextet(n, 18), sextet(n, 12), sextet(n, 6), b'=']);
        }
        _ => {}
    }
    out.push(b'"');
}

/// Writes `[item, item, ...]`, each item by `write_item`.
pub fn write_array<T>(
    out: &mut Vec<u8>,
    items: &[T],
    mut write_item: impl FnMut(&mut Vec<u8>, &T),
) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_item(out, item);
    }
    out.push(b']');
}

/// Writes one JSON object field by field. Each `*_field` method leaves the field
/// out when it holds its proto3 default (0, "", empty list, unset message), as the
/// proto3 JSON mapping does; `*_always` methods are for oneof members and
/// `optional` fields, which are written whenever they are set.
pub struct ObjectWriter<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> ObjectWriter<'a> {
    /// Opens an object (`{`).
    #[inline]
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        ObjectWriter { out, empty: true }
    }

    /// Writes `"name":` (with the comma before it when needed) and hands back the
    /// buffer for the value. `name` is one of our field names: no escaping needed.
    #[inline]
    pub fn key(&mut self, name: &str) -> &mut Vec<u8> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    /// A string field, left out when empty.
    #[inline]
    pub fn str_field(&mut self, name: &str, v: &str) {
        if !v.is_empty() {
            write_str(self.key(name), v);
        }
    }

    /// A uint64/fixed64 field as a decimal string, left out when 0.
    #[inline]
    pub fn u64_field(&mut self, name: &str, v: u64) {
        if v != 0 {
            write_u64_string(self.key(name), v);
        }
    }

    /// A 32-bit integer (or enum) field as a number, left out when 0.
    #[inline]
    pub fn int_field<I: itoa::Integer + Default + PartialEq>(&mut self, name: &str, v: I) {
        if v != I::default() {
            write_int(self.key(name), v);
        }
    }

    /// A double field, left out when +0.0 (the default; -0.0 is kept, as protojson does).
    #[inline]
    pub fn f64_field(&mut self, name: &str, v: f64) {
        if v.to_bits() != 0 {
            write_f64(self.key(name), v);
        }
    }

    /// An `optional double` field: written whenever set, even to 0.
    #[inline]
    pub fn opt_f64_field(&mut self, name: &str, v: Option<f64>) {
        if let Some(v) = v {
            write_f64(self.key(name), v);
        }
    }

    /// A bool field, left out when false.
    #[inline]
    pub fn bool_field(&mut self, name: &str, v: bool) {
        if v {
            self.key(name).extend_from_slice(b"true");
        }
    }

    /// A trace or span id as lower-case hex, left out when empty.
    #[inline]
    pub fn hex_field(&mut self, name: &str, v: &[u8]) {
        if !v.is_empty() {
            write_hex(self.key(name), v);
        }
    }

    /// A repeated field, left out when empty.
    #[inline]
    pub fn list_field<T>(
        &mut self,
        name: &str,
        items: &[T],
        write_item: impl FnMut(&mut Vec<u8>, &T),
    ) {
        if !items.is_empty() {
            write_array(self.key(name), items, write_item);
        }
    }

    /// A repeated uint64 field, each item a decimal string; left out when empty.
    pub fn u64_list_field(&mut self, name: &str, items: &[u64]) {
        self.list_field(name, items, |out, v| write_u64_string(out, *v));
    }

    /// A repeated double field; left out when empty.
    pub fn f64_list_field(&mut self, name: &str, items: &[f64]) {
        self.list_field(name, items, |out, v| write_f64(out, *v));
    }

    /// A message field: written whenever set (an empty message is `{}`).
    #[inline]
    pub fn message_field<T>(
        &mut self,
        name: &str,
        v: Option<&T>,
        write_value: impl FnOnce(&mut Vec<u8>, &T),
    ) {
        if let Some(v) = v {
            write_value(self.key(name), v);
        }
    }

    /// Closes the object (`}`).
    #[inline]
    pub fn end(self) {
        self.out.push(b'}');
    }
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
