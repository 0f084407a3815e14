//! Wiring a built service into running tasks, and its lifecycle: stop receivers
//! first, let channels drain and processors flush, give exporters until
//! `shutdown_timeout` to deliver, then count what had to be abandoned.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::Instrument;
use weir_core::telemetry::names;
use weir_core::{BatchSink, ComponentId, Emitter, Output, ReceiverContext, Shutdown, Signal};

use crate::build::BuiltService;
use crate::channel::{EdgeSender, FanOut, edge, exporter_edge};
use crate::exporter::settings::QueueStorage;
use crate::exporter::{ExporterReport, ExporterTask};
use crate::processor_task::run_processor;
use crate::telemetry::otlp::SelfTelemetry;
use crate::telemetry::server::{self, Lifecycle};

/// Why a service stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// A stop was requested (SIGINT, SIGTERM, [`StopHandle::stop`]).
    Requested,
    /// Every receiver's input ended (stdin at EOF).
    InputEnded,
    /// A receiver failed; the message says which and why.
    ReceiverFailed(String),
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// Why it stopped.
    pub reason: StopReason,
    /// Items delivered by all exporters.
    pub sent: u64,
    /// Items abandoned because the shutdown deadline passed.
    pub abandoned: u64,
    /// Components that failed at some point.
    pub component_errors: usize,
}

impl RunSummary {
    /// Whether the run ended cleanly: nothing abandoned, nothing failed.
    pub fn is_clean(&self) -> bool {
        self.abandoned == 0
            && self.component_errors == 0
            && !matches!(self.reason, StopReason::ReceiverFailed(_))
    }
}

/// Asks a running service to stop: the first call drains gracefully, the second
/// abandons what is left at once.
#[derive(Debug, Clone)]
pub struct StopHandle(mpsc::UnboundedSender<()>);

impl StopHandle {
    /// Requests a stop.
    pub fn stop(&self) {
        let _ = self.0.send(());
    }
}

/// A service whose tasks are running.
pub struct RunningService {
    receivers: JoinSet<(ComponentId, Result<(), weir_core::ComponentError>)>,
    processors: JoinSet<bool>,
    exporters: JoinSet<ExporterReport>,
    stop_receivers: weir_core::ShutdownTrigger,
    abort: weir_core::ShutdownTrigger,
    stop_server: weir_core::ShutdownTrigger,
    server: Option<tokio::task::JoinHandle<()>>,
    metrics_addr: Option<SocketAddr>,
    lifecycle: Lifecycle,
    shutdown_timeout: Duration,
    stop_rx: mpsc::UnboundedReceiver<()>,
    stop_tx: mpsc::UnboundedSender<()>,
    /// weir's own metrics and traces over OTLP, flushed at the end.
    self_telemetry: SelfTelemetry,
}

