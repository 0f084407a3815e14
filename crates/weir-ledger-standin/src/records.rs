//! What arrived, for tests to assert on: accepted entries and spans in
//! arrival order, and counters.
//!
//! Recording is a push under a mutex per request (not per entry), so it adds
//! next to nothing to parsing; with `record_entries: false` only counters move.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use weir_ledger::{LogEntry, SpanIn};

use crate::limits::max_in_window;

/// One accepted log entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// The entry as the gateway parsed it.
    pub entry: LogEntry,
    /// Index of the request it came in (0-based, counting every request the
    /// stand-in saw, in arrival order): entries of one request share it.
    pub request: u64,
    /// Alias of the API key that sent it ([`crate::DEFAULT_KEY_ALIAS`] for
    /// the configured key, else the alias given to [`crate::Control::add_key`]).
    pub key: Arc<str>,
    /// Whether the request body was gzip-compressed.
    pub gzip: bool,
}

/// One accepted span.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedSpan {
    /// The span as the gateway parsed it.
    pub span: SpanIn,
    /// Index of the request it came in (see [`Received::request`]).
    pub request: u64,
    /// Alias of the API key that sent it.
    pub key: Arc<str>,
    /// Whether the request body was gzip-compressed.
    pub gzip: bool,
}

/// Counters since the start (or the last [`crate::Control::clear_records`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// Every request that reached the stand-in, whatever happened to it.
    pub requests: u64,
    /// Answers sent, by HTTP status. Dropped connections are not here.
    pub by_status: BTreeMap<u16, u64>,
    /// Requests whose connection was dropped without an answer
    /// ([`crate::Control::drop_next`]).
    pub dropped: u64,
    /// Logs accepted (inside 202 answers).
    pub accepted_logs: u64,
    /// Logs rejected one by one inside 202 answers (not those of a refused
    /// request, e.g. a 422 or 402: see `by_status` for those).
    pub rejected_logs: u64,
    /// Spans accepted.
    pub accepted_spans: u64,
    /// Spans rejected inside 202 answers.
    pub rejected_spans: u64,
    /// Request body bytes as they came over the wire (compressed or not).
    pub bytes_received: u64,
    /// Request body bytes after gzip decoding.
    pub bytes_decoded: u64,
    /// Requests with `Content-Encoding: gzip`.
    pub gzip_requests: u64,
    /// Arrival of every ingest request (the rate-limited routes, whatever
    /// the answer), as time since the stand-in started, in order.
    pub request_times: Vec<Duration>,
    /// Most ingest requests that arrived in any one window of the
    /// configured `minute_window` (60 s by default).
    pub max_requests_in_any_minute: u64,
    /// Most ingest requests in any one `hour_window`.
    pub max_requests_in_any_hour: u64,
    /// Logs counted against the quota in the current period.
    pub quota_usage: u64,
}

impl Stats {
    /// Answers sent with `status`.
    pub fn status(&self, status: u16) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }

    /// Most ingest requests that arrived in any window of length `w`.
    pub fn max_requests_in(&self, w: Duration) -> u64 {
        max_in_window(&self.request_times, w)
    }
}

/// The mutable record behind the stand-in.
#[derive(Default)]
pub(crate) struct Records {
    pub(crate) entries: Vec<Received>,
    pub(crate) spans: Vec<ReceivedSpan>,
    pub(crate) stats: Stats,
}

impl Records {
    pub(crate) fn answered(&mut self, status: u16) {
        *self.stats.by_status.entry(status).or_insert(0) += 1;
    }
}
