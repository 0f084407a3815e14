//! The exporter harness: one task per exporter that takes batches from its
//! queue (the in-memory edge, or a disk spool fed by it), keeps up to its
//! adaptive concurrency limit of deliveries going (each retried with jittered
//! backoff), counts outcomes, settles the clients' acknowledgements, and at the
//! shutdown deadline counts what it has to abandon (or leaves it in the spool).

mod backoff;
mod concurrency;
mod delivery;
pub mod disk_queue;
pub mod settings;
mod turns;

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tracing::Instrument;
use weir_core::telemetry::{ComponentTelemetry, reasons};
use weir_core::{Batch, ComponentError, ComponentHealth, Exporter, ExporterLoad, Shutdown, Signal};

use opentelemetry_sdk::trace::SdkTracer;

use crate::channel::EdgeReceiver;
use crate::spool::Seq;
use crate::timer::ComponentTimer;
use delivery::{Deliverer, Delivery};
use disk_queue::{DiskQueue, SpoolAcker};
use settings::{HarnessSettings, QueueStorage};
use turns::{Turn, Turns};

/// What an exporter task reports when it ends.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExporterReport {
    /// Items delivered.
    pub sent: u64,
    /// Items given up on at the shutdown deadline.
    pub abandoned: u64,
}

/// Where an exporter's batches wait.
enum Source {
    Memory(EdgeReceiver),
    Disk(DiskQueue),
}

impl Source {
    /// The next batch (with its spool sequence number on disk); cancel-safe.
    async fn next(&mut self) -> Option<(Option<Seq>, Batch)> {
        match self {
            Source::Memory(q) => q.recv().await.map(|b| (None, b)),
            Source::Disk(q) => q.next().await.map(|(seq, b)| (Some(seq), b)),
        }
    }
}

/// How one in-flight delivery ended, for the task loop.
struct Finished {
    delivery: Delivery,
    signal: Signal,
    items: usize,
}

/// Runs one exporter until its queue closes (all upstream tasks ended).
pub struct ExporterTask {
    exporter: Arc<dyn Exporter>,
    source: Source,
    deliverer: Arc<Deliverer>,
    /// Traces each delivery (`service.telemetry.traces.otlp`).
    tracer: Option<ExportTracer>,
    /// Says when the destination keeps failing; see [`ExporterTask::reporting`].
    health: DeliveryHealth,
}

/// The harness's report on a destination, for `/readyz`: unhealthy once a
/// batch has been failing for longer than `unready_after` (the retry
/// backoff's ceiling, `retry.max`) or was given up after `retry.max_elapsed`;
/// healthy again at the next delivery.
#[derive(Clone)]
struct DeliveryHealth {
    health: ComponentHealth,
    unready_after: Duration,
}

impl ExporterTask {
    /// A task for `exporter` reading `queue` (through a disk spool when the
    /// settings ask for one, opened here), reporting its sends to `load` (the
    /// queue reports its own fill); `abort` fires at the shutdown deadline
    /// (stop retrying; abandon what is left, or leave it in the spool).
    pub fn new(
        exporter: Box<dyn Exporter>,
        queue: EdgeReceiver,
        settings: &HarnessSettings,
        telemetry: ComponentTelemetry,
        load: ExporterLoad,
        abort: Shutdown,
    ) -> Result<Self, ComponentError> {
        let exporter: Arc<dyn Exporter> = Arc::from(exporter);
        // The exporter may know it cannot take concurrent calls (a file).
        let max_in_flight = settings
            .max_in_flight
            .min(exporter.max_in_flight().unwrap_or(usize::MAX))
            .max(1);
        let source = match settings.queue.storage {
            QueueStorage::Memory => Source::Memory(queue),
            QueueStorage::Disk => Source::Disk(DiskQueue::open(
                &settings.queue,
                queue,
                telemetry.clone(),
                load.clone(),
                abort.clone(),
            )?),
        };
        let deliverer = Arc::new(Deliverer::new(
            exporter.clone(),
            settings.retry.clone(),
            telemetry,
            load,
            abort,
            max_in_flight,
        ));
        Ok(ExporterTask {
            exporter,
            source,
            deliverer,
            tracer: None,
            health: DeliveryHealth {
                health: ComponentHealth::detached(),
                unready_after: settings.retry.max.max(Duration::from_secs(1)),
            },
        })
    }

    /// The same task, reporting a destination that keeps failing to `health`.
    pub fn reporting(mut self, health: ComponentHealth) -> Self {
        self.health.health = health;
        self
    }

    /// The same task, tracing each delivery with `tracer` when there is one.
    pub fn traced(mut self, tracer: Option<SdkTracer>) -> Self {
        // The component's id as a span attribute, made once and shared (an
        // `Arc`), not allocated per batch.
        let component: opentelemetry::StringValue =
            Arc::<str>::from(self.deliverer.component()).into();
        self.tracer = tracer.map(|tracer| ExportTracer { tracer, component });
        self
    }

