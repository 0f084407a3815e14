//! The `ledger` exporter: log records to Ledger's v1 ingest API
//! (`docs/reference/ledger-api.md`), doing the Ledger SDK's job better: it
//! keeps every record the server would accept.
//!
//! - Records map to LogEntries per the contract (`weir_ledger::otlp`) and are
//!   fitted to the server's limits before sending (`weir_ledger::fit`), so the
//!   server has no reason to answer 422.
//! - Settings (`GET /api/v1/settings`) are read at the first export and every
//!   `settings_refresh`, and after a 402; their batch size, rate limits and
//!   field limits are adopted; documented defaults when the read fails.
//! - Requests stay under `rate_limit_ratio` of both request limits
//!   (`limiter`), tightening when 429s come anyway.
//! - Every answer is handled per the contract's table (`client::Answer`):
//!   202 counts accepted and rejected; 400/422 are permanent and logged
//!   loudly; 401 stops sending and marks the exporter unhealthy in `/readyz`
//!   until a probe with the key works; 402 pauses until the quota resets;
//!   429 and 503 wait `Retry-After`; other failures retry with the harness's
//!   jittered backoff, and a circuit breaker stops hammering a dead server
//!   (`gate`).
//! - Nothing is dropped for being undeliverable: failed requests are retried
//!   until delivered (`retry.max_elapsed: 0` unless set), so the queue fills
//!   and backpressure reaches the receivers. A batch larger than one request
//!   is sent as several; once part of it is delivered the rest is retried
//!   here, so a retry never resends what the server took.
//! - `ordered: true` (default): exports encode in parallel but send in the
//!   order the harness took them from the queue, a failed request retried in
//!   its turn (`order`), so batches land in queue order through outages.

mod client;
mod config;
mod encode;
mod gate;
mod limiter;
mod metrics;
mod order;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{Mutex as AsyncMutex, OnceCell};
use tokio::time::Instant;
use weir_core::{
    Batch, BuildContext, ComponentConfig, ComponentError, ConfigError, ExportError, ExportOutcome,
    Exporter, ExporterFactory, Signal, async_trait,
};
use weir_ledger::settings::Settings;

pub use config::{BreakerConfig, Compression, LedgerConfig};

use client::{Answer, Client};
use encode::Chunk;
use gate::{Gate, Hold};
use limiter::Limiter;
use metrics::Metrics;
use order::Order;

/// Builds `ledger` exporters.
#[derive(Debug, Clone, Copy, Default)]
pub struct LedgerExporterFactory;

impl ExporterFactory for LedgerExporterFactory {
    fn type_name(&self) -> &'static str {
        "ledger"
    }

    fn description(&self) -> &'static str {
        "sends logs to Ledger's v1 ingest API: mapped and fitted per the contract, \
         within its rate limits, retried until delivered"
    }

    fn signals(&self) -> &'static [Signal] {
        &[Signal::Logs]
    }

    fn config_schema(&self) -> Option<weir_core::schema::Schema> {
        Some(weir_core::schema::for_config::<LedgerConfig>())
    }
    fn build(
        &self,
        cfg: &ComponentConfig,
        cx: &BuildContext,
    ) -> Result<Box<dyn Exporter>, ConfigError> {
        let (config, base) = LedgerConfig::from_component(cfg)?;
        Ok(Box::new(LedgerExporter::new(config, &base, cx)?))
    }

    fn retries_until_delivered(&self) -> bool {
        true
    }
}

/// Sends log batches to Ledger.
pub struct LedgerExporter {
    config: LedgerConfig,
    client: Client,
    gate: Gate,
    limiter: Limiter,
    settings: RwLock<Arc<Settings>>,
    first_settings: OnceCell<()>,
    /// Serializes key probes after a 401.
    probe: AsyncMutex<Option<Instant>>,
    metrics: Metrics,
    /// Unix seconds of the last log of server-side rejections (bounded rate).
    rejections_logged: AtomicU64,
    /// Turns for `ordered: true`.
    order: Option<Order>,
}

/// How one request ended.
enum Step {
    Done { accepted: u64, rejected: u64 },
    Permanent,
    Retry(ExportError),
}

impl LedgerExporter {
    /// An exporter for a checked config and its `/api/v1/` base URL.
    pub fn new(
        config: LedgerConfig,
        base: &reqwest::Url,
        cx: &BuildContext,
    ) -> Result<Self, ConfigError> {
        crate::otlp::ensure_crypto_provider();
        let defaults = Settings::default();
        Ok(LedgerExporter {
            client: Client::new(base, &config.api_key, config.timeout)?,
            gate: Gate::new(config.circuit_breaker.clone(), cx.health.clone()),
            limiter: Limiter::new(
                defaults.rate_limits.requests_per_minute,
                defaults.rate_limits.requests_per_hour,
                config.rate_limit_ratio,
            ),
            settings: RwLock::new(Arc::new(defaults)),
            first_settings: OnceCell::new(),
            probe: AsyncMutex::new(None),
            metrics: Metrics::new(&cx.telemetry),
            rejections_logged: AtomicU64::new(0),
            order: config.ordered.then(Order::new),
            config,
        })
    }

