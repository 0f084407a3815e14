//! What a full `drop_*` exporter queue does with the batch it drops: count
//! it and fail the requests it came from.

use std::sync::OnceLock;

use weir_core::Batch;
use weir_core::telemetry::{ComponentTelemetry, Counter, names, reasons};

/// Counts and fails the batches a full exporter queue drops.
pub(super) struct Overflow {
    pub(super) telemetry: ComponentTelemetry,
    /// `weir_exporter_failed_items_total{reason="queue_full"}` by signal,
    /// registered on the first drop of each.
    pub(super) failed: [OnceLock<Counter>; 3],
}

impl Overflow {
    pub(super) fn new(telemetry: &ComponentTelemetry) -> Self {
        Overflow {
            telemetry: telemetry.clone(),
            failed: Default::default(),
        }
    }

    pub(super) fn drop_batch(&self, mut batch: Batch) {
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
