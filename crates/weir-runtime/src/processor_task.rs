//! The task that runs one processor of one pipeline.

use weir_core::telemetry::{ComponentTelemetry, names, reasons};
use weir_core::{Emitter, Processor, Signal};

use crate::channel::EdgeReceiver;
use crate::timer::ComponentTimer;

/// Runs `processor` over every batch of `input` until it closes, then flushes.
/// Returns whether it ended without errors.
pub async fn run_processor(
    mut processor: Box<dyn Processor>,
    mut input: EdgeReceiver,
    mut out: Emitter,
    telemetry: ComponentTelemetry,
    signal: Signal,
) -> bool {
    let received = telemetry.counter(names::PROCESSOR_RECEIVED_ITEMS, Some(signal), &[]);
    let mut ok = true;
    let mut ticker = ComponentTimer::new(processor.timer());
    loop {
        let batch = tokio::select! {
            biased;
            _ = ticker.tick() => {
                if let Err(e) = processor.on_timer(&mut out).await {
                    ok = false;
                    tracing::error!(component = telemetry.component(), error = %e, "processor timer failed");
                }
                continue;
            }
            b = input.recv() => b,
        };
        let Some(batch) = batch else { break };
        received.add(batch.items() as u64);
        // The processor takes the batch; a copy of its tokens (none unless a
        // receiver asked for acknowledgements) lets a failure reach the
        // requests instead of reading as delivered when the batch is dropped.
        let mut acks = batch.meta().acks.clone();
        if let Err(e) = processor.process(batch, &mut out).await {
            ok = false;
            acks.fail(reasons::COMPONENT_ERROR);
            tracing::error!(component = telemetry.component(), error = %e, "processor failed on a batch");
        }
        drop(acks);
    }
    if let Err(e) = processor.flush(&mut out).await {
        ok = false;
        tracing::error!(component = telemetry.component(), error = %e, "processor flush failed");
    }
    ok
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use weir_core::ack::{AckFailure, ack_pair};
    use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use weir_core::telemetry::{Counter, Gauge, Kind};
    use weir_core::testing::CollectSink;
    use weir_core::{Batch, BatchMeta, BatchSink, ComponentError, async_trait};

    use super::*;
    use crate::channel::edge;

    /// Passes batches on, or fails on the ones marked `fail`.
    struct Picky;

    #[async_trait]
    impl Processor for Picky {
        async fn process(&mut self, batch: Batch, out: &mut Emitter) -> Result<(), ComponentError> {
            if batch.meta().receiver.as_deref() == Some("fail") {
                return Err(ComponentError::new("cannot"));
            }
            out.emit(batch).await
        }
    }

    #[tokio::test]
    async fn a_batch_the_processor_fails_on_fails_its_requests() {
        let (tx, rx) = edge(4, 1 << 20, Gauge::detached());
        let sink = CollectSink::new();
        let out = Emitter::new(std::sync::Arc::new(sink.clone()), Counter::detached());
        let telemetry = ComponentTelemetry::detached("picky", Kind::Processor);
        let task = tokio::spawn(run_processor(
            Box::new(Picky),
            rx,
            out,
            telemetry,
            Signal::Logs,
        ));
        let mut waiters = Vec::new();
        for receiver in ["fail", "pass"] {
            let (token, waiter) = ack_pair();
            let meta = BatchMeta::from_receiver(receiver.into()).with_ack(token);
            let logs = vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord::default()],
                    ..Default::default()
                }],
                ..Default::default()
            }];
            tx.send(Batch::logs(logs, meta), None).await.unwrap();
            waiters.push(waiter);
        }
        drop(tx);
        assert!(!task.await.unwrap(), "the failure is reported");
        drop(sink.take());
        let mut outcomes = Vec::new();
        for w in waiters {
            outcomes.push(
                tokio::time::timeout(Duration::from_secs(5), w.wait())
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(
            outcomes,
            [Err(AckFailure(reasons::COMPONENT_ERROR)), Ok(())]
        );
    }
}
