//! The disk queue (`queue: { storage: disk }`): an exporter's queue kept in a
//! [`Spool`], so what weir accepted survives a restart, a crash or `kill -9`.
//!
//! An intake task takes each batch from the exporter's in-memory edge and
//! appends it to the spool; only then are its requests' acknowledgements
//! settled. Delivery takes batches in sequence order: straight from memory
//! while the backlog is small ("hot"), read back from the spool once it
//! outgrew the memory budget ("cold") and after a restart. A batch is acked in
//! the spool when its delivery ends (delivered, or failed for good and
//! counted); one abandoned at the shutdown deadline stays for the next start.
//!
//! A full spool (or disk) stops the intake, so the edge fills and receivers
//! push back: nothing is dropped for lack of room. Spool I/O runs on blocking
//! threads; the spool sits behind a mutex that appends, reads and acks share.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use weir_core::telemetry::{ComponentTelemetry, Counter, Gauge, names};
use weir_core::{Batch, ComponentError, ExporterLoad, Shutdown};

use super::settings::{FsyncMode, QueueSettings};

mod intake;
mod record;
#[cfg(test)]
mod tests;

use crate::channel::EdgeReceiver;
use crate::spool::{FsyncPolicy, Replayed, Seq, Spool, SpoolConfig};
use intake::intake;
use record::batch_of;

/// The spool's series.
struct SpoolMetrics {
    bytes: Gauge,
    batches: Gauge,
    full: Counter,
}

/// What the intake and delivery sides share.
struct Shared {
    spool: Mutex<Spool>,
    state: Mutex<State>,
    /// New data to deliver, or the intake ended.
    data: Notify,
    /// An ack freed room in the spool.
    room: Notify,
    /// The intake is held because the spool or disk is full: logged once per
    /// spell, not per batch.
    full: AtomicBool,
    metrics: SpoolMetrics,
    telemetry: ComponentTelemetry,
    /// Where the queue's fill goes, for the processors upstream.
    load: ExporterLoad,
}

/// Where the batches waiting for delivery are. Every hot sequence number is
/// below every cold one, so delivery keeps append order.
struct State {
    hot: VecDeque<(Seq, Batch)>,
    hot_bytes: usize,
    /// The memory budget: at most this many batches and bytes stay hot.
    hot_batches: usize,
    hot_limit: usize,
    /// Pending on disk, not in memory: `cold_from..cold_until`.
    cold_from: Seq,
    cold_until: Seq,
    intake_done: bool,
}

impl State {
    /// How full the queue is for the processors upstream: the hot window's
    /// fill, or full while a backlog waits on disk (the destination is behind).
    fn fill(&self) -> f64 {
        if self.cold_from < self.cold_until {
            return 1.0;
        }
        let slots = self.hot.len() as f64 / self.hot_batches as f64;
        let bytes = self.hot_bytes as f64 / self.hot_limit.max(1) as f64;
        slots.max(bytes).min(1.0)
    }

    fn push(&mut self, seq: Seq, batch: Batch) {
        let size = batch.size_bytes();
        let cold = self.cold_from < self.cold_until;
        let over = self.hot.len() >= self.hot_batches || self.hot_bytes + size > self.hot_limit;
        if cold || (!self.hot.is_empty() && over) {
            // Over the memory budget: it is on disk already, read it back later.
            if !cold {
                self.cold_from = seq;
            }
            self.cold_until = seq + 1;
        } else {
            self.hot_bytes += size;
            self.hot.push_back((seq, batch));
        }
    }
}

impl Shared {
    fn spool(&self) -> MutexGuard<'_, Spool> {
        // A panic while holding the lock leaves the spool as consistent as a
        // crash would, which it is built to survive.
        self.spool.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Publishes the queue's fill after a change to `state`.
    fn report_fill(&self, state: &State) {
        self.load.set_queue_fill(state.fill());
    }