    /// The same exporter counting request limits over `minute` and `hour`
    /// windows (tests against a stand-in with short windows).
    #[cfg(test)]
    fn with_windows(mut self, minute: Duration, hour: Duration) -> Self {
        let d = Settings::default().rate_limits;
        self.limiter = Limiter::with_windows(
            d.requests_per_minute,
            d.requests_per_hour,
            self.config.rate_limit_ratio,
            minute,
            hour,
        );
        self
    }

    fn settings(&self) -> Arc<Settings> {
        self.settings
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Reads the settings and adopts them; keeps what it had on failure.
    async fn refresh_settings(&self) -> Result<(), Answer> {
        match self.client.settings().await {
            Ok(s) => {
                self.metrics.settings_ok.inc();
                self.limiter.set_limits(
                    s.rate_limits.requests_per_minute,
                    s.rate_limits.requests_per_hour,
                );
                tracing::debug!(
                    max_batch_size = s.constraints.max_batch_size,
                    per_minute = s.rate_limits.requests_per_minute,
                    per_hour = s.rate_limits.requests_per_hour,
                    "ledger exporter: settings read"
                );
                *self.settings.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(s);
                Ok(())
            }
            Err(answer) => {
                self.metrics.settings_failed.inc();
                tracing::warn!(
                    ?answer,
                    "ledger exporter: cannot read the settings; keeping the last known (or the documented defaults)"
                );
                Err(answer)
            }
        }
    }

    /// Waits until the gate lets requests through, probing the key while it
    /// is refused.
    async fn wait_gate(&self) {
        loop {
            match self.gate.hold() {
                Hold::Open => return,
                Hold::Until(t) => tokio::time::sleep_until(t).await,
                Hold::Unauthorized => self.probe_key().await,
            }
        }
    }

    /// One probe of the key at most every `probe_interval`, whoever asks.
    async fn probe_key(&self) {
        let mut last = self.probe.lock().await;
        if self.gate.hold() != Hold::Unauthorized {
            return; // another export's probe worked while we waited
        }
        if let Some(at) = *last {
            tokio::time::sleep_until(at + self.config.probe_interval).await;
        }
        *last = Some(Instant::now());
        match self.refresh_settings().await {
            Ok(()) => self.gate.authorized(),
            Err(Answer::Unauthorized(_)) => {}
            // Not a 401: the key may be fine and the server down; let the
            // next request tell.
            Err(_) => self.gate.authorized(),
        }
    }

    /// Sends one body: gate, rate limit, request, and what its answer means.
    async fn send(&self, chunk: &Chunk) -> Step {
        self.wait_gate().await;
        let waited = self.limiter.acquire().await;
        if !waited.is_zero() {
            self.metrics.limit_wait_ms.add(waited.as_millis() as u64);
            // The wait may have crossed a pause set meanwhile.
            self.wait_gate().await;
        }
        let gzip = self.config.compression == Compression::Gzip;
        let answer = self.client.send_batch(chunk.body.clone(), gzip).await;
        match answer {
            Answer::Accepted {
                accepted,
                rejected,
                errors,
            } => {
                self.metrics.call("202", false);
                self.gate.succeeded();
                self.limiter.passed();
                if rejected > 0 {
                    self.log_rejections(rejected, &errors);
                }
                Step::Done { accepted, rejected }
            }
            Answer::Permanent { status, detail } => {
                self.metrics.call(&status.to_string(), true);
                self.gate.succeeded();
                // weir fits every entry first, so this is a bug worth a loud log.
                tracing::error!(
                    status,
                    detail,
                    entries = chunk.entries,
                    "ledger exporter: the server refused a request for good; its records are dropped and counted"
                );
                Step::Permanent
            }
            Answer::Unauthorized(detail) => {
                self.metrics.call("401", true);
                self.gate.unauthorized(&detail);
                Step::Retry(ExportError::retryable(
                    "http_401",
                    "Ledger refuses the API key",
                ))
            }
            Answer::QuotaExceeded(detail) => {
                self.metrics.call("402", true);
                let _ = self.refresh_settings().await;
                let wait = self.until_quota_reset();
                tracing::warn!(detail, wait = ?wait, "ledger exporter: daily quota used up; pausing until it resets, data kept");
                self.gate.pause(wait);
                Step::Retry(ExportError::retry_after("http_402", detail, wait))
            }
            Answer::Throttled(after) => {
                self.metrics.call("429", true);
                self.limiter.throttled();
                let wait = after.unwrap_or(Duration::from_secs(60));
                self.gate.pause(wait);
                Step::Retry(ExportError::retry_after(
                    "http_429",
                    "request rate limit",
                    wait,
                ))
            }
            Answer::Unavailable(after) => {
                self.metrics.call("503", true);
                match after {
                    Some(wait) => {
                        self.gate.pause(wait);
                        Step::Retry(ExportError::retry_after("http_503", "server busy", wait))
                    }
                    None => {
                        self.breaker_failure();
                        Step::Retry(ExportError::retryable("http_503", "server unavailable"))
                    }
                }
            }
            Answer::Failed { reason, message } => {
                let status = reason.strip_prefix("http_").unwrap_or(&reason).to_string();
                self.metrics.call(&status, true);
                self.breaker_failure();
                Step::Retry(ExportError::retryable(reason, message))
            }
        }
    }

    fn breaker_failure(&self) {
        if self.gate.failed() {
            tracing::warn!(
                open_for = ?self.config.circuit_breaker.open_for,
                "ledger exporter: {} failed requests in a row; circuit breaker open",
                self.config.circuit_breaker.failures
            );
        }
    }

    /// Until `quotas.quota_reset_at`, else the next UTC midnight.
    fn until_quota_reset(&self) -> Duration {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let reset = self
            .settings()
            .quotas
            .reset_at()
            .map(|t| Duration::from_nanos(t.unix_nano()));
        match reset {
            Some(at) if at > now => at - now,
            _ => Duration::from_secs(86_400 - now.as_secs() % 86_400),
        }
    }

    /// Logs server-side rejections at most once every 10 s.
    fn log_rejections(&self, rejected: u64, errors: &[String]) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let last = self.rejections_logged.load(Ordering::Relaxed);
        if now >= last + 10
            && self
                .rejections_logged
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let shown: Vec<&str> = errors.iter().take(3).map(String::as_str).collect();
            tracing::warn!(rejected, reasons = ?shown, "ledger exporter: the server rejected records (logged at most every 10 s)");
        }
    }
}

