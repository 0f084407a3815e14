//! The spool's configuration, replay output and counters.

use std::time::Duration;

use super::{Seq, SpoolRecord};

/// When appended data is forced to stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// After every append: nothing acknowledged is lost even on power failure,
    /// at the price of one `fdatasync` per batch.
    Always,
    /// After an append once `period` has passed or `bytes` are unsynced since the
    /// last sync. A process crash loses nothing (the data is in the page cache);
    /// a power failure loses at most that window. Call [`Spool::sync`](super::Spool::sync) on a timer
    /// to bound the window when appends stop.
    Interval {
        /// Longest time between syncs while appends continue.
        period: Duration,
        /// Most unsynced bytes before a sync.
        bytes: u64,
    },
    /// Leave it to the OS. Survives a process crash, not a power failure.
    Never,
}

impl Default for FsyncPolicy {
    fn default() -> Self {
        FsyncPolicy::Interval {
            period: Duration::from_millis(100),
            bytes: 32 * 1024 * 1024,
        }
    }
}

/// How a spool stores and bounds its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolConfig {
    /// A segment is closed and a new one started once the next record would take
    /// it past this size (a single larger record still gets a segment of its own).
    pub segment_bytes: u64,
    /// The most bytes all segments may take; appends beyond it fail with
    /// [`SpoolError::Full`](super::SpoolError::Full).
    pub max_bytes: u64,
    /// When appends are synced to disk.
    pub fsync: FsyncPolicy,
}

impl Default for SpoolConfig {
    fn default() -> Self {
        Self {
            segment_bytes: 64 * 1024 * 1024,
            max_bytes: 1024 * 1024 * 1024,
            fsync: FsyncPolicy::default(),
        }
    }
}

/// A record found on disk when the spool was opened: not yet acknowledged, to be
/// delivered (again) and then passed to [`Spool::ack`](super::Spool::ack).
#[derive(Debug, Clone, PartialEq)]
pub struct Replayed {
    /// Its sequence number, also in `record.sequence`.
    pub seq: Seq,
    /// The record as appended.
    pub record: SpoolRecord,
}

/// Counters over the spool's life since [`Spool::open`](super::Spool::open).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpoolStats {
    /// Records returned by replay.
    pub replayed_records: u64,
    /// Ack log entries found torn or damaged on open (their records are replayed).
    pub damaged_acks: u64,
    /// Frames found torn, failing their checksum, not decoding, or out of order.
    pub corrupt_frames: u64,
    /// Bytes cut off the end of the last segment on open.
    pub truncated_bytes: u64,
    /// Files that were not valid segments, renamed to `*.corrupt` and left alone.
    pub quarantined_segments: u64,
    /// Records appended.
    pub appended_records: u64,
    /// Segments deleted because every record in them was acknowledged.
    pub deleted_segments: u64,
    /// `fdatasync` calls made.
    pub fsyncs: u64,
}
