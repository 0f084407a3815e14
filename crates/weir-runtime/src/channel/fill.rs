//! How full an edge is: the slot and byte fill it reports to the exporter's
//! load, and the byte budget's arithmetic.

use tokio::sync::Semaphore;
use weir_core::ExporterLoad;

/// Where an edge reports how full it is, on every send and every take, so
/// the reading is live even while nobody takes from it (an exporter stuck
/// in a slow delivery is exactly when its queue fills).
pub(super) struct FillReport {
    pub(super) load: ExporterLoad,
    pub(super) max_bytes: u32,
}

impl FillReport {
    pub(super) fn report(&self, slots_used: usize, max_slots: usize, bytes_used: usize) {
        let fill = fill_of(slots_used, max_slots, bytes_used, self.max_bytes);
        self.load.set_queue_fill(fill);
    }
}

/// The larger of the slot and byte fill, 0 to 1.
pub(super) fn fill_of(
    slots_used: usize,
    max_slots: usize,
    bytes_used: usize,
    max_bytes: u32,
) -> f64 {
    let bytes_used = bytes_used.min(max_bytes as usize);
    (slots_used as f64 / max_slots.max(1) as f64).max(bytes_used as f64 / max_bytes as f64)
}

/// Bytes taken from a semaphore budget of `max_bytes`.
pub(super) fn used_of(bytes: &Semaphore, max_bytes: u32) -> usize {
    max_bytes as usize - bytes.available_permits().min(max_bytes as usize)
}

/// The byte budget as the `u32` the envelopes count in.
pub(super) fn budget(max_bytes: usize) -> u32 {
    u32::try_from(max_bytes.max(1)).unwrap_or(u32::MAX >> 1)
}
