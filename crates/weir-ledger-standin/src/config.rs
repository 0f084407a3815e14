//! What a stand-in is started with. Everything defaults to the contract's
//! documented values, so `StandinConfig::default()` behaves like a freshly
//! installed self-hosted Ledger.

use std::net::SocketAddr;
use std::time::Duration;

/// A key that looks like a real one (`ledger_` and 43 URL-safe characters),
/// so clients that warn about odd keys stay quiet in tests.
pub const DEFAULT_API_KEY: &str = "ledger_standin000000000000000000000000000000000000";

/// The alias under which [`StandinConfig::api_key`] is recorded (see
/// [`crate::Received::key`]); [`crate::Control::set_api_key`] keeps it.
pub const DEFAULT_KEY_ALIAS: &str = "default";

/// How the stand-in is set up. Limits can be changed later through
/// [`crate::Control`].
#[derive(Debug, Clone)]
pub struct StandinConfig {
    /// Where to listen; port 0 picks a free port. Default `127.0.0.1:0`.
    pub bind: SocketAddr,
    /// The valid API key (alias [`DEFAULT_KEY_ALIAS`]). An empty key
    /// matches no request.
    pub api_key: String,
    /// Ingest requests allowed per key in any [`Self::minute_window`]. Default 1000.
    pub requests_per_minute: u32,
    /// Ingest requests allowed per key in any [`Self::hour_window`]. Default 50000.
    pub requests_per_hour: u32,
    /// Logs accepted per quota period (a UTC day unless
    /// [`Self::quota_period`] is set). Default 100000.
    pub daily_quota: u64,
    /// Length of the "minute" of the per-minute limit. Default 60 s; tests
    /// shorten it so they need not wait a real minute.
    pub minute_window: Duration,
    /// Length of the "hour" of the per-hour limit. Default 3600 s.
    pub hour_window: Duration,
    /// `Retry-After` of a 429 for the per-minute limit, in seconds. Default
    /// `None`: [`Self::minute_window`] rounded up to whole seconds (60 for a
    /// real minute, as Ledger says), so a client honouring it waits one
    /// stand-in minute.
    pub retry_after_minute: Option<u64>,
    /// `Retry-After` of a 429 for the per-hour limit; `None`: the hour window
    /// rounded up (3600 by default).
    pub retry_after_hour: Option<u64>,
    /// The quota period. `None` (default): the UTC day, reset at midnight
    /// like Ledger; `Some(d)`: reset every `d` from the start (or from the
    /// last [`crate::Control::reset_quota`]).
    pub quota_period: Option<Duration>,
    /// Most logs per batch. Default 1000, the gateway's own bound; a larger
    /// value is taken as 1000, since the gateway refuses more anyway.
    pub max_batch_size: usize,
    /// Most body bytes, before and after gzip; beyond it, 413. Default 64 MiB
    /// (Ledger sets none; this keeps a gzip bomb from eating the test's memory).
    pub max_body_bytes: usize,
    /// Keep every accepted entry and span for [`crate::Standin::entries`].
    /// `false` keeps only counts (benchmarks). Default `true`.
    pub record_entries: bool,
    /// `project_id` of the settings and queue-depth answers. Default 1.
    pub project_id: i64,
    /// `project_name` (and, lower-cased with dashes, `project_slug`).
    pub project_name: String,
    /// `environment` of the settings answer. Default `test`.
    pub environment: String,
}

impl Default for StandinConfig {
    fn default() -> Self {
        StandinConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            api_key: DEFAULT_API_KEY.to_owned(),
            requests_per_minute: 1_000,
            requests_per_hour: 50_000,
            daily_quota: 100_000,
            minute_window: Duration::from_secs(60),
            hour_window: Duration::from_secs(3_600),
            retry_after_minute: None,
            retry_after_hour: None,
            quota_period: None,
            max_batch_size: weir_ledger::entry::limits::BATCH,
            max_body_bytes: 64 << 20,
            record_entries: true,
            project_id: 1,
            project_name: "Ledger Stand-in".to_owned(),
            environment: "test".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_key_looks_real() {
        let rest = DEFAULT_API_KEY.strip_prefix("ledger_").unwrap();
        assert_eq!(rest.len(), 43);
    }
}
