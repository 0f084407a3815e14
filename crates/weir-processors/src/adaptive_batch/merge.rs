//! Combining resource and scope groups: the pending batch.
//!
//! Records are appended to the group of their resource and scope, found by
//! value: each incoming resource (with its `schema_url`) and scope (with its
//! `schema_url`) is encoded once to protobuf, with its records left out, and
//! those bytes are the key. Equal bytes mean equal values (prost encodes
//! fields in a fixed order), so two batches from one SDK share groups;
//! attributes listed in another order count as another resource.
//!
//! The pending batch knows its exact encoded size at all times: each group
//! keeps the length of its message body, and adding a record updates the
//! length prefixes on its way up (O(1) per record), so the batcher can check
//! `max_bytes` before adding.

use std::collections::HashMap;
use std::sync::Arc;

use prost::Message;
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_core::otlp::metrics::v1::{Metric, ResourceMetrics, ScopeMetrics};
use weir_core::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span};
use weir_core::{BatchMeta, ClientInfo, SignalData, data_points};
use weir_otlp::splice::{Assembly, field_len};

/// The shape of one signal's OTLP data: resource → scope → unit.
///
/// A unit is what the batcher moves: a log record, a span, or a metric with
/// its data points (items are data points; a metric is cut by points only
/// when it alone is over a limit, see `split.rs`).
pub(crate) trait Shape {
    /// `ResourceLogs`, `ResourceSpans`, `ResourceMetrics`.
    type Res: Message + Default + Clone;
    /// `ScopeLogs`, `ScopeSpans`, `ScopeMetrics`.
    type Scope: Message + Default + Clone;
    /// `LogRecord`, `Span`, `Metric`.
    type Unit: Message;
    /// The scope groups of a resource group.
    fn scopes(r: &mut Self::Res) -> &mut Vec<Self::Scope>;
    /// The units of a scope group.
    fn units(s: &mut Self::Scope) -> &mut Vec<Self::Unit>;
    /// Items a unit counts for.
    fn items(u: &Self::Unit) -> usize;
    /// Cuts a unit after its first `at` items; `None` when it cannot be cut.
    fn split_off(_u: &mut Self::Unit, _at: usize) -> Option<Self::Unit> {
        None
    }
    /// The records as signal data.
    fn wrap(v: Vec<Self::Res>) -> SignalData;
    /// The records of `data`, if it is this signal.
    fn unwrap(data: SignalData) -> Option<Vec<Self::Res>>;
}

/// Log records.
pub(crate) struct Logs;
/// Spans.
pub(crate) struct Traces;
/// Metrics, counted by data point.
pub(crate) struct Metrics;

impl Shape for Logs {
    type Res = ResourceLogs;
    type Scope = ScopeLogs;
    type Unit = LogRecord;
    fn scopes(r: &mut ResourceLogs) -> &mut Vec<ScopeLogs> {
        &mut r.scope_logs
    }
    fn units(s: &mut ScopeLogs) -> &mut Vec<LogRecord> {
        &mut s.log_records
    }
    fn items(_: &LogRecord) -> usize {
        1
    }
    fn wrap(v: Vec<ResourceLogs>) -> SignalData {
        SignalData::Logs(v)
    }
    fn unwrap(data: SignalData) -> Option<Vec<ResourceLogs>> {
        match data {
            SignalData::Logs(v) => Some(v),
            _ => None,
        }
    }
}

impl Shape for Traces {
    type Res = ResourceSpans;
    type Scope = ScopeSpans;
    type Unit = Span;
    fn scopes(r: &mut ResourceSpans) -> &mut Vec<ScopeSpans> {
        &mut r.scope_spans
    }
    fn units(s: &mut ScopeSpans) -> &mut Vec<Span> {
        &mut s.spans
    }
    fn items(_: &Span) -> usize {
        1
    }
    fn wrap(v: Vec<ResourceSpans>) -> SignalData {
        SignalData::Traces(v)
    }
    fn unwrap(data: SignalData) -> Option<Vec<ResourceSpans>> {
        match data {
            SignalData::Traces(v) => Some(v),
            _ => None,
        }
    }
}

