//! Enriching encoded logs and spans in their bytes.
//!
//! A batch that still holds its received bytes is enriched without decoding
//! its records: each record's attributes are loaded as an editable list over
//! the bytes ([`WireAttrs`]), the same steps as for decoded records run on it
//! (`EnrichProcessor::record_steps`), and the record is written back as its
//! other fields, copied, followed by its attributes: untouched ones copied,
//! new or changed ones encoded. A record nobody changed is copied whole.
//! Resources (one or a few a batch) are decoded, enriched and re-encoded.
//!
//! A record is handed to the decoded steps instead (decoded alone, enriched,
//! encoded) when a step needs more than its attributes: a JSON body to parse,
//! a secret that masking would rewrite, or span events that the fingerprint
//! or masking look into. The result is the same either way; only the cost
//! differs. Body prefixes (`das.prefix_body`) keep the whole batch decoded.

use std::ops::Range;

use prost::Message;
use weir_core::bytes::Bytes;
use weir_core::otlp::common::v1::KeyValue;
use weir_core::otlp::logs::v1::LogRecord;
use weir_core::otlp::resource::v1::Resource;
use weir_core::otlp::trace::v1::Span;
use weir_core::{Batch, BatchMeta, Signal};
use weir_otlp::splice::attrs::{ValueRef, value};
use weir_otlp::splice::read::{LEN, Malformed, fields};
use weir_otlp::splice::{Assembly, Header, Layout, Piece};

use super::EnrichProcessor;
use super::attr_list::AttrList;
use super::fingerprint;
use super::wire_attrs::{Entry, Loc, WireAttrs, key_tag, push_merged, tag_bit};

/// Field numbers per signal.
struct Shape {
    attributes: u32,
    body: Option<u32>,
    event_name: Option<u32>,
    events: Option<u32>,
}

const LOGS: Shape = Shape {
    attributes: 6,
    body: Some(5),
    event_name: Some(12),
    events: None,
};
const SPANS: Shape = Shape {
    attributes: 9,
    body: None,
    event_name: None,
    events: Some(11),
};

/// What loading a record found besides its attributes.
struct Loaded<'a> {
    body: Option<Range<usize>>,
    event_name: &'a str,
    has_events: bool,
}

/// Loads the record `unit` into `attrs` (cleared first) and its other fields
/// into `others` (as byte ranges, contiguous ones joined).
fn load<'a>(
    buf: &'a [u8],
    unit: Range<usize>,
    shape: &Shape,
    attrs: &mut WireAttrs<'a>,
    others: &mut Vec<Range<usize>>,
) -> Result<Loaded<'a>, Malformed> {
    attrs.entries.clear();
    attrs.seen = 0;
    attrs.scratch.clear();
    attrs.changed = false;
    others.clear();
    let mut loaded = Loaded {
        body: None,
        event_name: "",
        has_events: false,
    };
    for f in fields(buf, unit) {
        let f = f?;
        if f.number == shape.attributes && f.wire_type == LEN {
            let (key, value) = match canonical_kv(buf, f.value.clone()) {
                Some(parts) => parts,
                None => {
                    let mut key = 0..0;
                    let mut value = None;
                    for kf in fields(buf, f.value.clone()) {
                        let kf = kf?;
                        match (kf.number, kf.wire_type) {
                            (1, LEN) => key = kf.value,
                            (2, LEN) => value = Some(kf.value),
                            _ => {}
                        }
                    }
                    (key, value)
                }
            };
            let tag = key_tag(&buf[key.clone()]);
            attrs.seen |= tag_bit(tag);
            attrs.entries.push(Entry {
                tag,
                key: Loc::orig(key),
                value: value.map(Loc::orig),
                raw: Some((f.raw.start as u32, f.raw.end as u32)),
            });
            continue;
        }
        if Some(f.number) == shape.body && f.wire_type == LEN {
            loaded.body = Some(f.value.clone());
        } else if Some(f.number) == shape.event_name && f.wire_type == LEN {
            loaded.event_name = std::str::from_utf8(&buf[f.value.clone()]).unwrap_or("");
        } else if Some(f.number) == shape.events {
            loaded.has_events = true;
        }
        match others.last_mut() {
            Some(last) if last.end == f.raw.start => last.end = f.raw.end,
            _ => others.push(f.raw),
        }
    }
    Ok(loaded)
}

