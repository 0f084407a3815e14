//! Building an export request out of pieces of other requests.
//!
//! An [`Assembly`] is the tree of a request (resource groups → scope groups →
//! units) whose leaves are byte ranges of source buffers (shared [`Bytes`]) or
//! of its own arena, where a processor writes the few bytes it adds. It keeps
//! the exact encoded size up to date as units are added (O(1) a unit), so a
//! batcher can check a byte limit before adding, and writes the request in one
//! pass with minimal length prefixes: the output is what prost would encode
//! for the same fields in the same order.
//!
//! The units of the first scope group of the first resource group are written
//! as they are pushed, after room left for the group prefixes. When the
//! request ends up with that one group, as a request from one SDK does,
//! [`Assembly::finish_bytes`] writes the prefixes into the room and hands the
//! buffer on: the units are copied once, not once into pieces and again out.

use std::ops::Range;

use bytes::Bytes;
use prost::encoding::encoded_len_varint;

/// The source index of the assembly's own arena.
pub const ARENA: u32 = u32::MAX;

/// Tag of a length-delimited field 1 (resource groups in a request).
const TAG_1_LEN: u8 = 0x0a;
/// Tag of a length-delimited field 2 (scope groups, units).
const TAG_2_LEN: u8 = 0x12;

/// Room for a group's tag and the longest length prefix.
const PREFIX_ROOM: usize = 11;

/// A byte range of a source (or of the arena).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// Index from [`Assembly::add_source`], or [`ARENA`].
    pub src: u32,
    /// Start offset.
    pub start: u32,
    /// End offset (exclusive).
    pub end: u32,
}

impl Piece {
    /// `range` of source `src`.
    pub fn new(src: u32, range: Range<usize>) -> Piece {
        Piece {
            src,
            start: range.start as u32,
            end: range.end as u32,
        }
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// Bytes a length-delimited field with a one-byte tag and a `body`-byte
/// payload takes.
pub fn field_len(body: usize) -> usize {
    1 + encoded_len_varint(body as u64) + body
}

#[derive(Debug, Clone)]
struct Unit {
    pieces: Range<u32>,
    len: usize,
}

/// The fields of a group other than its children, split as prost orders
/// them: `head` before the children, `tail` after.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    /// Fields numbered below the children's.
    pub head: Vec<Piece>,
    /// Fields numbered above.
    pub tail: Vec<Piece>,
}

impl Header {
    /// The header of a group of source `src` from its layout fields.
    pub fn from_layout(src: u32, fields: &[crate::splice::HeaderField]) -> Header {
        let mut h = Header::default();
        for f in fields {
            let p = Piece::new(src, f.raw.clone());
            if f.after_children() {
                h.tail.push(p);
            } else {
                h.head.push(p);
            }
        }
        h
    }

    /// Its encoded length.
    pub fn len(&self) -> usize {
        self.head.iter().chain(&self.tail).map(Piece::len).sum()
    }

    /// Whether it has no field.
    pub fn is_empty(&self) -> bool {
        self.head.is_empty() && self.tail.is_empty()
    }
}

#[derive(Debug, Clone)]
struct Scope {
    header: Header,
    /// Body length: header plus unit fields.
    body: usize,
    units: Vec<Unit>,
}

#[derive(Debug, Clone)]
struct Resource {
    header: Header,
    /// Body length: header plus scope fields.
    body: usize,
    scopes: Vec<Scope>,
}

/// An export request being put together; see the module docs.
#[derive(Debug, Clone, Default)]
pub struct Assembly {
    sources: Vec<Bytes>,
    arena: Vec<u8>,
    pieces: Vec<Piece>,
    resources: Vec<Resource>,
    units: usize,
    size: usize,
    /// The units of slot (0, 0), encoded, after `room` bytes (see the
    /// module docs); empty until the first of them.
    direct: Vec<u8>,
    room: usize,
    /// Whether units of slot (0, 0) go to `direct`.
    direct_on: bool,
    /// Bytes to reserve for `direct` when it starts.
    hint: usize,
}

/// Where a unit goes: a resource group and one of its scope groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Index of the resource group.
    pub resource: usize,
    /// Index of the scope group within it.
    pub scope: usize,
}

