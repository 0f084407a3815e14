//! The `drop_oldest` queue: a `Mutex<VecDeque>` with a `Notify`, since an
//! `mpsc` channel cannot drop from the sending side.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;
use weir_core::Batch;
use weir_core::telemetry::Gauge;

use super::Envelope;
use super::fill::{FillReport, fill_of};
use super::overflow::Overflow;

/// The `drop_oldest` queue: batches in arrival order and the bytes they
/// hold. The lock is held only to push or pop (never across an await).
pub(super) struct Ring {
    pub(super) state: Mutex<RingState>,
    /// Wakes the receiver: a batch arrived, or the last sender left.
    pub(super) wake: Notify,
    pub(super) capacity: usize,
    pub(super) max_bytes: u32,
    pub(super) overflow: Overflow,
}

#[derive(Default)]
pub(super) struct RingState {
    pub(super) queue: VecDeque<Envelope>,
    pub(super) bytes: usize,
    pub(super) senders_gone: bool,
    pub(super) receiver_gone: bool,
}

impl Ring {
    pub(super) fn lock(&self) -> MutexGuard<'_, RingState> {
        // Nothing panics while holding it; a poisoned lock still has
        // consistent data.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds `batch` at the back, dropping from the front what it needs to
    /// fit. Gives the batch back when the receiver is gone (rare: boxed).
    pub(super) fn push(
        &self,
        batch: Batch,
        items: &Gauge,
        fill: Option<&FillReport>,
    ) -> Result<(), Box<Batch>> {
        // A batch larger than the whole budget takes all of it and waits alone.
        let want = batch.size_bytes().clamp(1, self.max_bytes as usize);
        let n = batch.items() as i64;
        let mut dropped = Vec::new();
        let (len, bytes) = {
            let mut st = self.lock();
            if st.receiver_gone {
                return Err(Box::new(batch));
            }
            while !st.queue.is_empty()
                && (st.queue.len() >= self.capacity || st.bytes + want > self.max_bytes as usize)
            {
                let old = st.queue.pop_front().expect("not empty");
                st.bytes -= old.bytes as usize;
                dropped.push(old.batch);
            }
            st.bytes += want;
            st.queue.push_back(Envelope {
                batch,
                bytes: want as u32,
            });
            (st.queue.len(), st.bytes)
        };
        items.add(n);
        for old in dropped {
            items.add(-(old.items() as i64));
            self.overflow.drop_batch(old);
        }
        if let Some(f) = fill {
            f.report(len, self.capacity, bytes);
        }
        self.wake.notify_one();
        Ok(())
    }

    /// The oldest batch; `Err(true)` when empty and every sender is gone.
    pub(super) fn pop(&self, items: &Gauge, fill: Option<&FillReport>) -> Result<Batch, bool> {
        let (env, len, bytes) = {
            let mut st = self.lock();
            let Some(env) = st.queue.pop_front() else {
                return Err(st.senders_gone);
            };
            st.bytes -= env.bytes as usize;
            (env, st.queue.len(), st.bytes)
        };
        items.add(-(env.batch.items() as i64));
        if let Some(f) = fill {
            f.report(len, self.capacity, bytes);
        }
        Ok(env.batch)
    }

    pub(super) fn fill(&self) -> f64 {
        let st = self.lock();
        fill_of(st.queue.len(), self.capacity, st.bytes, self.max_bytes)
    }
}

/// Held by every clone of a `drop_oldest` sender; the last one to go closes
/// the ring, so the receiver ends once it is empty.
pub(super) struct SenderAlive(pub(super) Arc<Ring>);

impl Drop for SenderAlive {
    fn drop(&mut self) {
        self.0.lock().senders_gone = true;
        self.0.wake.notify_one();
    }
}
