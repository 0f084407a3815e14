//! The task that runs one processor of one pipeline.

use tokio::time::Instant;
use weir_core::telemetry::{ComponentTelemetry, names};
use weir_core::{Emitter, Processor, Signal};

use crate::channel::EdgeReceiver;

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
    let mut ticker = processor.timer().map(|p| {
        let mut t = tokio::time::interval_at(Instant::now() + p, p);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    loop {
        let batch = tokio::select! {
            biased;
            _ = async { ticker.as_mut().expect("guarded").tick().await }, if ticker.is_some() => {
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
        if let Err(e) = processor.process(batch, &mut out).await {
            ok = false;
            tracing::error!(component = telemetry.component(), error = %e, "processor failed on a batch");
        }
    }
    if let Err(e) = processor.flush(&mut out).await {
        ok = false;
        tracing::error!(component = telemetry.component(), error = %e, "processor flush failed");
    }
    ok
}
