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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use weir_core::telemetry::{ComponentTelemetry, Counter, Gauge, names, reasons};
use weir_core::{Batch, BatchMeta, ClientInfo, ComponentError, ExporterLoad, Shutdown, Signal};

use super::settings::{FsyncMode, QueueSettings};
use crate::channel::EdgeReceiver;
use crate::spool::{
    FsyncPolicy, MetadataEntry, Replayed, Seq, Spool, SpoolConfig, SpoolError, SpoolRecord,
};

/// Metadata keys under which a batch's meta is kept in its spool record.
const META_RECEIVER: &str = "weir.receiver";
const META_SUBJECT: &str = "weir.subject";

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

/// Takes batches from `edge` into the spool until the edge closes; syncs on a
/// timer under `fsync: interval`, so the last appends reach the disk even when
/// traffic stops.
async fn intake(
    shared: Arc<Shared>,
    mut edge: EdgeReceiver,
    abort: Shutdown,
    sync_every: Option<Duration>,
) {
    let mut ticker = sync_every.map(tokio::time::interval);
    loop {
        let next = tokio::select! {
            b = edge.recv() => b,
            _ = async { ticker.as_mut().expect("guarded").tick().await }, if ticker.is_some() => {
                let s = shared.clone();
                let r = tokio::task::spawn_blocking(move || s.spool().sync_if_dirty()).await;
                if let Ok(Err(e)) = r {
                    tracing::error!(component = shared.telemetry.component(), error = %e, "disk queue: fsync failed");
                }
                continue;
            }
        };
        let Some(mut batch) = next else { break };
        match append(&shared, &batch, &abort).await {
            Ok(seq) => {
                // In the spool: the clients' data is safe now.
                batch.meta_mut().acks.succeed();
                let mut st = shared.state();
                st.push(seq, batch);
                shared.report_fill(&st);
                drop(st);
                shared.data.notify_one();
            }
            Err(reason) => {
                let items = batch.items();
                shared
                    .telemetry
                    .counter(
                        names::EXPORTER_FAILED_ITEMS,
                        Some(batch.signal()),
                        &[("reason", reason)],
                    )
                    .add(items as u64);
                batch.meta_mut().acks.fail(reason);
            }
        }
    }
    shared.state().intake_done = true;
    shared.data.notify_one();
}

