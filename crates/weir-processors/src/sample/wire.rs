//! Sampling encoded logs and spans in place.
//!
//! A batch still holding its received bytes is sampled without decoding:
//! each record's trace id, severity, status and attributes are read from the
//! bytes ([`weir_otlp::splice`]), the same [`Sampler`] decides, kept records
//! are copied as they are, and a kept record's `sampling.ratio` is written as
//! a new attribute field (or in place of an earlier sampler's). When every
//! record is kept unchanged, the batch goes on as it came, compressed bytes
//! and all.

use std::ops::Range;

use weir_core::bytes::Bytes;
use weir_core::{Batch, BatchMeta, Signal};
use weir_otlp::splice::attrs::{AttrRef, ValueRef, attr, attributes, put_attr};
use weir_otlp::splice::read::{LEN, Malformed, VARINT, fields, varint_value};
use weir_otlp::splice::{Assembly, Header, Layout, Piece};

use super::hash::Rng;
use super::record::{Item, SAMPLING_RATIO, severity, valid_trace_id};
use super::rules::Sampler;

/// Field numbers of what sampling reads, per signal.
struct Fields {
    attributes: u32,
    trace_id: u32,
}

const LOG_FIELDS: Fields = Fields {
    attributes: 6,
    trace_id: 9,
};
const SPAN_FIELDS: Fields = Fields {
    attributes: 9,
    trace_id: 1,
};

/// A record or span read in place.
struct WireItem<'a, 's> {
    attrs: &'s [AttrRef<'a>],
    trace_id: Option<&'a [u8]>,
    severity: i32,
    error: bool,
}

impl<'a> Item for WireItem<'a, '_> {
    type Attrs = [AttrRef<'a>];

    fn attrs(&self) -> &[AttrRef<'a>] {
        self.attrs
    }
    fn trace_id(&self) -> Option<&[u8]> {
        self.trace_id
    }
    fn severity(&self) -> i32 {
        self.severity
    }
    fn is_error(&self) -> bool {
        self.error
    }
}

