//! The intake: from the exporter's in-memory edge into the spool, holding
//! while the spool is full, syncing on a timer.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use weir_core::telemetry::{names, reasons};
use weir_core::{Batch, Shutdown};

use super::Shared;
use super::record::record_of;
use crate::channel::EdgeReceiver;
use crate::spool::{Seq, SpoolError};

/// Takes batches from `edge` into the spool until the edge closes; syncs on a
/// timer under `fsync: interval`, so the last appends reach the disk even when
/// traffic stops.
pub(super) async fn intake(
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