/// Starts every task of `service`. Fails when the telemetry endpoint cannot
/// bind or an exporter's disk queue cannot be opened; receivers report their
/// own bind errors by ending with an error.
pub async fn start(service: BuiltService) -> std::io::Result<RunningService> {
    let BuiltService {
        config,
        receivers,
        processors,
        exporters,
        metrics,
        health,
    } = service;
    let (stop_receivers, receivers_shutdown) = Shutdown::new();
    let (abort, abort_signal) = Shutdown::new();
    let (stop_server, server_shutdown) = Shutdown::new();
    let lifecycle = Lifecycle::default();
    // service.memory_limit: sampled until the service has stopped.
    let memory = crate::memory::budget(config.memory_limit, server_shutdown.clone());

    let (metrics_addr, server) = match config.telemetry.metrics_address {
        Some(addr) => {
            let (a, h) = server::start(
                addr,
                metrics.clone(),
                lifecycle.clone(),
                health,
                server_shutdown,
            )
            .await?;
            (Some(a), Some(h))
        }
        None => (None, None),
    };
    let self_telemetry =
        SelfTelemetry::start(&config.telemetry, &metrics).map_err(std::io::Error::other)?;
    let tracer = self_telemetry.tracer();

    // Exporters: one queue each, shared by every pipeline that names them.
    let mut exporter_tasks = JoinSet::new();
    let mut exporter_inputs: HashMap<ComponentId, EdgeSender> = HashMap::new();
    for x in exporters {
        let q = &x.harness.queue;
        let gauge = x.telemetry.gauge(names::EXPORTER_QUEUE_ITEMS, None, &[]);
        x.telemetry
            .gauge(names::EXPORTER_QUEUE_CAPACITY, None, &[])
            .set(q.capacity as i64);
        // A disk queue reports its own fill (memory and spool backlog
        // together); its edge's would read empty while the spool holds plenty.
        let edge_load = match q.storage {
            QueueStorage::Memory => x.load.clone(),
            QueueStorage::Disk => weir_core::ExporterLoad::new(),
        };
        let (tx, rx) = exporter_edge(
            q.capacity,
            q.memory_bytes().as_usize(),
            gauge,
            edge_load,
            q.when_full,
            &x.telemetry,
        );
        exporter_inputs.insert(x.id.clone(), tx);
        let task = ExporterTask::new(
            x.exporter,
            rx,
            &x.harness,
            x.telemetry,
            x.load,
            abort_signal.clone(),
        )
        .map(|task| task.traced(tracer.clone()).reporting(x.delivery_health))
        .map_err(|e| std::io::Error::other(format!("exporter `{}`: {e}", x.id)))?;
        // Every log line of a component's task carries its id (span field `component`).
        exporter_tasks.spawn(
            task.run()
                .instrument(tracing::error_span!("exporter", component = %x.id)),
        );
    }

    // Pipelines, wired back to front: each processor emits into the next edge.
    let mut processor_tasks = JoinSet::new();
    let mut receiver_edges: HashMap<(ComponentId, Signal), Vec<EdgeSender>> = HashMap::new();
    for (pipeline, chain) in config.pipelines.iter().zip(processors) {
        let signal = pipeline.id.signal;
        let mut next: Vec<EdgeSender> = pipeline
            .exporters
            .iter()
            .filter_map(|id| exporter_inputs.get(id).cloned())
            .collect();
        let pid = pipeline.id.to_string();
        for p in chain.into_iter().rev() {
            let gauge =
                p.telemetry
                    .gauge(names::CHANNEL_ITEMS, Some(signal), &[("pipeline", &pid)]);
            let (tx, rx) = edge(
                pipeline.channel.capacity,
                pipeline.channel.max_bytes.as_usize(),
                gauge,
            );
            let sent = p
                .telemetry
                .counter(names::PROCESSOR_SENT_ITEMS, Some(signal), &[]);
            let emitter = Emitter::new(FanOut::new(std::mem::take(&mut next)).into_sink(), sent);
            let span = tracing::error_span!("processor", component = %p.id);
            processor_tasks.spawn(
                run_processor(p.processor, rx, emitter, p.telemetry, signal).instrument(span),
            );
            next = vec![tx];
        }
        for r in &pipeline.receivers {
            receiver_edges
                .entry((r.clone(), signal))
                .or_default()
                .extend(next.iter().cloned());
        }
    }
    // Only tasks may hold senders now, so queues close when their producers end.
    drop(exporter_inputs);

    let mut receiver_tasks = JoinSet::new();
    for r in receivers {
        let sinks: Vec<(Signal, Arc<dyn BatchSink>)> = Signal::ALL
            .into_iter()
            .filter_map(|s| {
                let edges = receiver_edges.remove(&(r.id.clone(), s))?;
                Some((s, FanOut::new(edges).into_sink()))
            })
            .collect();
        let output = Output::new(&r.telemetry, sinks);
        let cx = ReceiverContext::new(output, receivers_shutdown.clone(), r.telemetry)
            .with_memory(memory.clone());
        let id = r.id;
        let receiver = r.receiver;
        let span = tracing::error_span!("receiver", component = %id);
        receiver_tasks.spawn(async move { (id, receiver.run(cx).await) }.instrument(span));
    }
    drop(receiver_edges);

    lifecycle.set_running();
    let (stop_tx, stop_rx) = mpsc::unbounded_channel();
    Ok(RunningService {
        receivers: receiver_tasks,
        processors: processor_tasks,
        exporters: exporter_tasks,
        stop_receivers,
        abort,
        stop_server,
        server,
        metrics_addr,
        lifecycle,
        shutdown_timeout: config.shutdown_timeout,
        stop_rx,
        stop_tx,
        self_telemetry,
    })
}

