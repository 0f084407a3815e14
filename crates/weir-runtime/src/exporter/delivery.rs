//! Delivering one batch: call the exporter, retry retryable failures with
//! jittered backoff (never sooner than Retry-After), count the outcome.
//!
//! Per batch (never per record) it records the batch's size in items and
//! bytes, each call's duration, and on success the end-to-end latency from
//! the batch's arrival in weir (`BatchMeta::received_at`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use weir_core::telemetry::{
    BATCH_BYTES_BUCKETS, BATCH_ITEMS_BUCKETS, ComponentTelemetry, Counter, DURATION_BUCKETS,
    Histogram, LATENCY_BUCKETS, names, reasons,
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
    batch_items: Histogram,
    batch_bytes: Histogram,
    end_to_end: Histogram,
}

impl SignalCounters {
    fn new(telemetry: &ComponentTelemetry, s: Signal) -> Self {
        let histogram = |name, bounds| telemetry.histogram(name, Some(s), &[], bounds);
        SignalCounters {
            sent: telemetry.counter(names::EXPORTER_SENT_ITEMS, Some(s), &[]),
            retries: telemetry.counter(names::EXPORTER_RETRIES, Some(s), &[]),
            duration: histogram(names::EXPORTER_SEND_DURATION, DURATION_BUCKETS),
            batch_items: histogram(names::EXPORTER_BATCH_SIZE_ITEMS, BATCH_ITEMS_BUCKETS),
            batch_bytes: histogram(names::EXPORTER_BATCH_SIZE_BYTES, BATCH_BYTES_BUCKETS),
            end_to_end: histogram(names::EXPORTER_END_TO_END_LATENCY, LATENCY_BUCKETS),
        }
    }
}

/// Shared by every in-flight delivery of one exporter.
pub struct Deliverer {
    exporter: Arc<dyn Exporter>,
    retry: RetrySettings,
    telemetry: ComponentTelemetry,
    load: ExporterLoad,
    abort: Shutdown,
    counters: [SignalCounters; 3],
    /// Items delivered, all signals: the run summary's count, kept here
    /// because metric handles read 0 when metrics are off.
    delivered: AtomicU64,
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
        let counters = Signal::ALL.map(|s| SignalCounters::new(&telemetry, s));
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
            delivered: AtomicU64::new(0),
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

    /// Items delivered so far, all signals (right with metrics off too).
    pub fn sent(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
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
        counters.batch_items.observe(items as f64);
        if counters.batch_bytes.is_enabled() {
            // Known without work while the received bytes are held or the
            // edge measured the batch; skipped with metrics off.
            counters.batch_bytes.observe(batch.size_bytes() as f64);
        }
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
                    self.delivered
                        .fetch_add(outcome.sent as u64, Ordering::Relaxed);
                    counters
                        .end_to_end
                        .observe(batch.meta().received_at.elapsed().as_secs_f64());
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

#[cfg(test)]
mod tests {
    use super::*;
    use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use weir_core::telemetry::{Kind, Metric, MetricsRegistry};
    use weir_core::{BatchMeta, ExportOutcome, async_trait};

    struct Accepting;

    #[async_trait]
    impl Exporter for Accepting {
        async fn export(&self, batch: &Batch) -> Result<ExportOutcome, ExportError> {
            Ok(ExportOutcome::delivered(batch.items()))
        }
    }

    /// A deliverer, and the trigger of its abort (a dropped trigger fires).
    fn deliverer(registry: &MetricsRegistry) -> (Deliverer, weir_core::ShutdownTrigger) {
        let telemetry = ComponentTelemetry::new(registry.clone(), "sink", Kind::Exporter);
        let (trigger, abort) = Shutdown::new();
        let d = Deliverer::new(
            Arc::new(Accepting),
            RetrySettings::default(),
            telemetry,
            ExporterLoad::new(),
            abort,
            1,
        );
        (d, trigger)
    }

    /// `n` log records that arrived `age` ago.
    fn batch(n: usize, age: Duration) -> Batch {
        let records = vec![LogRecord::default(); n];
        let rl = ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut meta = BatchMeta::default();
        meta.received_at = std::time::Instant::now() - age;
        Batch::logs(vec![rl], meta)
    }

    fn histogram(
        registry: &MetricsRegistry,
        name: &str,
    ) -> weir_core::telemetry::HistogramSnapshot {
        registry
            .snapshot()
            .into_iter()
            .find_map(|s| match s.metric {
                Metric::Histogram(h)
                    if s.name == name && s.labels.contains(&("signal", "logs".into())) =>
                {
                    Some(h.snapshot())
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("no {name}"))
    }

    #[tokio::test]
    async fn each_batch_records_its_size_and_end_to_end_latency() {
        let registry = MetricsRegistry::new();
        let (d, _abort) = deliverer(&registry);
        let b = batch(700, Duration::from_secs(2));
        let bytes = b.size_bytes() as f64;
        assert!(matches!(d.deliver(&b).await, Delivery::Delivered));
        assert!(matches!(
            d.deliver(&batch(5, Duration::ZERO)).await,
            Delivery::Delivered
        ));
        assert_eq!(d.sent(), 705);

        let items = histogram(&registry, names::EXPORTER_BATCH_SIZE_ITEMS);
        assert_eq!((items.count, items.sum), (2, 705.0));
        let at_512 = BATCH_ITEMS_BUCKETS
            .iter()
            .position(|b| *b == 512.0)
            .unwrap();
        assert_eq!(items.cumulative[at_512], 1, "700 is above 512");
        let size = histogram(&registry, names::EXPORTER_BATCH_SIZE_BYTES);
        assert_eq!(size.count, 2);
        assert!(size.sum >= bytes && bytes > 0.0, "{} vs {bytes}", size.sum);
        let e2e = histogram(&registry, names::EXPORTER_END_TO_END_LATENCY);
        assert_eq!(e2e.count, 2);
        assert!(e2e.sum >= 2.0 && e2e.sum < 60.0, "{}", e2e.sum);
        let under_1s = LATENCY_BUCKETS.iter().position(|b| *b == 1.0).unwrap();
        assert_eq!(e2e.cumulative[under_1s], 1, "one fresh, one 2 s old");
        assert_eq!(histogram(&registry, names::EXPORTER_SEND_DURATION).count, 2);
    }

    #[tokio::test]
    async fn with_metrics_off_nothing_is_recorded_but_sent_still_counts() {
        let registry = MetricsRegistry::disabled();
        let (d, _abort) = deliverer(&registry);
        for _ in 0..3 {
            assert!(matches!(
                d.deliver(&batch(10, Duration::ZERO)).await,
                Delivery::Delivered
            ));
        }
        assert_eq!(d.sent(), 30, "the run summary's delivered count");
        assert!(registry.snapshot().is_empty());
    }
}
