//! Bounded edges between components: a capacity in batches plus a byte budget,
//! and a fan-out that sends to several edges all-or-nothing.
//!
//! A full edge makes the sender wait (backpressure); a sender with a deadline gets
//! its batch back when the deadline passes, so a network receiver can refuse with
//! a retryable answer instead of holding memory.
//!
//! An exporter's queue may instead drop when full (`queue.when_full`, see
//! [`exporter_edge`]): `drop_newest` drops the batch arriving, `drop_oldest`
//! the one that waited longest. A dropped batch is counted on
//! `weir_exporter_failed_items_total{reason="queue_full"}` and the requests it
//! came from are failed ([`weir_core::ack`]), so a client waiting for an
//! acknowledgement hears it was not kept. `block` edges are an `mpsc` channel
//! and a byte semaphore (no lock on the way); `drop_newest` is the same edge
//! asked without waiting; `drop_oldest` needs to take from the sending side,
//! which `mpsc` cannot, so it is a `Mutex<VecDeque>` with a `Notify`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use async_trait::async_trait;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, TryAcquireError, mpsc};
use tokio::time::Instant;
use weir_core::telemetry::{ComponentTelemetry, Counter, Gauge, names, reasons};
use weir_core::{Batch, BatchSink, ExporterLoad, SendError};

use crate::exporter::settings::WhenFull;

/// What travels on an edge: the batch and the bytes of the budget it holds.
struct Envelope {
    batch: Batch,
    bytes: u32,
}

/// Sending half of an edge. Clone it for every producer.
#[derive(Clone)]
pub struct EdgeSender {
    queue: SenderQueue,
    items: Gauge,
    fill: Option<Arc<FillReport>>,
}

#[derive(Clone)]
enum SenderQueue {
    /// `block` (waits for room) or, with `overflow`, `drop_newest`.
    Channel {
        tx: mpsc::Sender<Envelope>,
        bytes: Arc<Semaphore>,
        max_bytes: u32,
        overflow: Option<Arc<Overflow>>,
    },
    /// `drop_oldest`. `_alive` closes the ring when the last sender goes.
    Ring {
        ring: Arc<Ring>,
        _alive: Arc<SenderAlive>,
    },
}

/// Receiving half of an edge.
pub struct EdgeReceiver {
    queue: ReceiverQueue,
    items: Gauge,
    fill: Option<Arc<FillReport>>,
}

enum ReceiverQueue {
    Channel {
        rx: mpsc::Receiver<Envelope>,
        bytes: Arc<Semaphore>,
        max_bytes: u32,
    },
    Ring(Arc<Ring>),
}

/// Where an edge reports how full it is, on every send and every take, so
/// the reading is live even while nobody takes from it (an exporter stuck
/// in a slow delivery is exactly when its queue fills).
struct FillReport {
    load: ExporterLoad,
    max_bytes: u32,
}

impl FillReport {
    fn report(&self, slots_used: usize, max_slots: usize, bytes_used: usize) {
        let fill = fill_of(slots_used, max_slots, bytes_used, self.max_bytes);
        self.load.set_queue_fill(fill);
    }
}

/// The larger of the slot and byte fill, 0 to 1.
fn fill_of(slots_used: usize, max_slots: usize, bytes_used: usize, max_bytes: u32) -> f64 {
    let bytes_used = bytes_used.min(max_bytes as usize);
    (slots_used as f64 / max_slots.max(1) as f64).max(bytes_used as f64 / max_bytes as f64)
}

/// Bytes taken from a semaphore budget of `max_bytes`.
fn used_of(bytes: &Semaphore, max_bytes: u32) -> usize {
    max_bytes as usize - bytes.available_permits().min(max_bytes as usize)
}

/// The byte budget as the `u32` the envelopes count in.
fn budget(max_bytes: usize) -> u32 {
    u32::try_from(max_bytes.max(1)).unwrap_or(u32::MAX >> 1)
}

/// Counts and fails the batches a full exporter queue drops.
struct Overflow {
    telemetry: ComponentTelemetry,
    /// `weir_exporter_failed_items_total{reason="queue_full"}` by signal,
    /// registered on the first drop of each.
    failed: [OnceLock<Counter>; 3],
}