impl RunningService {
    /// The bound address of the telemetry endpoint, if it is on.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// A handle that stops the service.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(self.stop_tx.clone())
    }

    /// Runs until a stop is requested or the input ends, then shuts down.
    pub async fn wait(mut self) -> RunSummary {
        let mut component_errors = 0;
        let mut reason = None;
        // Phase 1: running.
        while reason.is_none() {
            tokio::select! {
                _ = self.stop_rx.recv() => reason = Some(StopReason::Requested),
                done = self.receivers.join_next() => match done {
                    None => reason = Some(StopReason::InputEnded),
                    Some(Ok((id, Ok(())))) => {
                        tracing::info!(component = %id, "input ended; draining");
                        reason = Some(StopReason::InputEnded);
                    }
                    Some(Ok((id, Err(e)))) => {
                        tracing::error!(component = %id, error = %e, "receiver failed");
                        component_errors += 1;
                        reason = Some(StopReason::ReceiverFailed(format!("{id}: {e}")));
                    }
                    Some(Err(e)) => {
                        tracing::error!(error = %e, "receiver task panicked");
                        component_errors += 1;
                        reason = Some(StopReason::ReceiverFailed(e.to_string()));
                    }
                },
            }
        }
        // Phase 2: drain within the deadline.
        self.lifecycle.set_stopping();
        self.stop_receivers.trigger();
        let deadline = Instant::now() + self.shutdown_timeout;
        let mut aborted = false;
        let mut sent = 0;
        let mut abandoned = 0;
        loop {
            if self.receivers.is_empty() && self.processors.is_empty() && self.exporters.is_empty()
            {
                break;
            }
            tokio::select! {
                biased;
                _ = self.stop_rx.recv(), if !aborted => {
                    tracing::warn!("second stop request: abandoning undelivered data");
                    aborted = true;
                    self.abort.trigger();
                    self.receivers.abort_all();
                }
                _ = tokio::time::sleep_until(deadline), if !aborted => {
                    // Each exporter says what it had to give up (none, for a disk queue).
                    tracing::warn!(timeout = ?self.shutdown_timeout, "shutdown timeout passed: stopping deliveries; disk queues keep what is left for the next start, memory queues abandon it");
                    aborted = true;
                    self.abort.trigger();
                    // Receivers that ignore shutdown must not hold their queues open.
                    self.receivers.abort_all();
                }
                Some(r) = self.receivers.join_next() => {
                    if let Ok((id, Err(e))) = r {
                        tracing::error!(component = %id, error = %e, "receiver failed");
                        component_errors += 1;
                    }
                }
                Some(r) = self.processors.join_next() => {
                    if !matches!(r, Ok(true)) { component_errors += 1; }
                }
                Some(r) = self.exporters.join_next() => match r {
                    Ok(rep) => { sent += rep.sent; abandoned += rep.abandoned; }
                    Err(e) => { tracing::error!(error = %e, "exporter task panicked"); component_errors += 1; }
                },
                else => break,
            }
        }
        // The last push of weir's own telemetry carries the final counts.
        std::mem::take(&mut self.self_telemetry).shutdown().await;
        self.stop_server.trigger();
        if let Some(h) = self.server.take() {
            let _ = h.await;
        }
        RunSummary {
            reason: reason.expect("set in phase 1"),
            sent,
            abandoned,
            component_errors,
        }
    }
}
