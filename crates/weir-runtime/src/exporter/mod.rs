//! The exporter harness: one task per exporter that takes batches from its
//! bounded queue, calls the exporter, retries retryable failures with jittered
//! backoff, counts outcomes, and at the shutdown deadline counts what it has to
//! abandon.

mod backoff;
pub mod settings;

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;
use weir_core::telemetry::{
    ComponentTelemetry, Counter, DURATION_BUCKETS, Histogram, names, reasons,
};
use weir_core::{Batch, ExportError, Exporter, Shutdown, Signal};

use crate::channel::EdgeReceiver;
use crate::timer::ComponentTimer;
use backoff::Backoff;
use settings::RetrySettings;

/// What an exporter task reports when it ends.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExporterReport {
    /// Items delivered.
    pub sent: u64,
    /// Items given up on at the shutdown deadline.
    pub abandoned: u64,
}

struct SignalCounters {
    sent: Counter,
    retries: Counter,
    duration: Histogram,
}

/// Runs one exporter until its queue closes (all upstream tasks ended).
pub struct ExporterTask {
    exporter: Box<dyn Exporter>,
    queue: EdgeReceiver,
    retry: RetrySettings,
    telemetry: ComponentTelemetry,
    /// Fires at the shutdown deadline: stop retrying, abandon what is left.
    abort: Shutdown,
    counters: [SignalCounters; 3],
    failed: HashMap<(Signal, String), Counter>,
}

enum Delivery {
    Done,
    Abandoned,
}

impl ExporterTask {
    /// A task for `exporter` reading `queue`.
    pub fn new(
        exporter: Box<dyn Exporter>,
        queue: EdgeReceiver,
        retry: RetrySettings,
        telemetry: ComponentTelemetry,
        abort: Shutdown,
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
        ExporterTask {
            exporter,
            queue,
            retry,
            telemetry,
            abort,
            counters,
            failed: HashMap::new(),
        }
    }

    fn fail(&mut self, signal: Signal, reason: &str, items: usize) {
        let telemetry = &self.telemetry;
        self.failed
            .entry((signal, reason.to_string()))
            .or_insert_with(|| {
                telemetry.counter(
                    names::EXPORTER_FAILED_ITEMS,
                    Some(signal),
                    &[("reason", reason)],
                )
            })
            .add(items as u64);
    }

    /// Runs until the queue is closed and empty.
    pub async fn run(mut self) -> ExporterReport {
        let mut report = ExporterReport::default();
        let mut ticker = ComponentTimer::new(self.exporter.timer());
        loop {
            let batch = tokio::select! {
                biased;
                _ = ticker.tick() => {
                    if let Err(e) = self.exporter.on_timer().await {
                        tracing::warn!(component = self.telemetry.component(), error = %e, "exporter timer failed");
                    }
                    continue;
                }
                b = self.queue.recv() => b,
            };
            let Some(batch) = batch else { break };
            let items = batch.items();
            match self.deliver(&batch).await {
                Delivery::Done => {}
                Delivery::Abandoned => {
                    report.abandoned += items as u64;
                    self.fail(batch.signal(), reasons::ABANDONED, items);
                    report.abandoned += self.abandon_rest().await;
                    break;
                }
            }
        }
        report.sent = self.counters.iter().map(|c| c.sent.get()).sum();
        if let Err(e) = self.exporter.shutdown().await {
            tracing::error!(component = self.telemetry.component(), error = %e, "exporter shutdown failed");
        }
        report
    }

    /// Counts everything still coming as abandoned, until upstream closes.
    async fn abandon_rest(&mut self) -> u64 {
        let mut n = 0;
        while let Some(b) = self.queue.recv().await {
            n += b.items() as u64;
            self.fail(b.signal(), reasons::ABANDONED, b.items());
        }
        if n > 0 {
            tracing::error!(
                component = self.telemetry.component(),
                items = n,
                "shutdown deadline passed: abandoned queued items"
            );
        }
        n
    }

    async fn deliver(&mut self, batch: &Batch) -> Delivery {
        let signal = batch.signal();
        let items = batch.items();
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
            self.counters[signal.index()]
                .duration
                .observe(t0.elapsed().as_secs_f64());
            let err = match result {
                Ok(outcome) => {
                    self.counters[signal.index()].sent.add(outcome.sent as u64);
                    if outcome.rejected > 0 {
                        tracing::warn!(
                            component = self.telemetry.component(),
                            rejected = outcome.rejected,
                            message = outcome.message.as_deref().unwrap_or(""),
                            "destination rejected part of a batch"
                        );
                        self.fail(signal, reasons::PARTIAL, outcome.rejected);
                    }
                    return Delivery::Done;
                }
                Err(e) => e,
            };
            let after = match &err {
                ExportError::Permanent { .. } => {
                    tracing::error!(component = self.telemetry.component(), items, error = %err, "export failed for good; dropping batch");
                    self.fail(signal, err.reason(), items);
                    return Delivery::Done;
                }
                ExportError::Retryable { after, .. } => *after,
            };
            let elapsed = started.elapsed();
            let budget = self.retry.max_elapsed;
            if !self.retry.enabled || (!budget.is_zero() && elapsed >= budget) {
                tracing::error!(component = self.telemetry.component(), items, error = %err, "retries exhausted; dropping batch");
                self.fail(signal, reasons::RETRIES_EXHAUSTED, items);
                return Delivery::Done;
            }
            let wait = backoff.next_wait(after);
            tracing::warn!(component = self.telemetry.component(), error = %err, wait = ?wait, "export failed; will retry");
            self.counters[signal.index()].retries.inc();
            tokio::select! {
                biased;
                _ = self.abort.wait() => return Delivery::Abandoned,
                _ = tokio::time::sleep(wait.min(Duration::from_secs(3600))) => {}
            }
        }
    }
}