impl Overflow {
    fn new(telemetry: &ComponentTelemetry) -> Self {
        Overflow {
            telemetry: telemetry.clone(),
            failed: Default::default(),
        }
    }

    fn drop_batch(&self, mut batch: Batch) {
        let signal = batch.signal();
        let items = batch.items() as u64;
        self.failed[signal.index()]
            .get_or_init(|| {
                self.telemetry.counter(
                    names::EXPORTER_FAILED_ITEMS,
                    Some(signal),
                    &[("reason", reasons::QUEUE_FULL)],
                )
            })
            .add(items);
        batch.meta_mut().acks.fail(reasons::QUEUE_FULL);
        tracing::debug!(
            component = self.telemetry.component(),
            items,
            "exporter queue full: batch dropped"
        );
    }
}

/// An edge holding `capacity` batches and about `max_bytes` encoded bytes; `items`
/// tracks the items waiting in it.
pub fn edge(capacity: usize, max_bytes: usize, items: Gauge) -> (EdgeSender, EdgeReceiver) {
    edge_reporting(capacity, max_bytes, items, None)
}

/// An [`edge`] that also keeps `load`'s queue fill up to date (exporter queues).
pub fn edge_reporting(
    capacity: usize,
    max_bytes: usize,
    items: Gauge,
    load: Option<ExporterLoad>,
) -> (EdgeSender, EdgeReceiver) {
    channel_edge(capacity, max_bytes, items, load, None)
}

/// An exporter's queue: an [`edge_reporting`] that, when full, does what
/// `when_full` says. `block` waits as every edge does; `drop_newest` and
/// `drop_oldest` never make the sender wait, and count what they drop on
/// `telemetry` (the exporter's) as failed for `queue_full`.
pub fn exporter_edge(
    capacity: usize,
    max_bytes: usize,
    items: Gauge,
    load: ExporterLoad,
    when_full: WhenFull,
    telemetry: &ComponentTelemetry,
) -> (EdgeSender, EdgeReceiver) {
    match when_full {
        WhenFull::Block => channel_edge(capacity, max_bytes, items, Some(load), None),
        WhenFull::DropNewest => {
            let overflow = Arc::new(Overflow::new(telemetry));
            channel_edge(capacity, max_bytes, items, Some(load), Some(overflow))
        }
        WhenFull::DropOldest => ring_edge(capacity, max_bytes, items, load, telemetry),
    }
}

fn channel_edge(
    capacity: usize,
    max_bytes: usize,
    items: Gauge,
    load: Option<ExporterLoad>,
    overflow: Option<Arc<Overflow>>,
) -> (EdgeSender, EdgeReceiver) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let max_bytes = budget(max_bytes);
    let bytes = Arc::new(Semaphore::new(max_bytes as usize));
    let fill = load.map(|load| Arc::new(FillReport { load, max_bytes }));
    (
        EdgeSender {
            queue: SenderQueue::Channel {
                tx,
                bytes: bytes.clone(),
                max_bytes,
                overflow,
            },
            items: items.clone(),
            fill: fill.clone(),
        },
        EdgeReceiver {
            queue: ReceiverQueue::Channel {
                rx,
                bytes,
                max_bytes,
            },
            items,
            fill,
        },
    )
}

fn ring_edge(
    capacity: usize,
    max_bytes: usize,
    items: Gauge,
    load: ExporterLoad,
    telemetry: &ComponentTelemetry,
) -> (EdgeSender, EdgeReceiver) {
    let max_bytes = budget(max_bytes);
    let ring = Arc::new(Ring {
        state: Mutex::new(RingState::default()),
        wake: Notify::new(),
        capacity: capacity.max(1),
        max_bytes,
        overflow: Overflow::new(telemetry),
    });
    let fill = Some(Arc::new(FillReport { load, max_bytes }));
    (
        EdgeSender {
            queue: SenderQueue::Ring {
                ring: ring.clone(),
                _alive: Arc::new(SenderAlive(ring.clone())),
            },
            items: items.clone(),
            fill: fill.clone(),
        },
        EdgeReceiver {
            queue: ReceiverQueue::Ring(ring),
            items,
            fill,
        },
    )
}

