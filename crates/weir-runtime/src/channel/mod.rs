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

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, TryAcquireError, mpsc};
use tokio::time::Instant;
use weir_core::telemetry::{ComponentTelemetry, Gauge, reasons};
use weir_core::{Batch, BatchSink, ExporterLoad, SendError};

use crate::exporter::settings::WhenFull;

mod fan_out;
mod fill;
mod overflow;
mod ring;
#[cfg(test)]
mod tests;

pub use fan_out::FanOut;
use fill::{FillReport, budget, fill_of, used_of};
use overflow::Overflow;
use ring::{Ring, RingState, SenderAlive};

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