impl Shape for Metrics {
    type Res = ResourceMetrics;
    type Scope = ScopeMetrics;
    type Unit = Metric;
    fn scopes(r: &mut ResourceMetrics) -> &mut Vec<ScopeMetrics> {
        &mut r.scope_metrics
    }
    fn units(s: &mut ScopeMetrics) -> &mut Vec<Metric> {
        &mut s.metrics
    }
    fn items(m: &Metric) -> usize {
        data_points(m.data.as_ref())
    }
    fn split_off(m: &mut Metric, at: usize) -> Option<Metric> {
        super::split::split_metric(m, at)
    }
    fn wrap(v: Vec<ResourceMetrics>) -> SignalData {
        SignalData::Metrics(v)
    }
    fn unwrap(data: SignalData) -> Option<Vec<ResourceMetrics>> {
        match data {
            SignalData::Metrics(v) => Some(v),
            _ => None,
        }
    }
}

/// A resource or scope, encoded without its children: the grouping key.
pub(crate) struct Header<M> {
    /// The message with its children left out.
    pub(crate) proto: M,
    /// `proto` encoded: compared by value, and its length is the header's.
    pub(crate) key: Vec<u8>,
}

impl<M: Message> Header<M> {
    pub(crate) fn new(proto: M) -> Self {
        let key = proto.encode_to_vec();
        Header { proto, key }
    }
}

/// Where a unit would go in the pending batch.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Slot {
    res: Option<usize>,
    scope: Option<usize>,
}

struct ScopeGroup<K: Shape> {
    key: Vec<u8>,
    /// Body length of the scope message (header + units).
    body: usize,
    scope: K::Scope,
}

struct ResGroup<K: Shape> {
    /// Body length of the resource message (header + scope fields).
    body: usize,
    res: K::Res,
    scopes: Vec<ScopeGroup<K>>,
}

/// The pending batch of one signal: records grouped by resource and scope,
/// in order of first arrival, with the exact encoded size kept up to date.
pub(crate) struct Merger<K: Shape> {
    groups: Vec<ResGroup<K>>,
    index: HashMap<Vec<u8>, usize>,
    units: usize,
    items: usize,
    size: usize,
    meta: Option<BatchMeta>,
}

impl<K: Shape> Default for Merger<K> {
    fn default() -> Self {
        Merger {
            groups: Vec::new(),
            index: HashMap::new(),
            units: 0,
            items: 0,
            size: 0,
            meta: None,
        }
    }
}

impl<K: Shape> Merger<K> {
    /// Whether nothing is pending.
    pub(crate) fn is_empty(&self) -> bool {
        self.units == 0
    }

    /// Items pending.
    pub(crate) fn items(&self) -> usize {
        self.items
    }

    /// Where a unit of this resource and scope would go.
    pub(crate) fn locate(&self, res_key: &[u8], scope_key: &[u8]) -> Slot {
        let res = self.index.get(res_key).copied();
        let scope = res.and_then(|r| {
            self.groups[r]
                .scopes
                .iter()
                .position(|s| s.key == scope_key)
        });
        Slot { res, scope }
    }

    /// The encoded size after adding a unit of `unit_len` bytes at `slot`.
    pub(crate) fn size_with(
        &self,
        slot: Slot,
        res_hdr: usize,
        scope_hdr: usize,
        unit_len: usize,
    ) -> usize {
        let unit = field_len(unit_len);
        match (slot.res, slot.scope) {
            (None, _) => self.size + Assembly::size_alone(res_hdr, scope_hdr, unit_len),
            (Some(r), None) => {
                let g = &self.groups[r];
                let body = g.body + field_len(scope_hdr + unit);
                self.size - field_len(g.body) + field_len(body)
            }
            (Some(r), Some(s)) => {
                let g = &self.groups[r];
                let sg = &g.scopes[s];
                let scope_body = sg.body + unit;
                let body = g.body - field_len(sg.body) + field_len(scope_body);
                self.size - field_len(g.body) + field_len(body)
            }
        }
    }