/// Reads what sampling needs of the unit `body` of `buf`, collecting into
/// `attrs` the attributes whose key is in `wanted` (the keys the rules read,
/// and `sampling.ratio`); the others are skipped after their key.
fn read_item<'a, 's>(
    buf: &'a [u8],
    body: Range<usize>,
    signal: Signal,
    wanted: &[Box<[u8]>],
    attrs: &'s mut Vec<AttrRef<'a>>,
) -> Result<WireItem<'a, 's>, Malformed> {
    let f = if signal == Signal::Logs {
        &LOG_FIELDS
    } else {
        &SPAN_FIELDS
    };
    attrs.clear();
    let mut trace_id: &[u8] = &[];
    let (mut number, mut text, mut error) = (0i32, &[][..], false);
    for field in fields(buf, body) {
        let field = field?;
        match (field.number, field.wire_type) {
            // Other attributes fall through to `_`: no other arm takes their
            // field number.
            (n, LEN)
                if n == f.attributes && {
                    let key = first_key(buf, &field);
                    wanted.iter().any(|w| **w == *key)
                } =>
            {
                attrs.push(attr(buf, &field)?)
            }
            (n, LEN) if n == f.trace_id => trace_id = &buf[field.value.clone()],
            (2, VARINT) if signal == Signal::Logs => number = varint_value(buf, &field) as i32,
            (3, LEN) if signal == Signal::Logs => text = &buf[field.value.clone()],
            (15, LEN) if signal == Signal::Traces => {
                error = false;
                for sf in fields(buf, field.value.clone()) {
                    let sf = sf?;
                    if sf.number == 3 && sf.wire_type == VARINT {
                        error = varint_value(buf, &sf) == 2;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(WireItem {
        attrs,
        trace_id: if signal == Signal::Logs {
            valid_trace_id(trace_id)
        } else {
            Some(trace_id)
        },
        // The text is read (and checked as UTF-8) only when the number is
        // unset.
        severity: match signal {
            Signal::Logs if number > 0 => number,
            Signal::Logs => severity(number, std::str::from_utf8(text).unwrap_or("")),
            _ => 0,
        },
        error,
    })
}

/// The key of the `KeyValue` in attribute field `f`, read from its first
/// field when that is the key (as every encoder writes it); otherwise the
/// whole message is read.
#[inline]
fn first_key<'a>(buf: &'a [u8], f: &weir_otlp::splice::read::Field) -> &'a [u8] {
    let v = &buf[f.value.clone()];
    if v.len() >= 2 && v[0] == 0x0a && usize::from(v[1]) < 0x80 && 2 + usize::from(v[1]) <= v.len()
    {
        return &v[2..2 + usize::from(v[1])];
    }
    attr(buf, f).map_or(&[][..], |a| a.key_bytes)
}

/// What sampling a batch's bytes gave.
pub(crate) enum Sampled {
    /// Every record kept unchanged: pass the batch on as it is.
    Unchanged,
    /// The kept records, re-assembled (`None` when none was kept); boxed, as
    /// a batch is large beside `Unchanged`.
    Changed(Option<Box<Batch>>),
}

/// Samples the export request `bytes` of `signal`.
pub(crate) fn sample(
    sampler: &Sampler,
    rng: &mut Rng,
    tally: &mut [[u64; 2]],
    signal: Signal,
    bytes: &Bytes,
    meta: &BatchMeta,
) -> Result<Sampled, Malformed> {
    let layout = Layout::of(bytes)?;
    let mut asm = Assembly::new();
    // Once a record changes the output will be written: at most the input,
    // plus a `sampling.ratio` (a dozen bytes) a record.
    let hint = bytes.len() + layout.units.len() * 16;
    let src = asm.add_source(bytes.clone());
    let attr_field = if signal == Signal::Logs {
        LOG_FIELDS.attributes
    } else {
        SPAN_FIELDS.attributes
    };
    let mut resource: Vec<AttrRef<'_>> = Vec::new();
    let mut attrs: Vec<AttrRef<'_>> = Vec::new();
    let mut changed = false;
    for r in &layout.resources {
        resource.clear();
        if let Some(body) = &r.resource {
            for a in attributes(bytes, body.clone(), 1) {
                resource.push(a?);
            }
        }
        let ri = asm.add_resource(Header::from_layout(src, layout.header(&r.header)));
        for s in &layout.scopes[r.scopes.clone()] {
            let slot = asm.add_scope(ri, Header::from_layout(src, layout.header(&s.header)));
            for unit in &layout.units[s.units.clone()] {
                let item = read_item(bytes, unit.clone(), signal, sampler.read_keys(), &mut attrs)?;
                let d = sampler.decide(&item, &resource[..], rng);
                tally[d.rule][usize::from(d.keep)] += 1;
                if !d.keep {
                    changed = true;
                    asm.write_directly(hint);
                    continue;
                }
                if d.ratio >= 1.0 {
                    asm.push_unit(slot, [Piece::new(src, unit.clone())]);
                    continue;
                }
                changed = true;
                asm.write_directly(hint);
                let pieces = mark_ratio(&mut asm, src, unit, item.attrs, attr_field, d.ratio);
                asm.push_unit(slot, pieces.into_iter().filter(|p| !p.is_empty()));
            }
        }
    }
    if !changed {
        return Ok(Sampled::Unchanged);
    }
    if asm.is_empty() {
        return Ok(Sampled::Changed(None));
    }
    let items = asm.unit_count();
    let out = asm.finish_bytes();
    Ok(Sampled::Changed(Some(Box::new(Batch::from_encoded(
        signal,
        out,
        items,
        meta.clone(),
    )))))
}

/// The pieces of a kept unit carrying `ratio`: an earlier double
/// `sampling.ratio` in (0, 1] is multiplied and rewritten in place, any
/// other earlier one replaced in place, else the attribute is appended, as
/// the decoded path's `mark_ratio` does.
fn mark_ratio(
    asm: &mut Assembly,
    src: u32,
    unit: &Range<usize>,
    attrs: &[AttrRef<'_>],
    attr_field: u32,
    ratio: f64,
) -> impl IntoIterator<Item = Piece> + use<> {
    let earlier = attrs
        .iter()
        .find(|a| a.key_bytes == SAMPLING_RATIO.as_bytes());
    let value = match earlier.map(|a| a.value()) {
        Some(ValueRef::Double(d)) if d > 0.0 && d <= 1.0 => d * ratio,
        _ => ratio,
    };
    let at = asm.arena().len();
    put_attr(
        asm.arena(),
        attr_field,
        SAMPLING_RATIO,
        &ValueRef::Double(value),
    );
    let new = asm.arena_piece(at);
    match earlier {
        Some(a) => [
            Piece::new(src, unit.start..a.raw.start),
            new,
            Piece::new(src, a.raw.end..unit.end),
        ],
        // An empty third piece, left out by the caller.
        None => [
            Piece::new(src, unit.clone()),
            new,
            Piece::new(src, unit.end..unit.end),
        ],
    }
}