    /// Runs until the queue is closed and empty and nothing is in flight.
    pub async fn run(mut self) -> ExporterReport {
        let mut report = ExporterReport::default();
        let mut ticker = ComponentTimer::new(self.exporter.timer());
        let mut in_flight: JoinSet<Finished> = JoinSet::new();
        let acker = match &self.source {
            Source::Disk(q) => Some(q.acker()),
            Source::Memory(_) => None,
        };
        let mut turns = Turns::new();
        let mut queue_open = true;
        let mut abandoning = false;
        while queue_open || !in_flight.is_empty() {
            let room = in_flight.len() < self.deliverer.concurrency_limit();
            tokio::select! {
                biased;
                // Finish deliveries before taking more: backpressure by construction.
                Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                    match done {
                        Ok(Finished { delivery: Delivery::Abandoned, signal, items }) => {
                            abandoning = true;
                            if acker.is_none() {
                                report.abandoned += items as u64;
                                self.deliverer.fail(signal, reasons::ABANDONED, items);
                            }
                        }
                        Ok(_) => {}
                        Err(e) => tracing::error!(component = self.deliverer.component(), error = %e, "export task panicked"),
                    }
                }
                _ = ticker.tick() => {
                    if let Err(e) = self.exporter.on_timer().await {
                        tracing::warn!(component = self.deliverer.component(), error = %e, "exporter timer failed");
                    }
                }
                b = self.source.next(), if queue_open && !abandoning && room => {
                    match b {
                        Some((seq, batch)) => {
                            // The turn is taken here, in queue order: the calls start in it.
                            let d = deliver(self.deliverer.clone(), acker.clone(), self.health.clone(), turns.take(), seq, batch);
                            // In the exporter's span: the exporter's own log lines carry its id.
                            in_flight.spawn(traced(self.tracer.clone(), d).in_current_span());
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
        if let Source::Disk(q) = &mut self.source {
            q.close().await;
        }
        report.sent = self.deliverer.sent();
        if let Err(e) = self.exporter.shutdown().await {
            tracing::error!(component = self.deliverer.component(), error = %e, "exporter shutdown failed");
        }
        report
    }

    /// At the shutdown deadline: a memory queue counts everything still coming
    /// as abandoned, until upstream closes; a disk queue spools it.
    async fn abandon_rest(&mut self) -> u64 {
        let q = match &mut self.source {
            Source::Memory(q) => q,
            Source::Disk(q) => {
                q.close().await;
                return 0;
            }
        };
        let mut n = 0;
        while let Some(mut b) = q.recv().await {
            n += b.items() as u64;
            self.deliverer
                .fail(b.signal(), reasons::ABANDONED, b.items());
            b.meta_mut().acks.fail(reasons::ABANDONED);
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

/// The tracer of export spans and the exporter's id to put on them.
#[derive(Clone)]
struct ExportTracer {
    tracer: SdkTracer,
    component: opentelemetry::StringValue,
}

/// Runs `delivery` inside a `weir.export` span when tracing is on: the
/// component, signal, items and how it ended.
async fn traced(
    tracer: Option<ExportTracer>,
    delivery: impl Future<Output = Finished>,
) -> Finished {
    use opentelemetry::KeyValue;
    use opentelemetry::trace::{Span as _, SpanKind, Status, Tracer as _};
    let Some(ExportTracer { tracer, component }) = tracer else {
        return delivery.await;
    };
    let mut span = tracer
        .span_builder("weir.export")
        .with_kind(SpanKind::Client)
        .start(&tracer);
    let finished = delivery.await;
    let outcome = match finished.delivery {
        Delivery::Delivered => "delivered",
        Delivery::Failed(reason) => reason,
        Delivery::Abandoned => reasons::ABANDONED,
    };
    span.set_attributes([
        KeyValue::new("weir.component", component),
        KeyValue::new("weir.signal", finished.signal.as_str()),
        KeyValue::new("weir.items", finished.items as i64),
        KeyValue::new("weir.outcome", outcome),
    ]);
    if !matches!(finished.delivery, Delivery::Delivered) {
        span.set_status(Status::error(outcome));
    }
    span.end();
    finished
}

/// Delivers one batch and settles it: the clients' acknowledgements (a disk
/// queue settled them when it spooled the batch) and the spool record.
async fn deliver(
    deliverer: Arc<Deliverer>,
    acker: Option<SpoolAcker>,
    health: DeliveryHealth,
    turn: Turn,
    seq: Option<Seq>,
    mut batch: Batch,
) -> Finished {
    let delivery = {
        let attempt = turn.run(deliverer.deliver(&batch));
        tokio::pin!(attempt);
        tokio::select! {
            d = &mut attempt => d,
            _ = tokio::time::sleep(health.unready_after) => {
                health.health.set_unhealthy(format!(
                    "a batch has failed to deliver for over {:?} and is still being retried; \
                     the destination is down or refusing (see the log and weir_exporter_retries_total)",
                    health.unready_after
                ));
                attempt.await
            }
        }
    };
    match delivery {
        Delivery::Delivered => health.health.set_healthy(),
        Delivery::Failed(reasons::RETRIES_EXHAUSTED) => health.health.set_unhealthy(
            "gave up on a batch after retry.max_elapsed: the destination is down or refusing",
        ),
        // A permanent refusal is about that batch, not the destination.
        Delivery::Failed(_) | Delivery::Abandoned => {}
    }
    let acks = &mut batch.meta_mut().acks;
    match delivery {
        Delivery::Delivered => acks.succeed(),
        Delivery::Failed(reason) => acks.fail(reason),
        Delivery::Abandoned => acks.fail(reasons::ABANDONED),
    }
    if let (Some(acker), Some(seq)) = (&acker, seq) {
        // Failed for good counts as done too: it was counted, and replaying
        // it after a restart would only fail again.
        if !matches!(delivery, Delivery::Abandoned) {
            acker.ack(seq).await;
        }
    }
    Finished {
        delivery,
        signal: batch.signal(),
        items: batch.items(),
    }
}
