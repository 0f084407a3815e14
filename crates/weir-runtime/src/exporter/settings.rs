//! The harness settings every exporter accepts beside its own config: `queue`,
//! `retry` and `max_in_flight`. The runtime takes them out of the exporter's config before the
//! factory parses the rest.

use std::path::PathBuf;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use weir_core::ByteSize;

/// Where an exporter's queue keeps what waits for delivery.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueStorage {
    /// In memory: lost if the process dies.
    #[default]
    Memory,
    /// In a write-ahead spool on disk (`path`): survives restarts and `kill -9`.
    Disk,
}

/// What a full memory queue does with one more batch.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WhenFull {
    /// The sender waits: backpressure up to the receivers (nothing dropped).
    #[default]
    Block,
    /// The oldest waiting batch is dropped to make room, counted as `queue_full`.
    DropOldest,
    /// The new batch is dropped, counted as `queue_full`.
    DropNewest,
}

/// `fsync:` of a disk queue.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FsyncMode {
    /// After every batch appended.
    Always,
    /// Every `fsync_interval` while appends continue, and on a timer after.
    #[default]
    Interval,
    /// Left to the OS: survives a process crash, not a power cut.
    Never,
}

/// `queue:` of an exporter.
#[derive(Debug, Clone, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueSettings {
    /// `memory` (default) or `disk`.
    #[serde(default)]
    pub storage: QueueStorage,
    /// Batches waiting in memory for the exporter (default 16).
    #[serde(default = "default_capacity")]
    pub capacity: usize,
    /// Encoded bytes waiting: in memory for a memory queue (default 8MiB), on
    /// disk for a disk queue (default 1GiB).
    #[serde(default)]
    pub max_bytes: Option<ByteSize>,
    /// What a full memory queue does: `block` (default), `drop_oldest`,
    /// `drop_newest`. A disk queue always pushes back when full.
    #[serde(default)]
    pub when_full: WhenFull,
    /// The spool directory of a disk queue (required with `storage: disk`); one
    /// exporter per directory.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// When a disk queue forces its appends to disk (default `interval`).
    #[serde(default)]
    pub fsync: FsyncMode,
    /// The longest a disk queue leaves appends unsynced under `interval`
    /// (default 100ms).
    #[serde(default = "default_fsync_interval", with = "humantime_serde")]
    #[schemars(with = "weir_core::schema::HumanDuration")]
    pub fsync_interval: Duration,
    /// Size of one spool segment file (default 16MiB); a segment is deleted once
    /// everything in it is delivered.
    #[serde(default = "default_segment_bytes")]
    pub segment_bytes: ByteSize,
}

fn default_capacity() -> usize {
    16
}
fn default_fsync_interval() -> Duration {
    Duration::from_millis(100)
}
fn default_segment_bytes() -> ByteSize {
    ByteSize::mib(16)
}

/// Bytes a memory queue holds by default, and the most a disk queue keeps in
/// memory in front of its spool.
pub const DEFAULT_MEMORY_BYTES: ByteSize = ByteSize::mib(8);
/// Bytes a disk queue may take on disk by default.
pub const DEFAULT_DISK_BYTES: ByteSize = ByteSize::mib(1024);

impl QueueSettings {
    /// The byte bound that applies to this queue's storage.
    pub fn max_bytes(&self) -> ByteSize {
        self.max_bytes.unwrap_or(match self.storage {
            QueueStorage::Memory => DEFAULT_MEMORY_BYTES,
            QueueStorage::Disk => DEFAULT_DISK_BYTES,
        })
    }

    /// The byte budget of the in-memory edge in front of the exporter.
    pub fn memory_bytes(&self) -> ByteSize {
        match self.storage {
            QueueStorage::Memory => self.max_bytes(),
            QueueStorage::Disk => DEFAULT_MEMORY_BYTES,
        }
    }
}

impl QueueSettings {
    /// What is wrong with these settings, as (key, reason) pairs.
    pub fn problems(&self) -> Vec<(&'static str, &'static str)> {
        let mut found = Vec::new();
        if self.capacity == 0 {
            found.push(("capacity", "must be at least 1"));
        }
        if self.max_bytes.is_some_and(|b| b.bytes() == 0) {
            found.push(("max_bytes", "must be more than 0"));
        }
        match self.storage {
            QueueStorage::Disk => {
                if self.path.is_none() {
                    found.push(("path", "a disk queue needs `path`: the spool directory"));
                }
                if self.when_full != WhenFull::Block {
                    found.push((
                        "when_full",
                        "a disk queue always pushes back when full; drop policies apply to `storage: memory`",
                    ));
                }
                if self.segment_bytes.bytes() < 4096 {
                    found.push(("segment_bytes", "must be at least 4KiB"));
                } else if self.max_bytes().bytes() < self.segment_bytes.bytes() {
                    found.push((
                        "max_bytes",
                        "a disk queue's max_bytes must be at least segment_bytes",
                    ));
                }
            }
            QueueStorage::Memory => {
                if self.path.is_some() {
                    found.push(("path", "`path` is for `storage: disk`"));
                }
            }
        }
        found
    }
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            storage: QueueStorage::Memory,
            capacity: default_capacity(),
            max_bytes: None,
            when_full: WhenFull::Block,
            path: None,
            fsync: FsyncMode::Interval,
            fsync_interval: default_fsync_interval(),
            segment_bytes: default_segment_bytes(),
        }
    }
}

/// `retry:` of an exporter: jittered exponential backoff.
#[derive(Debug, Clone, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetrySettings {
    /// Retry retryable failures at all (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// First wait (default 100ms).
    #[serde(default = "default_initial", with = "humantime_serde")]
    #[schemars(with = "weir_core::schema::HumanDuration")]
    pub initial: Duration,
    /// Longest wait between tries (default 30s).
    #[serde(default = "default_max", with = "humantime_serde")]
    #[schemars(with = "weir_core::schema::HumanDuration")]
    pub max: Duration,
    /// Give a batch up after retrying this long; `0s` retries forever (default 5m).
    #[serde(default = "default_max_elapsed", with = "humantime_serde")]
    #[schemars(with = "weir_core::schema::HumanDuration")]
    pub max_elapsed: Duration,
}

fn yes() -> bool {
    true
}
fn default_initial() -> Duration {
    Duration::from_millis(100)
}
fn default_max() -> Duration {
    Duration::from_secs(30)
}
fn default_max_elapsed() -> Duration {
    Duration::from_secs(300)
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            enabled: true,
            initial: default_initial(),
            max: default_max(),
            max_elapsed: default_max_elapsed(),
        }
    }
}

/// Everything the harness takes from an exporter's config.
#[derive(Debug, Clone, PartialEq)]
pub struct HarnessSettings {
    /// `queue:`.
    pub queue: QueueSettings,
    /// `retry:`.
    pub retry: RetrySettings,
    /// `max_in_flight:` export calls at once (default 4; an exporter may cap it
    /// lower, e.g. a file writes one batch at a time). Batches in flight
    /// together may be delivered out of order.
    pub max_in_flight: usize,
}

/// Default `max_in_flight`.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 4;

impl Default for HarnessSettings {
    fn default() -> Self {
        HarnessSettings {
            queue: QueueSettings::default(),
            retry: RetrySettings::default(),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
        }
    }
}

/// Keys the harness owns inside an exporter's config.
pub const HARNESS_KEYS: [&str; 3] = ["queue", "retry", "max_in_flight"];