impl Assembly {
    /// An empty request.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes the units of the first group as they come (see the module
    /// docs), reserving `hint` bytes for them; worth it only when the request
    /// will be finished. Units already in that group are written first.
    pub fn write_directly(&mut self, hint: usize) {
        if self.direct_on {
            return;
        }
        self.direct_on = true;
        self.hint = hint;
        let Some(first) = self.resources.first().and_then(|r| r.scopes.first()) else {
            return;
        };
        let units: Vec<Unit> = first.units.clone();
        for u in units {
            self.write_direct(u.pieces.start as usize..u.pieces.end as usize, u.len);
        }
    }

    /// Makes `bytes` a source; pieces refer to it by the returned index.
    pub fn add_source(&mut self, bytes: Bytes) -> u32 {
        self.sources.push(bytes);
        (self.sources.len() - 1) as u32
    }

    /// The arena, to write new bytes into; take pieces of it with
    /// [`Assembly::arena_piece`].
    pub fn arena(&mut self) -> &mut Vec<u8> {
        &mut self.arena
    }

    /// A piece of the arena from `start` to its current end.
    pub fn arena_piece(&self, start: usize) -> Piece {
        Piece::new(ARENA, start..self.arena.len())
    }

    /// The bytes of `p`.
    pub fn bytes_of(&self, p: &Piece) -> &[u8] {
        let src: &[u8] = if p.src == ARENA {
            &self.arena
        } else {
            &self.sources[p.src as usize]
        };
        &src[p.start as usize..p.end as usize]
    }

    /// Units added so far.
    pub fn unit_count(&self) -> usize {
        self.units
    }

    /// Whether no unit was added.
    pub fn is_empty(&self) -> bool {
        self.units == 0
    }

    /// The encoded size of the request as it stands: exact, except that a
    /// group left without units counts here but is not written.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Resource groups so far.
    pub fn resource_count(&self) -> usize {
        self.resources.len()
    }

    /// Scope groups of resource group `resource`.
    pub fn scope_count(&self, resource: usize) -> usize {
        self.resources[resource].scopes.len()
    }

    /// Opens a resource group with these header fields; its index.
    pub fn add_resource(&mut self, header: Header) -> usize {
        let body = header.len();
        self.size += field_len(body);
        self.resources.push(Resource {
            header,
            body,
            scopes: Vec::new(),
        });
        self.resources.len() - 1
    }

    /// Opens a scope group in resource group `resource`; its slot.
    pub fn add_scope(&mut self, resource: usize, header: Header) -> Slot {
        let body = header.len();
        let r = &mut self.resources[resource];
        let before = field_len(r.body);
        r.body += field_len(body);
        self.size = self.size - before + field_len(r.body);
        r.scopes.push(Scope {
            header,
            body,
            units: Vec::new(),
        });
        Slot {
            resource,
            scope: r.scopes.len() - 1,
        }
    }

    /// The request's size if a unit of `len` bytes joined `slot`.
    pub fn size_with(&self, slot: Slot, len: usize) -> usize {
        let r = &self.resources[slot.resource];
        let s = &r.scopes[slot.scope];
        let scope_body = s.body + field_len(len);
        let res_body = r.body - field_len(s.body) + field_len(scope_body);
        self.size - field_len(r.body) + field_len(res_body)
    }

    /// The request's size if a new scope group with a header of
    /// `scope_header` bytes and one unit of `len` bytes joined `resource`.
    pub fn size_with_scope(&self, resource: usize, scope_header: usize, len: usize) -> usize {
        let r = &self.resources[resource];
        let res_body = r.body + field_len(scope_header + field_len(len));
        self.size - field_len(r.body) + field_len(res_body)
    }

    /// The size a new resource group with one scope group and one unit adds.
    pub fn size_alone(resource_header: usize, scope_header: usize, len: usize) -> usize {
        field_len(resource_header + field_len(scope_header + field_len(len)))
    }

    /// Adds a unit made of `pieces` to `slot`; returns the new size.
    pub fn push_unit(&mut self, slot: Slot, pieces: impl IntoIterator<Item = Piece>) -> usize {
        let start = self.pieces.len() as u32;
        let mut len = 0;
        for p in pieces {
            len += p.len();
            self.pieces.push(p);
        }
        if self.direct_on && slot.resource == 0 && slot.scope == 0 {
            self.write_direct(start as usize..self.pieces.len(), len);
            // Written: the pieces are not needed any more.
            self.pieces.truncate(start as usize);
        }
        let new_size = self.size_with(slot, len);
        let r = &mut self.resources[slot.resource];
        let s = &mut r.scopes[slot.scope];
        let old_scope = field_len(s.body);
        s.body += field_len(len);
        r.body = r.body - old_scope + field_len(s.body);
        s.units.push(Unit {
            pieces: start..self.pieces.len() as u32,
            len,
        });
        self.units += 1;
        self.size = new_size;
        new_size
    }

