//! [`Control`]: what a test does to a running stand-in (faults, keys,
//! limits, quota, listening) and what it reads back (entries, spans, stats).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::config::DEFAULT_KEY_ALIAS;
use crate::faults::{Failure, FaultScope};
use crate::limits::max_in_window;
use crate::records::{Received, ReceivedSpan, Records, Stats};
use crate::server::Server;
use crate::state::{Shared, clamp_batch, lock};

/// A handle on a running stand-in; cheap to clone, usable from any thread.
/// Changes apply to the requests that arrive after the call.
#[derive(Clone)]
pub struct Control {
    pub(crate) shared: Arc<Shared>,
    pub(crate) server: Arc<Server>,
}

impl Control {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// `http://127.0.0.1:<port>` (no trailing slash; routes are under `/api/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// Answers the next `n` in-scope requests with `status` and a
    /// `{"detail": ...}` body, with `Retry-After: secs` when given (Ledger's
    /// full queue says 60; its open circuit breaker sends none). Calls queue
    /// up: `fail_next(2, 503, ..)` then `fail_next(1, 500, None)` gives
    /// 503, 503, 500.
    pub fn fail_next(&self, n: usize, status: u16, retry_after: Option<u64>) {
        if n > 0 {
            let f = Failure {
                status,
                retry_after,
            };
            lock(&self.shared.live).faults.fail_next.push_back((n, f));
        }
    }

    /// Answers every in-scope request with `status` for the next `d`
    /// (after the counted failures of [`Control::fail_next`]).
    pub fn fail_for(&self, d: Duration, status: u16, retry_after: Option<u64>) {
        let f = Failure {
            status,
            retry_after,
        };
        lock(&self.shared.live).faults.fail_until = Some((Instant::now() + d, f));
    }

    /// Closes the connection of each of the next `n` in-scope requests
    /// without answering (after reading the request).
    pub fn drop_next(&self, n: usize) {
        lock(&self.shared.live).faults.drop_next += n;
    }

    /// Waits `d` before sending each in-scope answer (a slow server); zero
    /// turns it off. The request is processed and recorded first.
    pub fn set_delay(&self, d: Duration) {
        lock(&self.shared.live).faults.delay = d;
    }

    /// Which routes failures, drops and the delay apply to (default
    /// [`FaultScope::Ingest`]).
    pub fn set_fault_scope(&self, scope: FaultScope) {
        lock(&self.shared.live).faults.scope = scope;
    }

    /// Makes `key` the valid key (alias [`DEFAULT_KEY_ALIAS`]) in place of
    /// the configured one, e.g. to test a client whose key was fixed.
    pub fn set_api_key(&self, key: &str) {
        self.add_key(DEFAULT_KEY_ALIAS, key);
    }

    /// Accepts `key` as well, recorded under `alias` (replacing the key the
    /// alias had). Each key has its own rate limits.
    pub fn add_key(&self, alias: &str, key: &str) {
        let mut live = lock(&self.shared.live);
        match live.keys.iter_mut().find(|(a, _)| &**a == alias) {
            Some(slot) => slot.1 = key.to_owned(),
            None => live.keys.push((Arc::from(alias), key.to_owned())),
        }
    }

    /// Stops accepting the key of `alias`.
    pub fn remove_key(&self, alias: &str) {
        lock(&self.shared.live).keys.retain(|(a, _)| &**a != alias);
    }

    /// While on, every request (any route) gets 401, whatever key it
    /// carries: a key that was revoked.
    pub fn reject_all_keys(&self, on: bool) {
        lock(&self.shared.live).reject_all = on;
    }

    /// Sets the per-key request limits (per minute window, per hour window).
    pub fn set_rate_limits(&self, per_minute: u32, per_hour: u32) {
        let mut live = lock(&self.shared.live);
        live.rate.per_minute = per_minute;
        live.rate.per_hour = per_hour;
    }