    /// Adds `unit` (of `unit_len` encoded bytes) at `slot`, which must come
    /// from [`Merger::locate`] (or an earlier push) with no take since. Sets
    /// `slot` to where the unit went, so the next unit of the same resource
    /// and scope needs no lookup. Returns the new size.
    pub(crate) fn push(
        &mut self,
        slot: &mut Slot,
        res: &Header<K::Res>,
        scope: &Header<K::Scope>,
        unit: K::Unit,
        unit_len: usize,
        more: usize,
    ) -> usize {
        let new_size = self.size_with(*slot, res.key.len(), scope.key.len(), unit_len);
        let r = match slot.res {
            Some(r) => r,
            None => {
                self.groups.push(ResGroup {
                    body: res.key.len(),
                    res: res.proto.clone(),
                    scopes: Vec::new(),
                });
                self.index.insert(res.key.clone(), self.groups.len() - 1);
                self.groups.len() - 1
            }
        };
        let g = &mut self.groups[r];
        let s = match slot.scope.filter(|_| slot.res.is_some()) {
            Some(s) => s,
            None => {
                g.scopes.push(ScopeGroup {
                    key: scope.key.clone(),
                    body: scope.key.len(),
                    scope: scope.proto.clone(),
                });
                g.body += field_len(scope.key.len());
                g.scopes.len() - 1
            }
        };
        let sg = &mut g.scopes[s];
        let old_scope = field_len(sg.body);
        sg.body += field_len(unit_len);
        g.body = g.body - old_scope + field_len(sg.body);
        self.units += 1;
        self.items += K::items(&unit);
        let units = K::units(&mut sg.scope);
        // `more` units of this scope may follow: grow once, not by doubling.
        units.reserve(more + 1);
        units.push(unit);
        self.size = new_size;
        *slot = Slot {
            res: Some(r),
            scope: Some(s),
        };
        new_size
    }

    /// Folds `meta` into the metadata of the pending batch (see [`merge_meta`]).
    pub(crate) fn merge_meta(&mut self, meta: &BatchMeta) {
        merge_meta(&mut self.meta, meta);
    }

    /// Takes the pending batch out, leaving the merger empty.
    pub(crate) fn take(&mut self) -> Option<(SignalData, BatchMeta)> {
        if self.is_empty() {
            return None;
        }
        let groups = std::mem::take(&mut self.groups);
        self.index.clear();
        self.units = 0;
        self.items = 0;
        self.size = 0;
        let meta = self.meta.take().unwrap_or_default();
        let data = groups
            .into_iter()
            .map(|g| {
                let mut res = g.res;
                *K::scopes(&mut res) = g.scopes.into_iter().map(|s| s.scope).collect();
                res
            })
            .collect();
        Some((K::wrap(data), meta))
    }
}

/// Folds `meta` into `into`, the metadata of a pending batch: the earliest
/// `received_at`; receiver and client only while every part agrees; the
/// acknowledgement tokens of every part, so the merged batch answers all the
/// requests it came from. An input spread over several batches gives each a
/// copy of its tokens: its request settles when the last of them does.
pub(crate) fn merge_meta(into: &mut Option<BatchMeta>, meta: &BatchMeta) {
    match into {
        None => *into = Some(meta.clone()),
        Some(m) => {
            m.acks.absorb(meta.acks.clone());
            if meta.received_at < m.received_at {
                m.received_at = meta.received_at;
            }
            if m.receiver != meta.receiver {
                m.receiver = None;
            }
            let same = match (&m.client, &meta.client) {
                (None, None) => true,
                (Some(a), Some(b)) => same_client(a, b),
                _ => false,
            };
            if !same {
                m.client = None;
            }
        }
    }
}

fn same_client(a: &Arc<ClientInfo>, b: &Arc<ClientInfo>) -> bool {
    Arc::ptr_eq(a, b) || (a.addr == b.addr && a.subject == b.subject && a.headers == b.headers)
}
