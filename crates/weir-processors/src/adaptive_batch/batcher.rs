//! The batching decisions of one signal: where each unit goes, and when the
//! pending batch must leave because of `max_items` or `max_bytes`.
//!
//! The pending batch never exceeds a limit: before a unit is added, the
//! batcher checks the item count and the exact encoded size with it, and
//! sends the pending batch first when it would not fit. Deadlines are the
//! processor's business (`mod.rs`), since they depend on the controller.

use prost::Message;
use tokio::time::Instant;
use weir_core::{Batch, BatchMeta};

use weir_otlp::splice::Assembly;

use super::merge::{Header, Merger, Shape, Slot};
use super::split;

/// Why a batch left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    /// It reached `max_items`, or the next unit would have passed it.
    Items,
    /// The next unit would have passed `max_bytes`, or one unit is larger alone.
    Bytes,
    /// Its oldest item waited the current delay target.
    Delay,
    /// The pipeline is stopping.
    Shutdown,
}

impl Reason {
    /// Every reason, in the order of [`Reason::index`].
    pub(crate) const ALL: [Reason; 4] = [
        Reason::Items,
        Reason::Bytes,
        Reason::Delay,
        Reason::Shutdown,
    ];

    /// The `reason` label.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Reason::Items => "items",
            Reason::Bytes => "bytes",
            Reason::Delay => "delay",
            Reason::Shutdown => "shutdown",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// A batch ready to leave.
#[derive(Debug)]
pub(crate) struct Ready {
    pub(crate) batch: Batch,
    pub(crate) reason: Reason,
}

/// The pending batch of one signal and its limits.
pub(crate) struct Batcher<K: Shape> {
    merger: Merger<K>,
    max_items: usize,
    max_bytes: usize,
    /// When the oldest pending item arrived.
    since: Option<Instant>,
}

/// Per-input state while one incoming batch is spread over pending batches.
struct Input<'a> {
    meta: &'a BatchMeta,
    /// Whether `meta` is already folded into the current pending batch.
    merged: bool,
    now: Instant,
}

impl<K: Shape> Batcher<K> {
    pub(crate) fn new(max_items: usize, max_bytes: usize) -> Self {
        Batcher {
            merger: Merger::default(),
            max_items: max_items.max(1),
            max_bytes: max_bytes.max(1),
            since: None,
        }
    }

    /// When the oldest pending item arrived; `None` when nothing is pending.
    pub(crate) fn since(&self) -> Option<Instant> {
        self.since
    }

    /// Adds an incoming batch's records (arrived `now`), pushing onto `out`
    /// every batch that had to leave to keep within the limits.
    pub(crate) fn add(
        &mut self,
        data: Vec<K::Res>,
        meta: &BatchMeta,
        now: Instant,
        out: &mut Vec<Ready>,
    ) {
        let mut input = Input {
            meta,
            merged: false,
            now,
        };
        let mut pieces = Vec::new();
        for mut r in data {
            let scopes = std::mem::take(K::scopes(&mut r));
            let res = Header::new(r);
            for mut s in scopes {
                let units = std::mem::take(K::units(&mut s));
                let scope = Header::new(s);
                let (rh, sh) = (res.key.len(), scope.key.len());
                // One lookup per incoming scope group; `place` keeps the slot
                // current (a flush empties the merger, and so resets it).
                let mut slot = self.merger.locate(&res.key, &scope.key);
                let mut left = units.len();
                for unit in units {
                    left -= 1;
                    let len = unit.encoded_len();
                    if K::items(&unit) <= self.max_items
                        && Assembly::size_alone(rh, sh, len) <= self.max_bytes
                    {
                        self.place(&res, &scope, &mut slot, (unit, len, left), &mut input, out);
                    } else {
                        let max_bytes = self.max_bytes;
                        let fits = move |l: usize| Assembly::size_alone(rh, sh, l) <= max_bytes;
                        split::cut::<K>(unit, self.max_items, &fits, &mut pieces);
                        for (piece, len) in pieces.drain(..) {
                            self.place(
                                &res,
                                &scope,
                                &mut slot,
                                (piece, len, left),
                                &mut input,
                                out,
                            );
                        }
                    }
                }
            }
        }
    }

    /// Adds one unit (with its encoded length and how many units of its
    /// scope group follow) at `slot`, sending the pending batch first when
    /// the unit would take it over a limit.
    fn place(
        &mut self,
        res: &Header<K::Res>,
        scope: &Header<K::Scope>,
        slot: &mut Slot,
        (unit, len, more): (K::Unit, usize, usize),
        input: &mut Input<'_>,
        out: &mut Vec<Ready>,
    ) {
        if !self.merger.is_empty() {
            let reason = if self.merger.items() + K::items(&unit) > self.max_items {
                Some(Reason::Items)
            } else if self
                .merger
                .size_with(*slot, res.key.len(), scope.key.len(), len)
                > self.max_bytes
            {
                Some(Reason::Bytes)
            } else {
                None
            };
            if let Some(reason) = reason {
                self.take(reason, out);
                input.merged = false;
                *slot = Slot::default();
            }
        }
        if self.merger.is_empty() {
            self.since = Some(input.now);
        }
        if !input.merged {
            self.merger.merge_meta(input.meta);
            input.merged = true;
        }
        // Reserve no more than can join this batch.
        let room = self.max_items.saturating_sub(self.merger.items() + 1);
        let size = self
            .merger
            .push(slot, res, scope, unit, len, more.min(room));
        // Full, or one unit over `max_bytes` alone: nothing more can join it.
        let reason = if self.merger.items() >= self.max_items {
            Some(Reason::Items)
        } else if size >= self.max_bytes {
            Some(Reason::Bytes)
        } else {
            None
        };
        if let Some(reason) = reason {
            self.take(reason, out);
            input.merged = false;
            *slot = Slot::default();
        }
    }

    /// Sends the pending batch (if any) for `reason`.
    pub(crate) fn take(&mut self, reason: Reason, out: &mut Vec<Ready>) {
        self.since = None;
        if let Some((data, meta)) = self.merger.take() {
            out.push(Ready {
                batch: Batch::from_data(data, meta),
                reason,
            });
        }
    }
}
