//! The harness settings every exporter accepts beside its own config: `queue` and
//! `retry`. The runtime takes them out of the exporter's config before the
//! factory parses the rest.

use std::time::Duration;

use serde::Deserialize;
use weir_core::ByteSize;

/// `queue:` of an exporter.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QueueSettings {
    /// Batches waiting for the exporter (default 16).
    #[serde(default = "default_capacity")]
    pub capacity: usize,
    /// Encoded bytes waiting for the exporter (default 8MiB).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: ByteSize,
}

fn default_capacity() -> usize {
    16
}
fn default_max_bytes() -> ByteSize {
    ByteSize::mib(8)
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            capacity: default_capacity(),
            max_bytes: default_max_bytes(),
        }
    }
}

/// `retry:` of an exporter: jittered exponential backoff.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RetrySettings {
    /// Retry retryable failures at all (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// First wait (default 100ms).
    #[serde(default = "default_initial", with = "humantime_serde")]
    pub initial: Duration,
    /// Longest wait between tries (default 30s).
    #[serde(default = "default_max", with = "humantime_serde")]
    pub max: Duration,
    /// Give a batch up after retrying this long; `0s` retries forever (default 5m).
    #[serde(default = "default_max_elapsed", with = "humantime_serde")]
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