/// The key and value ranges of a `KeyValue` body laid out as every encoder
/// writes it (key, then value, each with a one-byte length); `None` for any
/// other layout, which the general reader handles.
#[inline]
fn canonical_kv(buf: &[u8], body: Range<usize>) -> Option<(Range<usize>, Option<Range<usize>>)> {
    let b = &buf[body.clone()];
    if b.len() < 2 || b[0] != 0x0a || b[1] >= 0x80 {
        return None;
    }
    let key_end = 2 + usize::from(b[1]);
    let key = body.start + 2..body.start + key_end;
    if key_end == b.len() {
        return (key_end <= b.len()).then_some((key, None));
    }
    if b.len() < key_end + 2 || b[key_end] != 0x12 || b[key_end + 1] >= 0x80 {
        return None;
    }
    let value_end = key_end + 2 + usize::from(b[key_end + 1]);
    (value_end == b.len()).then(|| (key, Some(body.start + key_end + 2..body.start + value_end)))
}

impl EnrichProcessor {
    /// Enriches the export request `bytes` of `signal` (logs or traces).
    pub(super) fn process_wire(
        &mut self,
        signal: Signal,
        bytes: &Bytes,
        meta: &BatchMeta,
    ) -> Result<Batch, Malformed> {
        let shape = if signal == Signal::Logs {
            &LOGS
        } else {
            &SPANS
        };
        let layout = Layout::of(bytes)?;
        let mut asm = Assembly::new();
        // Room for the added attributes, a few dozen bytes a record, so the
        // output is not regrown on the way.
        asm.write_directly(bytes.len() + bytes.len() / 2);
        let src = asm.add_source(bytes.clone());
        let mut attrs = WireAttrs::new(bytes);
        let mut others = Vec::new();
        let mut pieces = Vec::new();
        let mut parsed = 0;
        // Only resource steps configured: records are copied, not read.
        let records = self.touches_records(signal);
        for r in &layout.resources {
            // prost merges a repeated resource field; no SDK sends one, and
            // the decoded path handles it.
            if layout
                .header(&r.header)
                .iter()
                .filter(|f| f.number == 1)
                .count()
                > 1
            {
                return Err(Malformed { at: 0 });
            }
            let mut resource = match &r.resource {
                Some(body) => Some(
                    Resource::decode(&bytes[body.clone()])
                        .map_err(|_| Malformed { at: body.start })?,
                ),
                None => None,
            };
            let header = if self.touches_resource() {
                self.resource(&mut resource);
                resource_header(&mut asm, src, &layout, &r.header, resource.as_ref())
            } else {
                Header::from_layout(src, layout.header(&r.header))
            };
            let res_attrs: &[KeyValue] = resource.as_ref().map_or(&[], |r| &r.attributes);
            let platform = fingerprint::platform(res_attrs);
            let ri = asm.add_resource(header);
            for s in &layout.scopes[r.scopes.clone()] {
                let slot = asm.add_scope(ri, Header::from_layout(src, layout.header(&s.header)));
                for unit in &layout.units[s.units.clone()] {
                    if !records {
                        asm.push_unit(slot, [Piece::new(src, unit.clone())]);
                        continue;
                    }
                    let loaded = load(bytes, unit.clone(), shape, &mut attrs, &mut others)?;
                    let mut decode = self.needs_decoded(signal, bytes, &loaded);
                    if !decode {
                        self.record_steps(&mut attrs, None, res_attrs, platform, loaded.event_name);
                        decode = self.mask_may_change(bytes, &attrs, &loaded);
                    }
                    if decode {
                        let at = asm.arena().len();
                        parsed += self.decoded_unit(
                            signal,
                            &bytes[unit.clone()],
                            res_attrs,
                            platform,
                            asm.arena(),
                        )?;
                        let piece = asm.arena_piece(at);
                        asm.push_unit(slot, [piece]);
                    } else if !attrs.changed {
                        asm.push_unit(slot, [Piece::new(src, unit.clone())]);
                    } else {
                        pieces.clear();
                        for o in &others {
                            push_merged(&mut pieces, Piece::new(src, o.clone()));
                        }
                        attrs.emit(&mut asm, src, shape.attributes, &mut pieces);
                        asm.push_unit(slot, pieces.drain(..));
                    }
                }
            }
        }
        if parsed > 0 {
            self.json_parsed.add(parsed);
        }
        let items = asm.unit_count();
        Ok(Batch::from_encoded(
            signal,
            asm.finish_bytes(),
            items,
            meta.clone(),
        ))
    }

