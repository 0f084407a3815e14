//! Bounded edges between components: a capacity in batches plus a byte budget,
//! and a fan-out that sends to several edges all-or-nothing.
//!
//! A full edge makes the sender wait (backpressure); a sender with a deadline gets
//! its batch back when the deadline passes, so a network receiver can refuse with
//! a retryable answer instead of holding memory.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::Instant;
use weir_core::telemetry::Gauge;
use weir_core::{Batch, BatchSink, ExporterLoad, SendError};

/// What travels on an edge: the batch and the byte permits it holds.
struct Envelope {
    batch: Batch,
    bytes: u32,
}

/// Sending half of an edge. Clone it for every producer.
#[derive(Clone)]
pub struct EdgeSender {
    tx: mpsc::Sender<Envelope>,
    bytes: Arc<Semaphore>,
    max_bytes: u32,
    items: Gauge,
    fill: Option<Arc<FillReport>>,
}

/// Receiving half of an edge.
pub struct EdgeReceiver {
    rx: mpsc::Receiver<Envelope>,
    bytes: Arc<Semaphore>,
    max_bytes: u32,
    items: Gauge,
    fill: Option<Arc<FillReport>>,
}

/// Where an edge reports how full it is, on every send and every take, so
/// the reading is live even while nobody takes from it (an exporter stuck
/// in a slow delivery is exactly when its queue fills).
struct FillReport {
    load: ExporterLoad,
    bytes: Arc<Semaphore>,
    max_bytes: u32,
}

impl FillReport {
    fn report(&self, slots_used: usize, max_slots: usize) {
        let fill = fill_of(
            slots_used,
            max_slots,
            self.bytes.available_permits(),
            self.max_bytes,
        );
        self.load.set_queue_fill(fill);
    }
}

/// The larger of the slot and byte fill, 0 to 1.
fn fill_of(slots_used: usize, max_slots: usize, bytes_free: usize, max_bytes: u32) -> f64 {
    let bytes_used = max_bytes as usize - bytes_free.min(max_bytes as usize);
    (slots_used as f64 / max_slots.max(1) as f64).max(bytes_used as f64 / max_bytes as f64)
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
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let max_bytes = u32::try_from(max_bytes.max(1)).unwrap_or(u32::MAX >> 1);
    let bytes = Arc::new(Semaphore::new(max_bytes as usize));
    let fill = load.map(|load| {
        Arc::new(FillReport {
            load,
            bytes: bytes.clone(),
            max_bytes,
        })
    });
    (
        EdgeSender {
            tx,
            bytes: bytes.clone(),
            max_bytes,
            items: items.clone(),
            fill: fill.clone(),
        },
        EdgeReceiver {
            rx,
            bytes,
            max_bytes,
            items,
            fill,
        },
    )
}

/// Room reserved on one edge: a slot and the byte permits.
struct Reservation {
    slot: mpsc::OwnedPermit<Envelope>,
    bytes: OwnedSemaphorePermit,
    items: Gauge,
    fill: Option<Arc<FillReport>>,
}

impl Reservation {
    fn send(self, batch: Batch) {
        let n = self.bytes.num_permits() as u32;
        // The receiver gives the permits back when it takes the batch.
        self.bytes.forget();
        self.items.add(batch.items() as i64);
        let tx = self.slot.send(Envelope { batch, bytes: n });
        if let Some(f) = &self.fill {
            f.report(tx.max_capacity() - tx.capacity(), tx.max_capacity());
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
        // A batch larger than the whole budget takes all of it and passes alone.
        let want = u32::try_from(size)
            .unwrap_or(u32::MAX)
            .clamp(1, self.max_bytes);
        let acquire = async {
            let slot = self
                .tx
                .clone()
                .reserve_owned()
                .await
                .map_err(|_| ReserveError::Closed)?;
            let bytes = self
                .bytes
                .clone()
                .acquire_many_owned(want)
                .await
                .map_err(|_| ReserveError::Closed)?;
            Ok(Reservation {
                slot,
                bytes,
                items: self.items.clone(),
                fill: self.fill.clone(),
            })
        };
        match deadline {
            None => acquire.await,
            Some(d) => tokio::time::timeout_at(d, acquire)
                .await
                .unwrap_or(Err(ReserveError::Full)),
        }
    }

    /// Whether the receiving side is gone.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
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
        let env = self.rx.recv().await?;
        Some(self.release(env))
    }

    /// The next batch if one is waiting.
    pub fn try_recv(&mut self) -> Option<Batch> {
        let env = self.rx.try_recv().ok()?;
        Some(self.release(env))
    }

    fn release(&self, env: Envelope) -> Batch {
        self.bytes.add_permits(env.bytes as usize);
        self.items.add(-(env.batch.items() as i64));
        if let Some(f) = &self.fill {
            f.report(self.rx.len(), self.rx.max_capacity());
        }
        env.batch
    }

    /// Items waiting in the edge.
    pub fn queued_items(&self) -> i64 {
        self.items.get()
    }

    /// How full the edge is, 0 to 1: the larger of its slot and byte fill.
    pub fn fill(&self) -> f64 {
        fill_of(
            self.rx.len(),
            self.rx.max_capacity(),
            self.bytes.available_permits(),
            self.max_bytes,
        )
    }
}

impl Drop for EdgeReceiver {
    fn drop(&mut self) {
        // Wake senders waiting for byte permits: the edge is gone.
        self.bytes.close();
    }
}

/// Sends each batch to every edge, cloning for all but the last. Room is
/// reserved on all edges before anything is sent, so a refused batch reached no
/// edge and a client retry makes no duplicates.
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
}
