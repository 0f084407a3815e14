//! Batching encoded logs and spans without decoding them.
//!
//! A batch that still holds the bytes its receiver got (an OTLP request) is
//! merged at the byte level: its resource and scope groups are found by one
//! walk ([`Layout`]), keyed by their header bytes (the resource or scope and
//! the schema URL, as sent), and its records are copied into the pending
//! request ([`Assembly`]) as they are. Sizes are exact without computing any
//! record's encoded length, and the output is an encoded batch again, so an
//! exporter forwards it without encoding. The rules are those of the decoded
//! batcher (`batcher.rs`): `max_items` and `max_bytes` are never passed, but
//! by a single record over `max_bytes` alone; order is kept per group.
//!
//! Groups merge when their header bytes are equal. Two senders that encode
//! the same resource differently (field order, say) get two groups: the batch
//! is less compact, never wrong.

use std::collections::HashMap;

use tokio::time::Instant;
use weir_core::bytes::Bytes;
use weir_core::{Batch, BatchMeta, Signal};
use weir_otlp::splice::{
    Assembly, Header, Layout, Malformed, Piece, ResourceGroup, ScopeGroup, Slot,
};

use super::batcher::{Ready, Reason};
use super::merge::merge_meta;

/// The pending encoded batch of one signal.
pub(crate) struct WireBatcher {
    signal: Signal,
    max_items: usize,
    max_bytes: usize,
    asm: Assembly,
    /// Resource header bytes → resource group and its scope groups by header.
    groups: HashMap<Vec<u8>, ResourceEntry>,
    meta: Option<BatchMeta>,
    since: Option<Instant>,
}

/// A pending resource group: its index, and its scope groups by header bytes.
type ResourceEntry = (usize, HashMap<Vec<u8>, usize>);

/// The input being spread over pending batches.
struct Input<'a> {
    bytes: &'a Bytes,
    layout: &'a Layout,
    meta: &'a BatchMeta,
    now: Instant,
    /// Its source index in the current assembly, once added.
    src: Option<u32>,
}

impl WireBatcher {
    pub(crate) fn new(signal: Signal, max_items: usize, max_bytes: usize) -> Self {
        WireBatcher {
            signal,
            max_items: max_items.max(1),
            max_bytes: max_bytes.max(1),
            asm: Assembly::new(),
            groups: HashMap::new(),
            meta: None,
            since: None,
        }
    }

    /// When the oldest pending record arrived; `None` when nothing is pending.
    pub(crate) fn since(&self) -> Option<Instant> {
        self.since
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.asm.is_empty()
    }

    /// Adds the records of `bytes` (an export request of this signal),
    /// pushing onto `out` every batch that had to leave to keep the limits.
    /// Nothing is added when the bytes do not parse.
    pub(crate) fn add(
        &mut self,
        bytes: &Bytes,
        meta: &BatchMeta,
        now: Instant,
        out: &mut Vec<Ready>,
    ) -> Result<(), Malformed> {
        let layout = Layout::of(bytes)?;
        let mut input = Input {
            bytes,
            layout: &layout,
            meta,
            now,
            src: None,
        };
        for r in &layout.resources {
            let res_key = key(bytes, &layout, &r.header);
            for s in &layout.scopes[r.scopes.clone()] {
                let scope_key = key(bytes, &layout, &s.header);
                let headers = (layout.header_len(&r.header), layout.header_len(&s.header));
                let mut slot = self.locate(&res_key, &scope_key);
                for unit in &layout.units[s.units.clone()] {
                    let len = unit.len();
                    if !self.asm.is_empty() {
                        let over_items = self.asm.unit_count() + 1 > self.max_items;
                        if over_items
                            || self.size_with(&res_key, slot, headers, len) > self.max_bytes
                        {
                            self.take(limit_reason(over_items), out);
                            input.src = None;
                            slot = None;
                        }
                    }
                    let src = self.source(&mut input);
                    let at = match slot {
                        Some(at) => at,
                        None => self.open(&res_key, &scope_key, src, &input, r, s),
                    };
                    slot = Some(at);
                    if self.asm.is_empty() {
                        self.since = Some(input.now);
                    }
                    let size = self.asm.push_unit(at, [Piece::new(src, unit.clone())]);
                    // Full, or one record over `max_bytes` alone.
                    let full = self.asm.unit_count() >= self.max_items;
                    if full || size >= self.max_bytes {
                        self.take(limit_reason(full), out);
                        input.src = None;
                        slot = None;
                    }
                }
            }
        }
        Ok(())
    }

