//! The exporter harness: one task per exporter that takes batches from its
//! bounded queue, keeps up to `max_in_flight` deliveries going (each retried with
//! jittered backoff), counts outcomes, and at the shutdown deadline counts what
//! it has to abandon.

mod backoff;
mod delivery;
pub mod settings;

use std::sync::Arc;

use tokio::task::JoinSet;
use weir_core::telemetry::{ComponentTelemetry, reasons};
use weir_core::{Exporter, ExporterLoad, Shutdown};

use crate::channel::EdgeReceiver;
use crate::timer::ComponentTimer;
use delivery::{Deliverer, Delivery};
use settings::HarnessSettings;

/// What an exporter task reports when it ends.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExporterReport {
    /// Items delivered.
    pub sent: u64,
    /// Items given up on at the shutdown deadline.
    pub abandoned: u64,
}

/// Runs one exporter until its queue closes (all upstream tasks ended).
pub struct ExporterTask {
    exporter: Arc<dyn Exporter>,
    queue: EdgeReceiver,
    deliverer: Arc<Deliverer>,
    max_in_flight: usize,
}

impl ExporterTask {
    /// A task for `exporter` reading `queue`, reporting its sends to `load`
    /// (the queue reports its own fill); `abort` fires at the shutdown
    /// deadline (stop retrying, abandon what is left).
    pub fn new(
        exporter: Box<dyn Exporter>,
        queue: EdgeReceiver,
        settings: &HarnessSettings,
        telemetry: ComponentTelemetry,
        load: ExporterLoad,
        abort: Shutdown,
    ) -> Self {
        let exporter: Arc<dyn Exporter> = Arc::from(exporter);
        // The exporter may know it cannot take concurrent calls (a file).
        let max_in_flight = settings
            .max_in_flight
            .min(exporter.max_in_flight().unwrap_or(usize::MAX))
            .max(1);
        let deliverer = Arc::new(Deliverer::new(
            exporter.clone(),
            settings.retry.clone(),
            telemetry,
            load,
            abort,
        ));
        ExporterTask {
            exporter,
            queue,
            deliverer,
            max_in_flight,
        }
    }

    /// Runs until the queue is closed and empty and nothing is in flight.
    pub async fn run(mut self) -> ExporterReport {
        let mut report = ExporterReport::default();
        let mut ticker = ComponentTimer::new(self.exporter.timer());
        let mut in_flight: JoinSet<(Delivery, weir_core::Signal, usize)> = JoinSet::new();
        let mut queue_open = true;
        let mut abandoning = false;
        while queue_open || !in_flight.is_empty() {
            tokio::select! {
                biased;
                // Finish deliveries before taking more: backpressure by construction.
                Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                    match done {
                        Ok((Delivery::Done, _, _)) => {}
                        Ok((Delivery::Abandoned, signal, items)) => {
                            abandoning = true;
                            report.abandoned += items as u64;
                            self.deliverer.fail(signal, reasons::ABANDONED, items);
                        }
                        Err(e) => tracing::error!(component = self.deliverer.component(), error = %e, "export task panicked"),
                    }
                }
                _ = ticker.tick() => {
                    if let Err(e) = self.exporter.on_timer().await {
                        tracing::warn!(component = self.deliverer.component(), error = %e, "exporter timer failed");
                    }
                }
                b = self.queue.recv(), if queue_open && !abandoning && in_flight.len() < self.max_in_flight => {
                    match b {
                        Some(batch) => {
                            let d = self.deliverer.clone();
                            in_flight.spawn(async move {
                                let delivery = d.deliver(&batch).await;
                                (delivery, batch.signal(), batch.items())
                            });
                        }
                        None => queue_open = false,
                    }
                }
                else => break,
            }
            if abandoning && in_flight.is_empty() {
                report.abandoned += self.abandon_rest().await;
                queue_open = false;
            }
        }
        report.sent = self.deliverer.sent();
        if let Err(e) = self.exporter.shutdown().await {
            tracing::error!(component = self.deliverer.component(), error = %e, "exporter shutdown failed");
        }
        report
    }

    /// Counts everything still coming as abandoned, until upstream closes.
    async fn abandon_rest(&mut self) -> u64 {
        let mut n = 0;
        while let Some(b) = self.queue.recv().await {
            n += b.items() as u64;
            self.deliverer
                .fail(b.signal(), reasons::ABANDONED, b.items());
        }
        if n > 0 {
            tracing::error!(
                component = self.deliverer.component(),
                items = n,
                "shutdown deadline passed: abandoned queued items"
            );
        }
        n
    }
}