    /// Writes the unit of `len` bytes made of `pieces` into `direct`.
    fn write_direct(&mut self, pieces: Range<usize>, len: usize) {
        if self.direct.is_empty() {
            let r = &self.resources[0];
            let heads = r.header.head.iter().chain(&r.scopes[0].header.head);
            self.room = 2 * PREFIX_ROOM + heads.map(Piece::len).sum::<usize>();
            self.direct.reserve(self.room + self.hint);
            self.direct.resize(self.room, 0);
        }
        put_len_field(&mut self.direct, TAG_2_LEN, len);
        for p in &self.pieces[pieces] {
            let src: &[u8] = if p.src == ARENA {
                &self.arena
            } else {
                &self.sources[p.src as usize]
            };
            self.direct
                .extend_from_slice(&src[p.start as usize..p.end as usize]);
        }
    }

    /// The units of slot (0, 0), encoded.
    fn direct_units(&self) -> &[u8] {
        self.direct.get(self.room..).unwrap_or_default()
    }

    /// Writes the request. Empty scope and resource groups are left out, as a
    /// processor that drops every unit of a group means to drop the group.
    pub fn finish(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.size);
        for (ri, r) in self.resources.iter().enumerate() {
            if r.scopes.iter().all(|s| s.units.is_empty()) {
                continue;
            }
            let body = r.header.len()
                + r.scopes
                    .iter()
                    .filter(|s| !s.units.is_empty())
                    .map(|s| field_len(s.body))
                    .sum::<usize>();
            put_len_field(&mut out, TAG_1_LEN, body);
            self.put_pieces(&mut out, &r.header.head);
            for (si, s) in r.scopes.iter().enumerate() {
                if s.units.is_empty() {
                    continue;
                }
                put_len_field(&mut out, TAG_2_LEN, s.body);
                self.put_pieces(&mut out, &s.header.head);
                if self.direct_on && (ri, si) == (0, 0) {
                    out.extend_from_slice(self.direct_units());
                } else {
                    for u in &s.units {
                        put_len_field(&mut out, TAG_2_LEN, u.len);
                        let ps = &self.pieces[u.pieces.start as usize..u.pieces.end as usize];
                        self.put_pieces(&mut out, ps);
                    }
                }
                self.put_pieces(&mut out, &s.header.tail);
            }
            self.put_pieces(&mut out, &r.header.tail);
        }
        out
    }

    /// The request, as [`Assembly::finish`] writes it; without copying the
    /// units again when there is one group (see the module docs).
    pub fn finish_bytes(mut self) -> Bytes {
        let one_group = self.resources.len() == 1 && self.resources[0].scopes.len() == 1;
        if !self.direct_on || !one_group || self.units == 0 {
            return Bytes::from(self.finish());
        }
        let mut direct = std::mem::take(&mut self.direct);
        let r = &self.resources[0];
        let s = &r.scopes[0];
        self.put_pieces(&mut direct, &s.header.tail);
        self.put_pieces(&mut direct, &r.header.tail);
        let mut prefix = Vec::with_capacity(self.room);
        put_len_field(&mut prefix, TAG_1_LEN, r.body);
        self.put_pieces(&mut prefix, &r.header.head);
        put_len_field(&mut prefix, TAG_2_LEN, s.body);
        self.put_pieces(&mut prefix, &s.header.head);
        let at = self.room - prefix.len();
        direct[at..self.room].copy_from_slice(&prefix);
        Bytes::from(direct).slice(at..)
    }

    fn put_pieces(&self, out: &mut Vec<u8>, pieces: &[Piece]) {
        for p in pieces {
            out.extend_from_slice(self.bytes_of(p));
        }
    }
}

/// Writes a tag byte and a length prefix.
fn put_len_field(out: &mut Vec<u8>, tag: u8, len: usize) {
    out.push(tag);
    super::read::put_varint(out, len as u64);
}

#[cfg(test)]
#[path = "assemble_tests.rs"]
mod tests;