#[async_trait]
impl Exporter for LedgerExporter {
    async fn export(&self, batch: &Batch) -> Result<ExportOutcome, ExportError> {
        // Before any await: the place in line is the order of the calls.
        let ticket = self.order.as_ref().map(Order::ticket);
        if self.config.fetch_settings {
            self.first_settings
                .get_or_init(|| async {
                    let _ = self.refresh_settings().await;
                })
                .await;
        }
        let settings = self.settings();
        let max = self
            .config
            .max_batch_size
            .min(settings.constraints.max_batch_size)
            .max(1);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let gzip = self.config.compression == Compression::Gzip;
        let encoded = encode::encode(batch, max, &settings.constraints, now, gzip)?;
        self.metrics.truncated.add(encoded.truncated as u64);
        if let Some(t) = &ticket {
            t.turn().await;
        }
        let (mut sent, mut rejected) = (0u64, 0u64);
        for (i, chunk) in encoded.chunks.iter().enumerate() {
            let mut wait = Duration::from_secs(1);
            loop {
                match self.send(chunk).await {
                    Step::Done {
                        accepted,
                        rejected: r,
                    } => {
                        sent += accepted;
                        rejected += r;
                        break;
                    }
                    Step::Permanent => {
                        rejected += chunk.entries as u64;
                        break;
                    }
                    // Nothing delivered and no turn to keep: the harness
                    // retries the batch.
                    Step::Retry(e) if i == 0 && ticket.is_none() => return Err(e),
                    // Part delivered, or our turn: finish here, so nothing
                    // is sent twice or out of order.
                    Step::Retry(e) => {
                        self.metrics.retries.inc();
                        let after = match &e {
                            ExportError::Retryable { after, .. } => *after,
                            ExportError::Permanent { .. } => None,
                        };
                        tracing::warn!(error = %e, "ledger exporter: a request failed; retrying it in its turn");
                        // A paused or closed gate does the waiting (and the
                        // probing) itself; otherwise back off here.
                        if self.gate.hold() == Hold::Open {
                            tokio::time::sleep(after.unwrap_or(wait)).await;
                            wait = (wait * 2).min(Duration::from_secs(30));
                        }
                    }
                }
            }
        }
        let sent = sent as usize;
        Ok(if rejected > 0 {
            ExportOutcome::partial(sent, rejected as usize, "rejected by Ledger")
        } else {
            ExportOutcome::delivered(sent)
        })
    }

    fn timer(&self) -> Option<Duration> {
        self.config
            .fetch_settings
            .then_some(self.config.settings_refresh)
    }

    async fn on_timer(&self) -> Result<(), ComponentError> {
        let _ = self.refresh_settings().await;
        Ok(())
    }
}