    fn update_gauges(&self, spool: &Spool) {
        self.metrics.bytes.set(spool.bytes_used() as i64);
        self.metrics.batches.set(spool.pending_records() as i64);
    }
}

/// The delivery side of a disk queue; see the [module docs](self).
pub struct DiskQueue {
    shared: Arc<Shared>,
    /// Read back from disk, not yet handed out.
    staged: VecDeque<Replayed>,
    intake: Option<JoinHandle<()>>,
}

/// The spool configuration of `queue`.
pub fn spool_config(queue: &QueueSettings) -> SpoolConfig {
    let fsync = match queue.fsync {
        FsyncMode::Always => FsyncPolicy::Always,
        FsyncMode::Never => FsyncPolicy::Never,
        FsyncMode::Interval => FsyncPolicy::Interval {
            period: queue.fsync_interval,
            bytes: 32 * 1024 * 1024,
        },
    };
    SpoolConfig {
        segment_bytes: queue.segment_bytes.bytes(),
        max_bytes: queue.max_bytes().bytes(),
        fsync,
    }
}

impl DiskQueue {
    /// Opens the spool at `queue.path` (repairing and counting damage) and
    /// starts the intake from `edge`. Batches pending from the last run are
    /// delivered first. `abort` fires at the shutdown deadline.
    pub fn open(
        queue: &QueueSettings,
        edge: EdgeReceiver,
        telemetry: ComponentTelemetry,
        load: ExporterLoad,
        abort: Shutdown,
    ) -> Result<DiskQueue, ComponentError> {
        let path = queue.path.as_deref().unwrap_or(Path::new("."));
        let spool = Spool::open(path, spool_config(queue))
            .map_err(|e| ComponentError::new(format!("disk queue at {}: {e}", path.display())))?;
        let stats = spool.stats().clone();
        let first = spool.first_pending().unwrap_or(spool.next_seq());
        if stats.replayed_records > 0 || stats.corrupt_frames > 0 {
            tracing::info!(
                component = telemetry.component(),
                path = %path.display(),
                batches = stats.replayed_records,
                corrupt_frames = stats.corrupt_frames,
                truncated_bytes = stats.truncated_bytes,
                quarantined_segments = stats.quarantined_segments,
                "disk queue: delivering batches left from the last run"
            );
        }
        telemetry
            .counter(names::EXPORTER_SPOOL_CORRUPT_FRAMES, None, &[])
            .add(stats.corrupt_frames);
        telemetry
            .counter(names::EXPORTER_SPOOL_REPLAYED_BATCHES, None, &[])
            .add(stats.replayed_records);
        let metrics = SpoolMetrics {
            bytes: telemetry.gauge(names::EXPORTER_SPOOL_BYTES, None, &[]),
            batches: telemetry.gauge(names::EXPORTER_SPOOL_BATCHES, None, &[]),
            full: telemetry.counter(names::EXPORTER_SPOOL_FULL, None, &[]),
        };
        let state = State {
            hot: VecDeque::new(),
            hot_bytes: 0,
            hot_batches: queue.capacity.max(1),
            hot_limit: queue.memory_bytes().as_usize(),
            cold_from: first,
            cold_until: spool.next_seq(),
            intake_done: false,
        };
        let shared = Arc::new(Shared {
            spool: Mutex::new(spool),
            state: Mutex::new(state),
            data: Notify::new(),
            room: Notify::new(),
            full: AtomicBool::new(false),
            metrics,
            telemetry,
            load,
        });
        shared.report_fill(&shared.state());
        shared.update_gauges(&shared.spool());
        let sync_every = match queue.fsync {
            FsyncMode::Interval => Some(queue.fsync_interval.max(Duration::from_millis(1))),
            _ => None,
        };
        let intake = tokio::spawn(intake(shared.clone(), edge, abort, sync_every));
        Ok(DiskQueue {
            shared,
            staged: VecDeque::new(),
            intake: Some(intake),
        })
    }