    /// Whether a record needs the decoded steps before any step runs: a JSON
    /// body to parse, or span events to look into.
    fn needs_decoded(&self, signal: Signal, buf: &[u8], loaded: &Loaded<'_>) -> bool {
        if signal == Signal::Traces {
            return loaded.has_events && (self.fingerprint || self.mask.is_some());
        }
        self.parse_json_body
            && loaded.body.as_ref().is_some_and(|b| {
                matches!(value(buf, b.clone()), Ok(ValueRef::Str(s)) if s.trim_start().starts_with('{'))
            })
    }

    /// Whether masking would change the record as the steps left it.
    fn mask_may_change(&self, buf: &[u8], attrs: &WireAttrs<'_>, loaded: &Loaded<'_>) -> bool {
        let Some(m) = &self.mask else {
            return false;
        };
        let body = loaded
            .body
            .as_ref()
            .and_then(|b| value(buf, b.clone()).ok())
            .is_some_and(|v| m.body_may_change(&v));
        body || (0..attrs.count()).any(|i| m.may_change(attrs.key_at(i), &attrs.value_at(i)))
    }

    /// Decodes one unit, runs every record step on it and encodes it into
    /// `out`; 1 when a JSON body was parsed.
    fn decoded_unit(
        &mut self,
        signal: Signal,
        unit: &[u8],
        resource: &[KeyValue],
        platform: &str,
        out: &mut Vec<u8>,
    ) -> Result<u64, Malformed> {
        let bad = |_| Malformed { at: 0 };
        if signal == Signal::Logs {
            let mut r = LogRecord::decode(unit).map_err(bad)?;
            let parsed = self.log_record(&mut r, resource, platform);
            r.encode_raw(out);
            Ok(u64::from(parsed))
        } else {
            let mut s = Span::decode(unit).map_err(bad)?;
            self.span(&mut s, resource, platform);
            s.encode_raw(out);
            Ok(0)
        }
    }
}

/// The header of a resource group whose resource was enriched: the new
/// resource (encoded into the arena) in place of the old, the other fields
/// copied.
fn resource_header(
    asm: &mut Assembly,
    src: u32,
    layout: &Layout,
    header: &Range<usize>,
    resource: Option<&Resource>,
) -> Header {
    let new = resource.map(|res| {
        let at = asm.arena().len();
        prost::encoding::message::encode(1, res, asm.arena());
        asm.arena_piece(at)
    });
    let mut h = Header::default();
    let mut placed = false;
    for f in layout.header(header) {
        if f.number == 1 {
            if !placed && let Some(p) = new {
                h.head.push(p);
            }
            placed = true;
            continue;
        }
        let p = Piece::new(src, f.raw.clone());
        if f.after_children() {
            h.tail.push(p);
        } else {
            h.head.push(p);
        }
    }
    if !placed && let Some(p) = new {
        h.head.insert(0, p);
    }
    h
}
