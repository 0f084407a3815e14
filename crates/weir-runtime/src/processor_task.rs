//! The task that runs one processor of one pipeline.

use weir_core::telemetry::{ComponentTelemetry, names};
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