    /// The next batch to deliver and its sequence number, in append order;
    /// `None` once the intake has ended and everything was handed out.
    /// Cancel-safe: nothing is taken until it is returned.
    pub async fn next(&mut self) -> Option<(Seq, Batch)> {
        loop {
            if let Some(r) = self.staged.pop_front() {
                return Some((r.seq, batch_of(r.record)));
            }
            let cold = {
                let mut st = self.shared.state();
                // Hot batches all precede the cold range.
                if let Some((seq, batch)) = st.hot.pop_front() {
                    st.hot_bytes -= batch.size_bytes();
                    self.shared.report_fill(&st);
                    return Some((seq, batch));
                } else if st.cold_from < st.cold_until {
                    Some((st.cold_from, st.cold_until))
                } else if st.intake_done {
                    return None;
                } else {
                    None
                }
            };
            let Some((from, until)) = cold else {
                self.shared.data.notified().await;
                continue;
            };
            let shared = self.shared.clone();
            let read =
                tokio::task::spawn_blocking(move || shared.spool().read_pending(from, until)).await;
            match read {
                Ok(Ok(records)) => {
                    let mut st = self.shared.state();
                    // Nothing found means the rest of the range is delivered.
                    st.cold_from = records.last().map_or(until, |r| r.seq + 1);
                    self.shared.report_fill(&st);
                    self.staged.extend(records);
                }
                Ok(Err(e)) => {
                    // Skipping would lose the data; wait and read again.
                    tracing::error!(component = self.shared.telemetry.component(), error = %e, "disk queue: reading the spool failed; retrying in 1s");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => {
                    tracing::error!(component = self.shared.telemetry.component(), error = %e, "disk queue: spool read task failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// A handle that marks batches delivered, for the delivery tasks.
    pub fn acker(&self) -> SpoolAcker {
        SpoolAcker(self.shared.clone())
    }

    /// Waits for the intake to have spooled everything upstream sent, then
    /// syncs the spool: what was not delivered is on disk for the next start.
    /// Only the first call does anything.
    pub async fn close(&mut self) {
        let Some(intake) = self.intake.take() else {
            return; // closed already
        };
        if let Err(e) = intake.await {
            tracing::error!(component = self.shared.telemetry.component(), error = %e, "disk queue intake failed");
        }
        let shared = self.shared.clone();
        let synced = tokio::task::spawn_blocking(move || {
            let mut spool = shared.spool();
            let left = spool.pending_records();
            spool.sync().map(|()| left)
        })
        .await;
        match synced {
            Ok(Ok(0)) => {}
            Ok(Ok(left)) => tracing::info!(
                component = self.shared.telemetry.component(),
                batches = left,
                "disk queue: batches left in the spool for the next start"
            ),
            Ok(Err(e)) => {
                tracing::error!(component = self.shared.telemetry.component(), error = %e, "disk queue: final sync failed")
            }
            Err(e) => {
                tracing::error!(component = self.shared.telemetry.component(), error = %e, "disk queue: final sync task failed")
            }
        }
    }
}

/// Marks spooled batches delivered.
#[derive(Clone)]
pub struct SpoolAcker(Arc<Shared>);

impl SpoolAcker {
    /// Acknowledges `seq` in the spool, freeing its room once its segment is done.
    pub async fn ack(&self, seq: Seq) {
        let shared = self.0.clone();
        let done = tokio::task::spawn_blocking(move || {
            let mut spool = shared.spool();
            let r = spool.ack(seq);
            shared.update_gauges(&spool);
            r
        })
        .await;
        match done {
            Ok(Ok(_)) => self.0.room.notify_one(),
            // The record stays pending and is delivered again after a restart:
            // a duplicate, never a loss.
            Ok(Err(e)) => {
                tracing::error!(component = self.0.telemetry.component(), seq, error = %e, "disk queue: recording a delivery failed")
            }
            Err(e) => {
                tracing::error!(component = self.0.telemetry.component(), seq, error = %e, "disk queue: ack task failed")
            }
        }
    }
}