    /// The pending size if a unit of `len` bytes joined `slot`, or new groups
    /// with headers of `headers` bytes (resource, scope) when `slot` is none.
    fn size_with(
        &self,
        res_key: &[u8],
        slot: Option<Slot>,
        headers: (usize, usize),
        len: usize,
    ) -> usize {
        match slot {
            Some(at) => self.asm.size_with(at, len),
            None => match self.groups.get(res_key) {
                Some((resource, _)) => self.asm.size_with_scope(*resource, headers.1, len),
                None => self.asm.size() + Assembly::size_alone(headers.0, headers.1, len),
            },
        }
    }

    /// The input's source index in the current assembly, adding it (and its
    /// metadata) on first use.
    fn source(&mut self, input: &mut Input<'_>) -> u32 {
        match input.src {
            Some(s) => s,
            None => {
                let s = self.asm.add_source(input.bytes.clone());
                merge_meta(&mut self.meta, input.meta);
                input.src = Some(s);
                s
            }
        }
    }

    fn locate(&self, res_key: &[u8], scope_key: &[u8]) -> Option<Slot> {
        let (resource, scopes) = self.groups.get(res_key)?;
        let scope = *scopes.get(scope_key)?;
        Some(Slot {
            resource: *resource,
            scope,
        })
    }

    /// Opens the groups for a resource and scope not pending yet.
    fn open(
        &mut self,
        res_key: &[u8],
        scope_key: &[u8],
        src: u32,
        input: &Input<'_>,
        r: &ResourceGroup,
        s: &ScopeGroup,
    ) -> Slot {
        let asm = &mut self.asm;
        let entry = self.groups.entry(res_key.to_vec()).or_insert_with(|| {
            let header = Header::from_layout(src, input.layout.header(&r.header));
            (asm.add_resource(header), HashMap::new())
        });
        let resource = entry.0;
        let scope = *entry.1.entry(scope_key.to_vec()).or_insert_with(|| {
            let header = Header::from_layout(src, input.layout.header(&s.header));
            asm.add_scope(resource, header).scope
        });
        Slot { resource, scope }
    }

    /// Sends the pending batch (if any) for `reason`.
    pub(crate) fn take(&mut self, reason: Reason, out: &mut Vec<Ready>) {
        self.since = None;
        self.groups.clear();
        let asm = std::mem::take(&mut self.asm);
        let meta = self.meta.take().unwrap_or_default();
        if asm.is_empty() {
            return;
        }
        let items = asm.unit_count();
        let bytes = asm.finish_bytes();
        // The next batch is likely as large: written without regrowing.
        self.asm
            .write_directly(bytes.len().min(self.max_bytes) + bytes.len() / 8);
        out.push(Ready {
            batch: Batch::from_encoded(self.signal, bytes, items, meta),
            reason,
        });
    }
}

/// Why a full batch leaves: the item count, else the byte size.
fn limit_reason(over_items: bool) -> Reason {
    if over_items {
        Reason::Items
    } else {
        Reason::Bytes
    }
}

/// A group's header bytes, as sent: its merge key.
fn key(bytes: &[u8], layout: &Layout, header: &std::ops::Range<usize>) -> Vec<u8> {
    let mut k = Vec::with_capacity(layout.header_len(header));
    for f in layout.header(header) {
        k.extend_from_slice(&bytes[f.raw.clone()]);
    }
    k
}
