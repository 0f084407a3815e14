//! The attributes of one encoded record as a list the enrich steps edit
//! ([`AttrList`]): entries over the record's bytes, new keys and values in a
//! scratch buffer, and the list written back as pieces of the input plus
//! newly encoded fields.

use std::ops::Range;

use weir_otlp::splice::attrs::{ValueRef, put_attr_raw, put_value, value};
use weir_otlp::splice::{Assembly, Piece};

use super::attr_list::AttrList;

/// Where an entry's key or value bytes are: in the record's bytes, or in the
/// list's scratch when `new`. Offsets are `u32`, as in [`Piece`], so an
/// entry stays small: steps move entries around.
#[derive(Debug, Clone, Copy)]
pub(super) struct Loc {
    start: u32,
    end: u32,
    new: bool,
}

impl Loc {
    pub(super) fn orig(r: Range<usize>) -> Loc {
        Loc {
            start: r.start as u32,
            end: r.end as u32,
            new: false,
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) key: Loc,
    /// [`key_tag`] of the key, compared before the key's bytes.
    pub(super) tag: u64,
    /// The `AnyValue` body; `None` when the attribute has no value message.
    pub(super) value: Option<Loc>,
    /// The original attribute field, while the entry is unchanged.
    pub(super) raw: Option<(u32, u32)>,
}

/// A key's length and its first and last three bytes: two different keys
/// rarely share it, so a lookup compares one word per entry and the bytes
/// only on a likely match.
#[inline]
pub(super) fn key_tag(k: &[u8]) -> u64 {
    let n = k.len();
    let at = |i: usize| k.get(i).map_or(0, |&b| u64::from(b));
    let end = |i: usize| n.checked_sub(i).map_or(0, |j| u64::from(k[j]));
    (n as u64) << 48 | at(0) << 40 | at(1) << 32 | at(2) << 24 | end(3) << 16 | end(2) << 8 | end(1)
}

/// The bit of `tag` in [`WireAttrs::seen`].
#[inline]
pub(super) fn tag_bit(tag: u64) -> u64 {
    1 << (tag.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58)
}

/// The attributes of one record, editable over its bytes.
pub(crate) struct WireAttrs<'a> {
    buf: &'a [u8],
    pub(super) entries: Vec<Entry>,
    /// The [`tag_bit`]s of every key the list held: most keys steps look
    /// up are absent, and a clear bit says so without a scan.
    pub(super) seen: u64,
    pub(super) scratch: Vec<u8>,
    pub(super) changed: bool,
}

impl<'a> WireAttrs<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Self {
        WireAttrs {
            buf,
            entries: Vec::new(),
            seen: 0,
            scratch: Vec::new(),
            changed: false,
        }
    }

    #[inline]
    fn text(&self, b: &Loc) -> &[u8] {
        let src = if b.new { &self.scratch[..] } else { self.buf };
        &src[b.start as usize..b.end as usize]
    }

    fn put_scratch(&mut self, f: impl FnOnce(&mut Vec<u8>)) -> Loc {
        let at = self.scratch.len();
        f(&mut self.scratch);
        Loc {
            start: at as u32,
            end: self.scratch.len() as u32,
            new: true,
        }
    }

    /// Writes the attributes as fields numbered `field`: untouched ones as
    /// pieces of `src`, the others encoded into `asm`'s arena.
    pub(super) fn emit(&self, asm: &mut Assembly, src: u32, field: u32, out: &mut Vec<Piece>) {
        for e in &self.entries {
            let piece = match e.raw {
                Some((start, end)) => Piece { src, start, end },
                None => {
                    let at = asm.arena().len();
                    let key = self.text(&e.key);
                    let value = e.value.as_ref().map(|v| self.text(v));
                    put_attr_raw(asm.arena(), field, key, value);
                    asm.arena_piece(at)
                }
            };
            push_merged(out, piece);
        }
    }
}

/// Appends `p`, joining it to the last piece when they are contiguous.
pub(super) fn push_merged(out: &mut Vec<Piece>, p: Piece) {
    if let Some(last) = out.last_mut()
        && last.src == p.src
        && last.end == p.start
    {
        last.end = p.end;
        return;
    }
    out.push(p);
}

impl AttrList for WireAttrs<'_> {
    fn count(&self) -> usize {
        self.entries.len()
    }
    fn key_at(&self, i: usize) -> &str {
        std::str::from_utf8(self.text(&self.entries[i].key)).unwrap_or("")
    }
    fn key_bytes_at(&self, i: usize) -> &[u8] {
        self.text(&self.entries[i].key)
    }
    fn value_at(&self, i: usize) -> ValueRef<'_> {
        match &self.entries[i].value {
            None => ValueRef::Empty,
            Some(v) => {
                let src = if v.new { &self.scratch[..] } else { self.buf };
                value(src, v.start as usize..v.end as usize).unwrap_or(ValueRef::Empty)
            }
        }
    }
    fn push(&mut self, key: &str, v: ValueRef<'_>) {
        let tag = key_tag(key.as_bytes());
        self.seen |= tag_bit(tag);
        let key = self.put_scratch(|s| s.extend_from_slice(key.as_bytes()));
        let value = self.put_scratch(|s| put_value(s, &v));
        self.entries.push(Entry {
            key,
            tag,
            value: Some(value),
            raw: None,
        });
        self.changed = true;
    }
    fn set_value(&mut self, i: usize, v: ValueRef<'_>) {
        let value = self.put_scratch(|s| put_value(s, &v));
        let e = &mut self.entries[i];
        e.value = Some(value);
        e.raw = None;
        self.changed = true;
    }
    fn remove_at(&mut self, i: usize) {
        self.entries.remove(i);
        self.changed = true;
    }
    fn move_renamed(&mut self, i: usize, to: &str) {
        let mut e = self.entries.remove(i);
        e.key = self.put_scratch(|s| s.extend_from_slice(to.as_bytes()));
        e.tag = key_tag(to.as_bytes());
        self.seen |= tag_bit(e.tag);
        e.raw = None;
        self.entries.push(e);
        self.changed = true;
    }
    fn position_from(&self, key: &str, from: usize) -> Option<usize> {
        let key = key.as_bytes();
        let tag = key_tag(key);
        if self.seen & tag_bit(tag) == 0 {
            return None;
        }
        let rest = self.entries.get(from..)?;
        let i = rest
            .iter()
            .position(|e| e.tag == tag && self.text(&e.key) == key)?;
        Some(from + i)
    }
}