    /// Forgets the requests the rate limits have counted.
    pub fn reset_rate_limits(&self) {
        lock(&self.shared.limiter).clear();
    }

    /// Sets the daily log quota (usage is kept).
    pub fn set_daily_quota(&self, quota: u64) {
        lock(&self.shared.quota).limit = quota;
    }

    /// Sets the most logs a batch may hold (at most 1000, the gateway's bound).
    pub fn set_max_batch_size(&self, n: usize) {
        lock(&self.shared.live).max_batch_size = clamp_batch(n);
    }

    /// Resets the quota's usage to 0, as midnight UTC does (a timed quota
    /// period starts anew from now).
    pub fn reset_quota(&self) {
        lock(&self.shared.quota).reset(Instant::now());
    }

    /// What `GET /api/v1/queue/depth` reports.
    pub fn set_queue_depth(&self, depth: u64) {
        lock(&self.shared.live).queue_depth = depth;
    }

    /// Back to a healthy server: no pending failures or drops, no delay,
    /// keys accepted again. Keys, limits, quota and records are kept.
    pub fn clear(&self) {
        let mut live = lock(&self.shared.live);
        live.faults.clear();
        live.reject_all = false;
    }

    /// Forgets the recorded entries, spans and counters (request indices go
    /// on counting).
    pub fn clear_records(&self) {
        *lock(&self.shared.records) = Records::default();
    }

    /// Stops listening and closes every open connection without answering:
    /// a dead server. Connections are refused until
    /// [`Control::start_listening`].
    pub async fn stop_listening(&self) {
        self.server.down().await;
    }

    /// Listens again on the same port. Fails only if something else took
    /// the port meanwhile.
    pub async fn start_listening(&self) -> io::Result<()> {
        self.server.up().await
    }

    /// Whether it is listening.
    pub async fn is_listening(&self) -> bool {
        self.server.is_up().await
    }

    /// Every accepted log entry so far, in arrival order (empty when
    /// `record_entries` is off).
    pub fn entries(&self) -> Vec<Received> {
        lock(&self.shared.records).entries.clone()
    }

    /// Takes the recorded entries out, leaving none (cheaper than
    /// [`Control::entries`] for big runs).
    pub fn take_entries(&self) -> Vec<Received> {
        std::mem::take(&mut lock(&self.shared.records).entries)
    }

    /// Every accepted span so far, in arrival order.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        lock(&self.shared.records).spans.clone()
    }

    /// The counters now.
    pub fn stats(&self) -> Stats {
        let (minute, hour) = {
            let live = lock(&self.shared.live);
            (live.rate.minute, live.rate.hour)
        };
        let quota_usage = lock(&self.shared.quota).usage(Instant::now());
        let mut stats = lock(&self.shared.records).stats.clone();
        stats.max_requests_in_any_minute = max_in_window(&stats.request_times, minute);
        stats.max_requests_in_any_hour = max_in_window(&stats.request_times, hour);
        stats.quota_usage = quota_usage;
        stats
    }

    /// Waits until at least `n` logs were accepted in all (counted, so this
    /// works with `record_entries` off); `false` on timeout.
    pub async fn wait_for_logs(&self, n: u64, timeout: Duration) -> bool {
        self.wait_until(timeout, |r| r.stats.accepted_logs >= n)
            .await
    }

    /// Waits until at least `n` spans were accepted; `false` on timeout.
    pub async fn wait_for_spans(&self, n: u64, timeout: Duration) -> bool {
        self.wait_until(timeout, |r| r.stats.accepted_spans >= n)
            .await
    }

    async fn wait_until(&self, timeout: Duration, done: impl Fn(&Records) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            // Registered before the check, so an arrival in between still wakes it.
            let arrived = self.shared.arrived.notified();
            if done(&lock(&self.shared.records)) {
                return true;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return done(&lock(&self.shared.records));
            }
        }
    }
}
