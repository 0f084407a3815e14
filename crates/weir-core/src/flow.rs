//! How batches leave a component: [`Output`] for receivers, [`Emitter`] for
//! processors, both over a [`BatchSink`] the runtime provides (a bounded channel
//! or a fan-out), plus the [`Shutdown`] signal.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::telemetry::{ComponentTelemetry, Counter, names, reasons};
use crate::{Batch, ComponentError, Signal};

/// Why a batch was not sent. The batch comes back, so the caller decides what
/// to answer its client.
#[derive(Debug)]
pub enum SendError {
    /// The downstream stayed full until the deadline.
    Full(Batch),
    /// The downstream is gone (the pipeline is shutting down).
    Closed(Batch),
    /// No pipeline takes this batch's signal from this component.
    NoRoute(Batch),
}

impl SendError {
    /// Gives the batch back.
    pub fn into_batch(self) -> Batch {
        match self {
            SendError::Full(b) | SendError::Closed(b) | SendError::NoRoute(b) => b,
        }
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Full(_) => f.write_str("pipeline full"),
            SendError::Closed(_) => f.write_str("pipeline closed"),
            SendError::NoRoute(b) => write!(f, "no pipeline takes {}", b.signal()),
        }
    }
}

impl std::error::Error for SendError {}

/// Where batches go next: implemented by the runtime's channels and fan-outs, and
/// by test collectors. Waiting for room is the backpressure contract.
#[async_trait]
pub trait BatchSink: Send + Sync {
    /// Sends `batch`, waiting for room until `deadline` (forever when `None`).
    async fn send(&self, batch: Batch, deadline: Option<Instant>) -> Result<(), SendError>;
}

struct Route {
    sink: Arc<dyn BatchSink>,
    accepted: Counter,
    refused_full: Counter,
    refused_closed: Counter,
}

/// A receiver's way into its pipelines, by signal. Cheap to clone: hand one to
/// each connection task. Counts accepted and refused items itself.
#[derive(Clone)]
pub struct Output {
    routes: Arc<[Option<Route>; 3]>,
}

impl Output {
    /// An output that sends each signal to its sink, counting into `telemetry`.
    pub fn new(
        telemetry: &ComponentTelemetry,
        sinks: impl IntoIterator<Item = (Signal, Arc<dyn BatchSink>)>,
    ) -> Self {
        let mut routes: [Option<Route>; 3] = [None, None, None];
        for (signal, sink) in sinks {
            routes[signal.index()] = Some(Route {
                sink,
                accepted: telemetry.counter(names::RECEIVER_ACCEPTED_ITEMS, Some(signal), &[]),
                refused_full: telemetry.refused_items(signal, reasons::BACKPRESSURE),
                refused_closed: telemetry.refused_items(signal, reasons::SHUTDOWN),
            });
        }
        Output {
            routes: Arc::new(routes),
        }
    }

    /// Whether some pipeline takes `signal` from this receiver.
    pub fn accepts(&self, signal: Signal) -> bool {
        self.routes[signal.index()].is_some()
    }

    /// The signals some pipeline takes from this receiver.
    pub fn signals(&self) -> Vec<Signal> {
        Signal::ALL
            .into_iter()
            .filter(|s| self.accepts(*s))
            .collect()
    }

    /// Sends, waiting as long as the pipeline is full (stdin-style backpressure).
    pub async fn send(&self, batch: Batch) -> Result<(), SendError> {
        self.send_until(batch, None).await
    }

    /// Sends, waiting at most `timeout` for room (network receivers: refuse with a
    /// retryable answer after that).
    pub async fn send_timeout(&self, batch: Batch, timeout: Duration) -> Result<(), SendError> {
        self.send_until(batch, Some(Instant::now() + timeout)).await
    }

    /// Sends, waiting for room until `deadline` (forever when `None`).
    pub async fn send_until(
        &self,
        batch: Batch,
        deadline: Option<Instant>,
    ) -> Result<(), SendError> {
        let Some(route) = &self.routes[batch.signal().index()] else {
            return Err(SendError::NoRoute(batch));
        };
        let n = batch.items() as u64;
        match route.sink.send(batch, deadline).await {
            Ok(()) => {
                route.accepted.add(n);
                Ok(())
            }
            Err(e) => {
                match &e {
                    SendError::Full(_) => route.refused_full.add(n),
                    SendError::Closed(_) => route.refused_closed.add(n),
                    SendError::NoRoute(_) => {}
                }
                Err(e)
            }
        }
    }
}

/// A processor's way to pass batches on. Counts sent items; skips empty batches.
pub struct Emitter {
    sink: Arc<dyn BatchSink>,
    sent: Counter,
}

impl Emitter {
    /// An emitter into `sink`, counting emitted items into `sent`.
    pub fn new(sink: Arc<dyn BatchSink>, sent: Counter) -> Self {
        Emitter { sink, sent }
    }

    /// Passes `batch` downstream, waiting while it is full. An error means the
    /// pipeline is shutting down abnormally and the batch is lost; return it.
    pub async fn emit(&mut self, mut batch: Batch) -> Result<(), ComponentError> {
        batch.settle();
        let n = batch.items() as u64;
        if n == 0 {
            return Ok(());
        }
        if let Err(e) = self.sink.send(batch, None).await {
            let message = format!("cannot emit {n} items: {e}");
            // The data is lost: the requests it came from must not be told
            // it was delivered (a dropped token would count as success).
            e.into_batch().meta_mut().acks.fail(reasons::SHUTDOWN);
            return Err(ComponentError::new(message));
        }
        self.sent.add(n);
        Ok(())
    }
}

/// The stop signal a component watches. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

/// Fires the [`Shutdown`] signal of every clone at once.
#[derive(Debug)]
pub struct ShutdownTrigger(watch::Sender<bool>);

impl Shutdown {
    /// A new signal and the trigger that fires it.
    pub fn new() -> (ShutdownTrigger, Shutdown) {
        let (tx, rx) = watch::channel(false);
        (ShutdownTrigger(tx), Shutdown(rx))
    }

    /// Whether shutdown was asked for.
    pub fn is_triggered(&self) -> bool {
        *self.0.borrow()
    }

    /// Completes when shutdown is asked for (at once if it already was).
    pub async fn wait(&self) {
        let mut rx = self.0.clone();
        // An Err means the trigger was dropped: treat that as shutdown too.
        let _ = rx.wait_for(|v| *v).await;
    }
}

impl ShutdownTrigger {
    /// Asks every holder of the signal to stop.
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }

    /// Whether it already fired.
    pub fn is_triggered(&self) -> bool {
        *self.0.borrow()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BatchMeta;
    use crate::ack::{AckFailure, ack_pair};
    use crate::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};

    struct Closed;

    #[async_trait]
    impl BatchSink for Closed {
        async fn send(&self, batch: Batch, _: Option<Instant>) -> Result<(), SendError> {
            Err(SendError::Closed(batch))
        }
    }

    #[tokio::test]
    async fn a_batch_that_cannot_be_emitted_fails_its_requests() {
        let (token, waiter) = ack_pair();
        let batch = Batch::logs(
            vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord::default()],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            BatchMeta::default().with_ack(token),
        );
        let mut out = Emitter::new(Arc::new(Closed), Counter::detached());
        assert!(out.emit(batch).await.is_err());
        assert_eq!(waiter.wait().await, Err(AckFailure(reasons::SHUTDOWN)));
    }
}