/// Appends `batch`, waiting while the spool is full; gives up only on a record
/// too large for any spool, or when the shutdown deadline passes while full.
async fn append(
    shared: &Arc<Shared>,
    batch: &Batch,
    abort: &Shutdown,
) -> Result<Seq, &'static str> {
    let record = record_of(batch);
    loop {
        let s = shared.clone();
        let r = record.clone();
        let result = tokio::task::spawn_blocking(move || {
            let mut spool = s.spool();
            let r = spool.append(r);
            s.update_gauges(&spool);
            r
        })
        .await
        .unwrap_or_else(|e| Err(SpoolError::Config(format!("append task failed: {e}"))));
        let err = match result {
            Ok(seq) => {
                if shared.full.swap(false, Ordering::Relaxed) {
                    tracing::info!(
                        component = shared.telemetry.component(),
                        "disk queue: room again; taking batches"
                    );
                }
                return Ok(seq);
            }
            Err(e @ SpoolError::RecordTooLarge { .. }) => {
                tracing::error!(component = shared.telemetry.component(), items = batch.items(), error = %e, "disk queue: batch too large to spool; dropping it");
                return Err(reasons::PERMANENT);
            }
            Err(e) => e,
        };
        if !shared.full.swap(true, Ordering::Relaxed) {
            shared.metrics.full.inc();
            // Once per spell: the receivers' refusals say the rest.
            tracing::warn!(component = shared.telemetry.component(), error = %err, "disk queue: cannot append; holding intake (receivers push back) until room frees up");
        }
        if abort.is_triggered() {
            tracing::error!(component = shared.telemetry.component(), items = batch.items(), error = %err, "disk queue: shutdown deadline passed with no room in the spool; dropping batch");
            return Err(reasons::ABANDONED);
        }
        // Room comes from acks; a full disk may also clear by itself.
        tokio::select! {
            _ = shared.room.notified() => {}
            _ = abort.wait() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// The spool record of `batch`.
fn record_of(batch: &Batch) -> SpoolRecord {
    let meta = batch.meta();
    let age = meta.received_at.elapsed();
    let received_at_unix_nanos = SystemTime::now()
        .checked_sub(age)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64);
    let mut metadata = Vec::new();
    if let Some(r) = &meta.receiver {
        metadata.push(entry(META_RECEIVER, r));
    }
    if let Some(c) = &meta.client {
        if let Some(s) = &c.subject {
            metadata.push(entry(META_SUBJECT, s));
        }
        metadata.extend(c.headers.iter().map(|(k, v)| entry(k, v)));
    }
    let signal = match batch.signal() {
        Signal::Logs => crate::spool::Signal::Logs,
        Signal::Traces => crate::spool::Signal::Traces,
        Signal::Metrics => crate::spool::Signal::Metrics,
    };
    SpoolRecord {
        signal: signal as i32,
        payload: batch.to_protobuf(),
        items: batch.items() as u64,
        sequence: 0,
        received_at_unix_nanos,
        metadata,
    }
}

fn entry(key: &str, value: &str) -> MetadataEntry {
    MetadataEntry {
        key: key.to_string(),
        value: bytes::Bytes::copy_from_slice(value.as_bytes()),
    }
}

/// The batch a spool record holds, its meta restored as far as it was kept.
/// The payload was validated when it was first received; it is forwarded as
/// bytes and decoded only if the exporter needs records.
fn batch_of(record: SpoolRecord) -> Batch {
    let signal = match crate::spool::Signal::try_from(record.signal) {
        Ok(crate::spool::Signal::Traces) => Signal::Traces,
        Ok(crate::spool::Signal::Metrics) => Signal::Metrics,
        _ => Signal::Logs,
    };
    let mut meta = BatchMeta::default();
    let age = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(Duration::ZERO, |now| {
            now.saturating_sub(Duration::from_nanos(record.received_at_unix_nanos))
        });
    if let Some(at) = meta.received_at.checked_sub(age) {
        meta.received_at = at;
    }
    let mut client = ClientInfo::default();
    for m in record.metadata {
        let value: Arc<str> = String::from_utf8_lossy(&m.value).into();
        match m.key.as_str() {
            META_RECEIVER => meta.receiver = Some(value),
            META_SUBJECT => client.subject = Some(value),
            _ => client.headers.push((m.key.into(), value)),
        }
    }
    if client.subject.is_some() || !client.headers.is_empty() {
        meta.client = Some(Arc::new(client));
    }
    Batch::from_encoded(signal, record.payload, record.items as usize, meta)
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_core::otlp::logs::v1::ResourceLogs;

    fn batch() -> Batch {
        Batch::logs(vec![ResourceLogs::default()], BatchMeta::default())
    }

    #[test]
    fn the_hot_window_fills_and_a_backlog_on_disk_reads_full() {
        let mut st = State {
            hot: VecDeque::new(),
            hot_bytes: 0,
            hot_batches: 4,
            hot_limit: 1 << 20,
            cold_from: 0,
            cold_until: 0,
            intake_done: false,
        };
        assert_eq!(st.fill(), 0.0);
        st.push(0, batch());
        st.push(1, batch());
        assert_eq!(st.fill(), 0.5);
        st.push(2, batch());
        st.push(3, batch());
        st.push(4, batch()); // over the window: stays on disk
        assert_eq!(st.hot.len(), 4);
        assert_eq!((st.cold_from, st.cold_until), (4, 5));
        assert_eq!(st.fill(), 1.0);
        // Later batches join the backlog, keeping the order.
        st.hot.clear();
        st.push(5, batch());
        assert_eq!((st.cold_from, st.cold_until), (4, 6));
        assert_eq!(st.fill(), 1.0);
    }

    #[test]
    fn a_batch_comes_back_from_its_record_with_its_meta() {
        let mut client = ClientInfo::default();
        client.subject = Some("tok-1234".into());
        client.headers = vec![("x-tenant".into(), "acme".into())];
        let meta = BatchMeta::from_receiver("otlp/edge".into()).with_client(Arc::new(client));
        let b = Batch::logs(vec![ResourceLogs::default()], meta);
        let back = batch_of(record_of(&b));
        assert_eq!(back.signal(), Signal::Logs);
        assert_eq!(back.to_protobuf(), b.to_protobuf());
        assert_eq!(back.meta().receiver.as_deref(), Some("otlp/edge"));
        let c = back.meta().client.as_ref().expect("client kept");
        assert_eq!(c.subject.as_deref(), Some("tok-1234"));
        assert_eq!(c.headers, vec![("x-tenant".into(), "acme".into())]);
        assert!(back.meta().received_at.elapsed() < Duration::from_secs(5));
    }
}