/// The `drop_oldest` queue: batches in arrival order and the bytes they
/// hold. The lock is held only to push or pop (never across an await).
struct Ring {
    state: Mutex<RingState>,
    /// Wakes the receiver: a batch arrived, or the last sender left.
    wake: Notify,
    capacity: usize,
    max_bytes: u32,
    overflow: Overflow,
}

#[derive(Default)]
struct RingState {
    queue: VecDeque<Envelope>,
    bytes: usize,
    senders_gone: bool,
    receiver_gone: bool,
}

impl Ring {
    fn lock(&self) -> MutexGuard<'_, RingState> {
        // Nothing panics while holding it; a poisoned lock still has
        // consistent data.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds `batch` at the back, dropping from the front what it needs to
    /// fit. Gives the batch back when the receiver is gone (rare: boxed).
    fn push(
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
    fn pop(&self, items: &Gauge, fill: Option<&FillReport>) -> Result<Batch, bool> {
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

    fn fill(&self) -> f64 {
        let st = self.lock();
        fill_of(st.queue.len(), self.capacity, st.bytes, self.max_bytes)
    }
}

/// Held by every clone of a `drop_oldest` sender; the last one to go closes
/// the ring, so the receiver ends once it is empty.
struct SenderAlive(Arc<Ring>);

impl Drop for SenderAlive {
    fn drop(&mut self) {
        self.0.lock().senders_gone = true;
        self.0.wake.notify_one();
    }
}

/// Room reserved on one edge.
struct Reservation {
    slot: Slot,
    items: Gauge,
    fill: Option<Arc<FillReport>>,
}

enum Slot {
    /// A channel slot and the byte permits.
    Channel {
        slot: mpsc::OwnedPermit<Envelope>,
        bytes: OwnedSemaphorePermit,
        max_bytes: u32,
        budget: Arc<Semaphore>,
    },
    /// A `drop_oldest` ring: always room, made at send time.
    Ring(Arc<Ring>),
    /// A full `drop_newest` queue: the batch is dropped.
    Drop(Arc<Overflow>),
}

impl Reservation {
    fn send(self, batch: Batch) {
        match self.slot {
            Slot::Channel {
                slot,
                bytes,
                max_bytes,
                budget,
            } => {
                let n = bytes.num_permits() as u32;
                // The receiver gives the permits back when it takes the batch.
                bytes.forget();
                self.items.add(batch.items() as i64);
                let tx = slot.send(Envelope { batch, bytes: n });
                if let Some(f) = &self.fill {
                    f.report(
                        tx.max_capacity() - tx.capacity(),
                        tx.max_capacity(),
                        used_of(&budget, max_bytes),
                    );
                }
            }
            Slot::Ring(ring) => {
                if let Err(mut batch) = ring.push(batch, &self.items, self.fill.as_deref()) {
                    // The exporter went away after the room was checked.
                    batch.meta_mut().acks.fail(reasons::SHUTDOWN);
                }
            }
            Slot::Drop(overflow) => overflow.drop_batch(batch),
        }
    }
}

enum ReserveError {
    Full,
    Closed,
}

impl EdgeSender {
    async fn reserve(
        &self,
        size: usize,
        deadline: Option<Instant>,
    ) -> Result<Reservation, ReserveError> {
        let slot = match &self.queue {
            SenderQueue::Channel {
                tx,
                bytes,
                max_bytes,
                overflow: None,
            } => {
                // A batch larger than the whole budget takes all of it and passes alone.
                let want = u32::try_from(size).unwrap_or(u32::MAX).clamp(1, *max_bytes);
                let acquire = async {
                    let slot = tx
                        .clone()
                        .reserve_owned()
                        .await
                        .map_err(|_| ReserveError::Closed)?;
                    let permits = bytes
                        .clone()
                        .acquire_many_owned(want)
                        .await
                        .map_err(|_| ReserveError::Closed)?;
                    Ok(Slot::Channel {
                        slot,
                        bytes: permits,
                        max_bytes: *max_bytes,
                        budget: bytes.clone(),
                    })
                };
                match deadline {
                    None => acquire.await?,
                    Some(d) => tokio::time::timeout_at(d, acquire)
                        .await
                        .unwrap_or(Err(ReserveError::Full))?,
                }
            }
            SenderQueue::Channel {
                tx,
                bytes,
                max_bytes,
                overflow: Some(overflow),
            } => {
                let want = u32::try_from(size).unwrap_or(u32::MAX).clamp(1, *max_bytes);
                match tx.clone().try_reserve_owned() {
                    Err(mpsc::error::TrySendError::Closed(_)) => return Err(ReserveError::Closed),
                    Err(mpsc::error::TrySendError::Full(_)) => Slot::Drop(overflow.clone()),
                    Ok(slot) => match bytes.clone().try_acquire_many_owned(want) {
                        Err(TryAcquireError::Closed) => return Err(ReserveError::Closed),
                        Err(TryAcquireError::NoPermits) => Slot::Drop(overflow.clone()),
                        Ok(permits) => Slot::Channel {
                            slot,
                            bytes: permits,
                            max_bytes: *max_bytes,
                            budget: bytes.clone(),
                        },
                    },
                }
            }
            SenderQueue::Ring { ring, .. } => {
                if ring.lock().receiver_gone {
                    return Err(ReserveError::Closed);
                }
                Slot::Ring(ring.clone())
            }
        };
        Ok(Reservation {
            slot,
            items: self.items.clone(),
            fill: self.fill.clone(),
        })
    }

    /// Whether the receiving side is gone.
    pub fn is_closed(&self) -> bool {
        match &self.queue {
            SenderQueue::Channel { tx, .. } => tx.is_closed(),
            SenderQueue::Ring { ring, .. } => ring.lock().receiver_gone,
        }
    }
}

#[async_trait]
impl BatchSink for EdgeSender {
    async fn send(&self, batch: Batch, deadline: Option<Instant>) -> Result<(), SendError> {
        match self.reserve(batch.size_bytes(), deadline).await {
            Ok(r) => {
                r.send(batch);
                Ok(())
            }
            Err(ReserveError::Full) => Err(SendError::Full(batch)),
            Err(ReserveError::Closed) => Err(SendError::Closed(batch)),
        }
    }
}

impl EdgeReceiver {
    /// The next batch; `None` once every sender is gone and the edge is empty.
    pub async fn recv(&mut self) -> Option<Batch> {
        match &mut self.queue {
            ReceiverQueue::Channel { rx, .. } => {
                let env = rx.recv().await?;
                Some(self.release(env))
            }
            ReceiverQueue::Ring(ring) => loop {
                match ring.pop(&self.items, self.fill.as_deref()) {
                    Ok(batch) => return Some(batch),
                    Err(true) => return None,
                    // `notify_one` keeps a wake-up sent before this wait.
                    Err(false) => ring.wake.notified().await,
                }
            },
        }
    }

    /// The next batch if one is waiting.
    pub fn try_recv(&mut self) -> Option<Batch> {
        match &mut self.queue {
            ReceiverQueue::Channel { rx, .. } => {
                let env = rx.try_recv().ok()?;
                Some(self.release(env))
            }
            ReceiverQueue::Ring(ring) => ring.pop(&self.items, self.fill.as_deref()).ok(),
        }
    }

    /// Gives back what a batch taken from the channel held.
    fn release(&self, env: Envelope) -> Batch {
        let ReceiverQueue::Channel {
            rx,
            bytes,
            max_bytes,
        } = &self.queue
        else {
            unreachable!("only channel envelopes are released");
        };
        bytes.add_permits(env.bytes as usize);
        self.items.add(-(env.batch.items() as i64));
        if let Some(f) = &self.fill {
            f.report(rx.len(), rx.max_capacity(), used_of(bytes, *max_bytes));
        }
        env.batch
    }

    /// Items waiting in the edge.
    pub fn queued_items(&self) -> i64 {
        self.items.get()
    }

    /// How full the edge is, 0 to 1: the larger of its slot and byte fill.
    pub fn fill(&self) -> f64 {
        match &self.queue {
            ReceiverQueue::Channel {
                rx,
                bytes,
                max_bytes,
            } => fill_of(
                rx.len(),
                rx.max_capacity(),
                used_of(bytes, *max_bytes),
                *max_bytes,
            ),
            ReceiverQueue::Ring(ring) => ring.fill(),
        }
    }
}

impl Drop for EdgeReceiver {
    fn drop(&mut self) {
        // Whatever still waits will never be delivered: the requests it came
        // from must hear so (a dropped token would read as delivered).
        let fail = |mut batch: Batch, items: &Gauge| {
            items.add(-(batch.items() as i64));
            batch.meta_mut().acks.fail(reasons::ABANDONED);
        };
        match &mut self.queue {
            ReceiverQueue::Channel { rx, bytes, .. } => {
                // Wake senders waiting for byte permits: the edge is gone.
                bytes.close();
                rx.close();
                while let Ok(env) = rx.try_recv() {
                    fail(env.batch, &self.items);
                }
            }
            ReceiverQueue::Ring(ring) => {
                let left = {
                    let mut st = ring.lock();
                    st.receiver_gone = true;
                    st.bytes = 0;
                    std::mem::take(&mut st.queue)
                };
                for env in left {
                    fail(env.batch, &self.items);
                }
            }
        }
    }
}

/// Sends each batch to every edge, cloning for all but the last. Room is
/// reserved on all edges before anything is sent, so a refused batch reached no
/// edge and a client retry makes no duplicates. (A `drop_newest` queue that is
/// full counts as room: it takes the batch by dropping it.)
pub struct FanOut {
    edges: Vec<EdgeSender>,
}

impl FanOut {
    /// A fan-out over `edges` (at least one).
    pub fn new(edges: Vec<EdgeSender>) -> Self {
        assert!(!edges.is_empty(), "a fan-out needs an edge");
        FanOut { edges }
    }

    /// The sink to hand out: the edge itself when there is only one.
    pub fn into_sink(mut self) -> Arc<dyn BatchSink> {
        if self.edges.len() == 1 {
            Arc::new(self.edges.pop().expect("one edge"))
        } else {
            Arc::new(self)
        }
    }
}

#[async_trait]
impl BatchSink for FanOut {
    async fn send(&self, batch: Batch, deadline: Option<Instant>) -> Result<(), SendError> {
        let size = batch.size_bytes();
        let mut reserved = Vec::with_capacity(self.edges.len());
        for e in &self.edges {
            match e.reserve(size, deadline).await {
                Ok(r) => reserved.push(r),
                Err(ReserveError::Full) => return Err(SendError::Full(batch)),
                Err(ReserveError::Closed) => return Err(SendError::Closed(batch)),
            }
        }
        let last = reserved.pop().expect("at least one edge");
        for r in reserved {
            r.send(batch.clone());
        }
        last.send(batch);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use weir_core::ack::{AckFailure, AckWaiter, ack_pair};
    use weir_core::otlp::logs::v1::{LogRecord, ScopeLogs};
    use weir_core::telemetry::Kind;
    use weir_core::{BatchMeta, otlp::logs::v1::ResourceLogs};

    fn batch() -> Batch {
        Batch::logs(vec![ResourceLogs::default()], BatchMeta::default())
    }

    #[tokio::test]
    async fn full_edge_refuses_after_deadline_and_returns_the_batch() {
        let (tx, mut rx) = edge(1, 1 << 20, Gauge::detached());
        tx.send(batch(), None).await.unwrap();
        let deadline = Instant::now() + Duration::from_millis(20);
        assert!(matches!(
            tx.send(batch(), Some(deadline)).await,
            Err(SendError::Full(_))
        ));
        assert!(rx.recv().await.is_some());
        tx.send(batch(), Some(Instant::now() + Duration::from_millis(20)))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn byte_budget_limits_what_waits() {
        let data = weir_core::SignalData::Logs(vec![ResourceLogs {
            schema_url: "x".repeat(1000),
            ..Default::default()
        }]);
        let big = || Batch::from_data(data.clone(), BatchMeta::default());
        let (tx, mut rx) = edge(100, 1500, Gauge::detached());
        tx.send(big(), None).await.unwrap();
        let short = Some(Instant::now() + Duration::from_millis(20));
        assert!(tx.send(big(), short).await.is_err(), "budget is spent");
        rx.recv().await.unwrap();
        tx.send(big(), None).await.unwrap();
    }

    #[tokio::test]
    async fn fan_out_is_all_or_nothing() {
        let (a, mut ra) = edge(1, 1 << 20, Gauge::detached());
        let (b, mut rb) = edge(1, 1 << 20, Gauge::detached());
        let fan = FanOut::new(vec![a, b.clone()]);
        b.send(batch(), None).await.unwrap(); // b is now full
        let short = Some(Instant::now() + Duration::from_millis(20));
        assert!(fan.send(batch(), short).await.is_err());
        assert!(ra.try_recv().is_none(), "nothing reached a");
        rb.recv().await.unwrap();
        fan.send(batch(), None).await.unwrap();
        assert!(ra.try_recv().is_some() && rb.try_recv().is_some());
    }

    #[tokio::test]
    async fn fill_follows_slots_and_bytes() {
        let (tx, mut rx) = edge(4, 1 << 20, Gauge::detached());
        assert_eq!(rx.fill(), 0.0);
        tx.send(batch(), None).await.unwrap();
        assert_eq!(rx.fill(), 0.25);
        let data = weir_core::SignalData::Logs(vec![ResourceLogs {
            schema_url: "x".repeat(1 << 19),
            ..Default::default()
        }]);
        tx.send(Batch::from_data(data, BatchMeta::default()), None)
            .await
            .unwrap();
        assert!(rx.fill() > 0.5 && rx.fill() < 0.51, "{}", rx.fill());
        rx.recv().await.unwrap();
        rx.recv().await.unwrap();
        assert_eq!(rx.fill(), 0.0);
    }

    #[tokio::test]
    async fn a_reporting_edge_keeps_the_load_current_while_nobody_takes() {
        let load = ExporterLoad::new();
        let (tx, mut rx) = edge_reporting(2, 1 << 20, Gauge::detached(), Some(load.clone()));
        tx.send(batch(), None).await.unwrap();
        assert_eq!(load.queue_fill(), 0.5);
        tx.send(batch(), None).await.unwrap();
        assert_eq!(
            load.queue_fill(),
            1.0,
            "full, and the receiver never polled"
        );
        rx.recv().await.unwrap();
        assert_eq!(load.queue_fill(), 0.5);
        rx.recv().await.unwrap();
        assert_eq!(load.queue_fill(), 0.0);
    }

    #[tokio::test]
    async fn closed_when_receiver_dropped() {
        let gauge = Gauge::detached();
        let (tx, rx) = edge(2, 1 << 20, gauge.clone());
        drop(rx);
        assert!(matches!(
            tx.send(batch(), None).await,
            Err(SendError::Closed(_))
        ));
        assert_eq!(gauge.get(), 0);
    }

    /// A batch of `items` log records marked `name`, carrying a request's
    /// token; the waiter says what became of it.
    fn marked(name: &str, items: usize, pad: usize) -> (Batch, AckWaiter) {
        let (token, waiter) = ack_pair();
        let batch = Batch::logs(
            vec![ResourceLogs {
                schema_url: format!("{name}{}", " ".repeat(pad)),
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord::default(); items],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            BatchMeta::default().with_ack(token),
        );
        (batch, waiter)
    }

    fn name_of(b: &Batch) -> String {
        match b.data().unwrap() {
            weir_core::SignalData::Logs(v) => v[0].schema_url.trim().to_string(),
            _ => unreachable!(),
        }
    }

    fn queue_full(t: &ComponentTelemetry) -> u64 {
        t.counter(
            names::EXPORTER_FAILED_ITEMS,
            Some(weir_core::Signal::Logs),
            &[("reason", reasons::QUEUE_FULL)],
        )
        .get()
    }

    /// Settles every waiter whose batch is gone and says how each ended.
    async fn outcomes(waiters: Vec<AckWaiter>) -> Vec<Result<(), AckFailure>> {
        let mut out = Vec::new();
        for w in waiters {
            let r = tokio::time::timeout(Duration::from_secs(5), w.wait())
                .await
                .expect("settled");
            out.push(r);
        }
        out
    }

    struct Queue {
        tx: EdgeSender,
        rx: EdgeReceiver,
        items: Gauge,
        load: ExporterLoad,
        telemetry: ComponentTelemetry,
    }

    fn queue(capacity: usize, max_bytes: usize, when_full: WhenFull) -> Queue {
        let telemetry = ComponentTelemetry::detached("file", Kind::Exporter);
        let (items, load) = (Gauge::detached(), ExporterLoad::new());
        let (tx, rx) = exporter_edge(
            capacity,
            max_bytes,
            items.clone(),
            load.clone(),
            when_full,
            &telemetry,
        );
        Queue {
            tx,
            rx,
            items,
            load,
            telemetry,
        }
    }

    #[tokio::test]
    async fn drop_newest_drops_the_arriving_batch_without_waiting() {
        let Queue {
            tx,
            mut rx,
            items,
            load,
            telemetry,
        } = queue(2, 1 << 20, WhenFull::DropNewest);
        let mut waiters = Vec::new();
        for (name, n) in [("a", 1), ("b", 2), ("c", 3)] {
            let (b, w) = marked(name, n, 0);
            waiters.push(w);
            // No deadline: a blocking edge would wait here forever.
            tokio::time::timeout(Duration::from_secs(5), tx.send(b, None))
                .await
                .expect("never waits")
                .unwrap();
        }
        assert_eq!(queue_full(&telemetry), 3, "c's items");
        assert_eq!((items.get(), load.queue_fill()), (3, 1.0));
        let names: Vec<String> = [rx.recv().await.unwrap(), rx.recv().await.unwrap()]
            .iter()
            .map(name_of)
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert!(rx.try_recv().is_none());
        assert_eq!((items.get(), load.queue_fill()), (0, 0.0));
        assert_eq!(
            outcomes(waiters).await,
            [Ok(()), Ok(()), Err(AckFailure(reasons::QUEUE_FULL))]
        );
    }

    #[tokio::test]
    async fn drop_newest_counts_the_byte_budget_too() {
        let Queue {
            tx,
            mut rx,
            telemetry,
            ..
        } = queue(100, 1500, WhenFull::DropNewest);
        let (a, wa) = marked("a", 1, 1000);
        let (b, wb) = marked("b", 1, 1000);
        tx.send(a, None).await.unwrap();
        tx.send(b, None).await.unwrap();
        assert_eq!(queue_full(&telemetry), 1);
        assert_eq!(name_of(&rx.recv().await.unwrap()), "a");
        assert!(rx.try_recv().is_none());
        assert_eq!(
            outcomes(vec![wa, wb]).await,
            [Ok(()), Err(AckFailure(reasons::QUEUE_FULL))]
        );
    }

    #[tokio::test]
    async fn drop_oldest_drops_what_waited_longest_to_make_room() {
        let Queue {
            tx,
            mut rx,
            items,
            load,
            telemetry,
        } = queue(2, 1 << 20, WhenFull::DropOldest);
        let mut waiters = Vec::new();
        for (name, n) in [("a", 1), ("b", 2), ("c", 3), ("d", 4)] {
            let (b, w) = marked(name, n, 0);
            waiters.push(w);
            tokio::time::timeout(Duration::from_secs(5), tx.send(b, None))
                .await
                .expect("never waits")
                .unwrap();
        }
        assert_eq!(queue_full(&telemetry), 1 + 2, "a's and b's items");
        assert_eq!((items.get(), load.queue_fill()), (3 + 4, 1.0));
        assert_eq!(rx.fill(), 1.0);
        assert_eq!(name_of(&rx.recv().await.unwrap()), "c");
        assert_eq!(load.queue_fill(), 0.5);
        assert_eq!(name_of(&rx.try_recv().unwrap()), "d");
        assert!(rx.try_recv().is_none());
        assert_eq!((items.get(), load.queue_fill()), (0, 0.0));
        let full = Err(AckFailure(reasons::QUEUE_FULL));
        assert_eq!(outcomes(waiters).await, [full, full, Ok(()), Ok(())]);
    }

    #[tokio::test]
    async fn drop_oldest_makes_room_in_the_byte_budget_too() {
        let Queue {
            tx,
            mut rx,
            telemetry,
            ..
        } = queue(100, 2500, WhenFull::DropOldest);
        let (a, wa) = marked("a", 1, 1000);
        let (b, wb) = marked("b", 1, 1000);
        let (c, wc) = marked("c", 1, 1000);
        for x in [a, b, c] {
            tx.send(x, None).await.unwrap();
        }
        assert_eq!(queue_full(&telemetry), 1);
        assert_eq!(name_of(&rx.recv().await.unwrap()), "b");
        assert_eq!(name_of(&rx.recv().await.unwrap()), "c");
        // One batch over the whole budget waits alone.
        let (big, _) = marked("big", 1, 5000);
        tx.send(big, None).await.unwrap();
        assert!(rx.fill() == 1.0);
        let full = Err(AckFailure(reasons::QUEUE_FULL));
        assert_eq!(outcomes(vec![wa, wb, wc]).await, [full, Ok(()), Ok(())]);
    }

    #[tokio::test]
    async fn drop_oldest_wakes_the_receiver_and_ends_when_the_senders_go() {
        let Queue { tx, mut rx, .. } = queue(4, 1 << 20, WhenFull::DropOldest);
        let taker = tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(b) = rx.recv().await {
                got.push(name_of(&b));
            }
            got
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        let second = tx.clone();
        tx.send(marked("a", 1, 0).0, None).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        second.send(marked("b", 1, 0).0, None).await.unwrap();
        drop(tx);
        drop(second);
        let got = tokio::time::timeout(Duration::from_secs(5), taker)
            .await
            .expect("ended")
            .unwrap();
        assert_eq!(got, ["a", "b"]);
    }

    #[tokio::test]
    async fn a_dropped_receiver_fails_what_waited_and_closes_the_edge() {
        for when_full in [WhenFull::Block, WhenFull::DropNewest, WhenFull::DropOldest] {
            let Queue { tx, rx, items, .. } = queue(4, 1 << 20, when_full);
            let (b, w) = marked("a", 2, 0);
            tx.send(b, None).await.unwrap();
            drop(rx);
            assert_eq!(items.get(), 0, "{when_full:?}");
            assert_eq!(
                outcomes(vec![w]).await,
                [Err(AckFailure(reasons::ABANDONED))],
                "{when_full:?}"
            );
            assert!(tx.is_closed(), "{when_full:?}");
            assert!(matches!(
                tx.send(batch(), None).await,
                Err(SendError::Closed(_))
            ));
        }
    }

    #[tokio::test]
    async fn block_still_waits_and_drops_nothing() {
        let Queue {
            tx,
            mut rx,
            telemetry,
            ..
        } = queue(1, 1 << 20, WhenFull::Block);
        tx.send(batch(), None).await.unwrap();
        let short = Some(Instant::now() + Duration::from_millis(20));
        assert!(matches!(
            tx.send(batch(), short).await,
            Err(SendError::Full(_))
        ));
        assert_eq!(queue_full(&telemetry), 0);
        rx.recv().await.unwrap();
    }

    #[tokio::test]
    async fn a_fan_out_to_a_full_drop_newest_queue_still_reaches_the_others() {
        let Queue {
            tx: dropping,
            rx: mut full,
            telemetry,
            ..
        } = queue(1, 1 << 20, WhenFull::DropNewest);
        let (other, mut ro) = edge(4, 1 << 20, Gauge::detached());
        dropping.send(batch(), None).await.unwrap();
        let fan = FanOut::new(vec![dropping, other]);
        let (b, w) = marked("a", 1, 0);
        fan.send(b, Some(Instant::now() + Duration::from_millis(20)))
            .await
            .unwrap();
        assert_eq!(name_of(&ro.recv().await.unwrap()), "a");
        assert_eq!(queue_full(&telemetry), 1);
        full.recv().await.unwrap();
        drop(fan);
        assert_eq!(
            outcomes(vec![w]).await,
            [Err(AckFailure(reasons::QUEUE_FULL))],
            "one copy dropped fails the request"
        );
    }
}
