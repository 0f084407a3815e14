//! Delivering one batch: call the exporter, retry retryable failures with
//! jittered backoff (never sooner than Retry-After), count the outcome.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use weir_core::telemetry::{
    ComponentTelemetry, Counter, DURATION_BUCKETS, Histogram, names, reasons,
};
use weir_core::{Batch, ExportError, Exporter, ExporterLoad, Shutdown, Signal};

use super::backoff::Backoff;
use super::concurrency::AdaptiveConcurrency;
use super::settings::RetrySettings;

/// How a delivery ended.
pub enum Delivery {
    /// Delivered (items the destination rejected as invalid are counted).
    Delivered,
    /// Given up on for good, and counted, for this reason.
    Failed(&'static str),
    /// The shutdown deadline came first; the caller counts the items.
    Abandoned,
}

struct SignalCounters {
    sent: Counter,
    retries: Counter,
    duration: Histogram,
}

/// Shared by every in-flight delivery of one exporter.
pub struct Deliverer {
    exporter: Arc<dyn Exporter>,
    retry: RetrySettings,
    telemetry: ComponentTelemetry,
    load: ExporterLoad,
    abort: Shutdown,
    counters: [SignalCounters; 3],
    concurrency: Mutex<AdaptiveConcurrency>,
}

impl Deliverer {
    /// A deliverer for `exporter` that reports each call to `load` and to its
    /// adaptive concurrency (at most `max_in_flight`); `abort` fires at the
    /// shutdown deadline.
    pub fn new(
        exporter: Arc<dyn Exporter>,
        retry: RetrySettings,
        telemetry: ComponentTelemetry,
        load: ExporterLoad,
        abort: Shutdown,
        max_in_flight: usize,
    ) -> Self {
        let counters = Signal::ALL.map(|s| SignalCounters {
            sent: telemetry.counter(names::EXPORTER_SENT_ITEMS, Some(s), &[]),
            retries: telemetry.counter(names::EXPORTER_RETRIES, Some(s), &[]),
            duration: telemetry.histogram(
                names::EXPORTER_SEND_DURATION,
                Some(s),
                &[],
                DURATION_BUCKETS,
            ),
        });
        let concurrency = AdaptiveConcurrency::new(
            max_in_flight,
            telemetry.gauge(names::EXPORTER_CONCURRENCY_LIMIT, None, &[]),
            load.clone(),
        );
        Deliverer {
            exporter,
            retry,
            telemetry,
            load,
            abort,
            counters,
            concurrency: Mutex::new(concurrency),
        }
    }

    /// Export calls that may be in flight now (adaptive concurrency).
    pub fn concurrency_limit(&self) -> usize {
        self.concurrency.lock().map_or(1, |c| c.limit())
    }

    /// The component id, for logs.
    pub fn component(&self) -> &str {
        self.telemetry.component()
    }

    /// Items delivered so far, all signals.
    pub fn sent(&self) -> u64 {
        self.counters.iter().map(|c| c.sent.get()).sum()
    }

    /// Counts `items` as failed for `reason`. Failures are rare, so looking the
    /// series up (a short lock) here is fine.
    pub fn fail(&self, signal: Signal, reason: &str, items: usize) {
        self.telemetry
            .counter(
                names::EXPORTER_FAILED_ITEMS,
                Some(signal),
                &[("reason", reason)],
            )
            .add(items as u64);
    }

    /// Delivers `batch`, retrying as configured, until done or the deadline.
    pub async fn deliver(&self, batch: &Batch) -> Delivery {
        let signal = batch.signal();
        let items = batch.items();
        let counters = &self.counters[signal.index()];
        let started = Instant::now();
        let mut backoff = Backoff::new(&self.retry);
        loop {
            if self.abort.is_triggered() {
                return Delivery::Abandoned;
            }
            let t0 = Instant::now();
            let result = tokio::select! {
                biased;
                _ = self.abort.wait() => return Delivery::Abandoned,
                r = self.exporter.export(batch) => r,
            };
            let round_trip = t0.elapsed();
            counters.duration.observe(round_trip.as_secs_f64());
            let throttled = matches!(result, Err(ExportError::Retryable { .. }));
            self.load.record_send(round_trip, throttled);
            if let Ok(mut c) = self.concurrency.lock() {
                c.record(round_trip, throttled);
            }
            let err = match result {
                Ok(outcome) => {
                    counters.sent.add(outcome.sent as u64);
                    if outcome.rejected > 0 {
                        tracing::warn!(
                            component = self.component(),
                            rejected = outcome.rejected,
                            message = outcome.message.as_deref().unwrap_or(""),
                            "destination rejected part of a batch"
                        );
                        self.fail(signal, reasons::PARTIAL, outcome.rejected);
                    }
                    return Delivery::Delivered;
                }
                Err(e) => e,
            };
            let after = match &err {
                ExportError::Permanent { .. } => {
                    tracing::error!(component = self.component(), items, error = %err, "export failed for good; dropping batch");
                    self.fail(signal, err.reason(), items);
                    return Delivery::Failed(reasons::PERMANENT);
                }
                ExportError::Retryable { after, .. } => *after,
            };
            let budget = self.retry.max_elapsed;
            if !self.retry.enabled || (!budget.is_zero() && started.elapsed() >= budget) {
                tracing::error!(component = self.component(), items, error = %err, "retries exhausted; dropping batch");
                self.fail(signal, reasons::RETRIES_EXHAUSTED, items);
                return Delivery::Failed(reasons::RETRIES_EXHAUSTED);
            }
            let wait = backoff.next_wait(after);
            tracing::warn!(component = self.component(), error = %err, wait = ?wait, "export failed; will retry");
            counters.retries.inc();
            tokio::select! {
                biased;
                _ = self.abort.wait() => return Delivery::Abandoned,
                _ = tokio::time::sleep(wait.min(Duration::from_secs(3600))) => {}
            }
        }
    }
}
