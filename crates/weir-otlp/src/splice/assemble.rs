//! Building an export request out of pieces of other requests.
//!
//! An [`Assembly`] is the tree of a request (resource groups → scope groups →
//! units) whose leaves are byte ranges of source buffers (shared [`Bytes`]) or
//! of its own arena, where a processor writes the few bytes it adds. It keeps
//! the exact encoded size up to date as units are added (O(1) a unit), so a
//! batcher can check a byte limit before adding, and writes the request in one
//! pass with minimal length prefixes: the output is what prost would encode
//! for the same fields in the same order.

use std::ops::Range;

use bytes::Bytes;
use prost::encoding::encoded_len_varint;

/// The source index of the assembly's own arena.
pub const ARENA: u32 = u32::MAX;

/// Tag of a length-delimited field 1 (resource groups in a request).
const TAG_1_LEN: u8 = 0x0a;
/// Tag of a length-delimited field 2 (scope groups, units).
const TAG_2_LEN: u8 = 0x12;

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

    /// Writes the request. Empty scope and resource groups are left out, as a
    /// processor that drops every unit of a group means to drop the group.
    pub fn finish(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.size);
        for r in &self.resources {
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
            for s in r.scopes.iter().filter(|s| !s.units.is_empty()) {
                put_len_field(&mut out, TAG_2_LEN, s.body);
                self.put_pieces(&mut out, &s.header.head);
                for u in &s.units {
                    put_len_field(&mut out, TAG_2_LEN, u.len);
                    let ps = &self.pieces[u.pieces.start as usize..u.pieces.end as usize];
                    self.put_pieces(&mut out, ps);
                }
                self.put_pieces(&mut out, &s.header.tail);
            }
            self.put_pieces(&mut out, &r.header.tail);
        }
        out
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
mod tests {
    use super::*;
    use crate::splice::Layout;
    use prost::Message;
    use weir_core::otlp::collector::logs::v1::ExportLogsServiceRequest;
    use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use weir_core::otlp::resource::v1::Resource as OtlpResource;

    fn request(records: &[u64], schema: &str) -> ExportLogsServiceRequest {
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(OtlpResource {
                    dropped_attributes_count: 3,
                    ..Default::default()
                }),
                scope_logs: vec![ScopeLogs {
                    log_records: records
                        .iter()
                        .map(|t| LogRecord {
                            time_unix_nano: *t,
                            body: Some(Default::default()),
                            ..Default::default()
                        })
                        .collect(),
                    schema_url: schema.into(),
                    ..Default::default()
                }],
                schema_url: "r".into(),
            }],
        }
    }

    /// Copies every unit of `buf` into `a`, one group per input group.
    fn copy_all(a: &mut Assembly, buf: Bytes) {
        let l = Layout::of(&buf).unwrap();
        let src = a.add_source(buf.clone());
        for r in &l.resources {
            let ri = a.add_resource(Header::from_layout(src, l.header(&r.header)));
            for s in &l.scopes[r.scopes.clone()] {
                let slot = a.add_scope(ri, Header::from_layout(src, l.header(&s.header)));
                for u in &l.units[s.units.clone()] {
                    let before = a.size_with(slot, u.len());
                    assert_eq!(a.push_unit(slot, [Piece::new(src, u.clone())]), before);
                }
            }
        }
    }

    #[test]
    fn reassembling_a_request_gives_its_bytes_back() {
        let req = request(&[1, 2, 300_000], "s");
        let buf = Bytes::from(req.encode_to_vec());
        let mut a = Assembly::new();
        copy_all(&mut a, buf.clone());
        assert_eq!(a.size(), buf.len());
        assert_eq!(a.finish(), buf.to_vec());
        assert_eq!(a.unit_count(), 3);
    }

    #[test]
    fn units_from_two_sources_and_the_arena_in_one_group() {
        let one = Bytes::from(request(&[1], "s").encode_to_vec());
        let two = Bytes::from(request(&[2, 3], "s").encode_to_vec());
        let mut a = Assembly::new();
        copy_all(&mut a, one);
        let l = Layout::of(&two).unwrap();
        let src = a.add_source(two.clone());
        let slot = Slot {
            resource: 0,
            scope: 0,
        };
        for u in &l.units {
            a.push_unit(slot, [Piece::new(src, u.clone())]);
        }
        // A unit written in the arena: a record with time 4.
        let at = a.arena().len();
        LogRecord {
            time_unix_nano: 4,
            ..Default::default()
        }
        .encode_raw(a.arena());
        let p = a.arena_piece(at);
        a.push_unit(slot, [p]);
        let out = a.finish();
        assert_eq!(out.len(), a.size());
        let got = ExportLogsServiceRequest::decode(&out[..]).unwrap();
        assert_eq!(got.resource_logs.len(), 1);
        let times: Vec<u64> = got.resource_logs[0].scope_logs[0]
            .log_records
            .iter()
            .map(|r| r.time_unix_nano)
            .collect();
        assert_eq!(times, [1, 2, 3, 4]);
        assert_eq!(got.resource_logs[0].scope_logs[0].schema_url, "s");
        assert_eq!(got.resource_logs[0].schema_url, "r");
    }

    #[test]
    fn empty_groups_are_left_out_and_sizes_stay_exact_across_varint_widths() {
        let mut a = Assembly::new();
        let empty = a.add_resource(Header::default());
        a.add_scope(empty, Header::default());
        let r = a.add_resource(Header::default());
        let slot = a.add_scope(r, Header::default());
        let big = LogRecord {
            severity_text: "x".repeat(197),
            ..Default::default()
        }
        .encode_to_vec();
        assert_eq!(big.len(), 200);
        let src = a.add_source(Bytes::from(big));
        // Bodies crossing 127 and 16383 bytes widen the length prefixes.
        for _ in 0..100 {
            a.push_unit(slot, [Piece::new(src, 0..200)]);
        }
        let out = a.finish();
        // The empty group costs nothing in the output, but was counted.
        assert_eq!(out.len() + field_len(field_len(0)), a.size());
        let got = ExportLogsServiceRequest::decode(&out[..]).unwrap();
        assert_eq!(got.resource_logs.len(), 1);
    }
}
