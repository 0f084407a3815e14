//! The `adaptive_batch` processor: merges incoming batches into compact ones
//! and sends them when they are full or have waited long enough, where "long
//! enough" adapts to the traffic and to the downstream.
//!
//! - A batch leaves when it reaches `max_items`, when the next record would
//!   take it over `max_bytes` (encoded size), or when its oldest record has
//!   waited the current delay target, whichever comes first. No batch leaves
//!   over either limit, except a single record larger than `max_bytes` alone.
//! - Records that share a resource and scope (compared by value) are merged
//!   into one group, in arrival order ([`merge`]).
//! - The delay target moves between `min_delay` and `max_delay` with the
//!   arrival rate, the time `emit` waits for the downstream, and the
//!   exporters' send latency, queue fill and throttling that the runtime
//!   reports ([`controller`]); docs/processors/adaptive_batch.md has the
//!   algorithm.
//!
//! Batches from different receivers or clients are merged: the merged batch
//! keeps the earliest `received_at`, and the receiver id and client metadata
//! only when every part had the same.

mod batcher;
mod config;
mod controller;
mod merge;
mod split;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_acks;
mod wire;

use std::time::Duration;

use tokio::time::Instant;
use weir_core::telemetry::{Counter, Gauge, Histogram};
use weir_core::{
    Batch, BuildContext, ComponentConfig, ComponentError, ConfigError, Downstream, Emitter,
    Processor, ProcessorFactory, Signal, async_trait,
};

pub use config::AdaptiveBatchConfig;

use batcher::{Batcher, Ready, Reason};
use controller::{Controller, DownstreamReading};
use merge::Shape;
use wire::WireBatcher;

/// The series this processor adds to the standard ones (defined with every
/// other name in [`weir_core::telemetry::names`]).
pub mod metric_names {
    pub use weir_core::telemetry::names::{
        PROCESSOR_BATCH_DELAY_TARGET_MS as BATCH_DELAY_TARGET_MS,
        PROCESSOR_BATCH_FLUSHES as BATCH_FLUSHES, PROCESSOR_BATCH_SIZE_ITEMS as BATCH_SIZE_ITEMS,
    };
}

/// Bucket bounds of the batch size histogram, in items.
const SIZE_BOUNDS: &[f64] = &[
    1.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0, 4096.0, 8192.0, 16384.0, 65536.0,
];

/// The longest timer period: deadlines are checked at least this often.
const MAX_TICK: Duration = Duration::from_millis(5);

/// The shortest timer period.
const MIN_TICK: Duration = Duration::from_millis(1);

/// Builds `adaptive_batch` processors.
#[derive(Debug, Clone, Copy, Default)]
pub struct AdaptiveBatchProcessorFactory;

impl ProcessorFactory for AdaptiveBatchProcessorFactory {
    fn type_name(&self) -> &'static str {
        "adaptive_batch"
    }

    fn description(&self) -> &'static str {
        "merges batches by resource and scope, flushing by size or an adaptive delay"
    }

    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }

    fn config_schema(&self) -> Option<weir_core::schema::Schema> {
        Some(weir_core::schema::for_config::<AdaptiveBatchConfig>())
    }
    fn build(
        &self,
        cfg: &ComponentConfig,
        cx: &BuildContext,
    ) -> Result<Box<dyn Processor>, ConfigError> {
        Ok(Box::new(AdaptiveBatchProcessor::new(
            AdaptiveBatchConfig::from_component(cfg)?,
            cx,
        )))
    }
}

struct Telemetry {
    size: Histogram,
    flushes: [Counter; 4],
    delay_ms: Gauge,
}

/// Merges and batches records; see the [module docs](self).
pub struct AdaptiveBatchProcessor {
    logs: Batcher<merge::Logs>,
    traces: Batcher<merge::Traces>,
    metrics: Batcher<merge::Metrics>,
    /// Encoded logs and spans, batched as bytes (`wire.rs`).
    wire_logs: WireBatcher,
    wire_traces: WireBatcher,
    controller: Controller,
    downstream: Downstream,
    tick: Duration,
    ready: Vec<Ready>,
    telemetry: Telemetry,
}

impl AdaptiveBatchProcessor {
    /// A processor with a checked `config` (see
    /// [`AdaptiveBatchConfig::from_component`]).
    pub fn new(config: AdaptiveBatchConfig, cx: &BuildContext) -> Self {
        let max_bytes = config.max_bytes.as_usize();
        // One pipeline, one signal: label with it when it is known.
        let signal = match cx.signals.as_slice() {
            [s] => Some(*s),
            _ => None,
        };
        let t = &cx.telemetry;
        let telemetry = Telemetry {
            size: t.histogram(metric_names::BATCH_SIZE_ITEMS, signal, &[], SIZE_BOUNDS),
            flushes: Reason::ALL.map(|r| {
                t.counter(
                    metric_names::BATCH_FLUSHES,
                    signal,
                    &[("reason", r.as_str())],
                )
            }),
            delay_ms: t.gauge(metric_names::BATCH_DELAY_TARGET_MS, signal, &[]),
        };
        let controller = Controller::new(
            config.min_delay,
            config.target_latency,
            config.max_delay,
            config.max_items,
            max_bytes,
        );
        let downstream = cx.downstream.clone();
        telemetry.delay_ms.set(
            controller
                .delay(Instant::now(), DownstreamReading::of(&downstream))
                .as_millis() as i64,
        );
        AdaptiveBatchProcessor {
            logs: Batcher::new(config.max_items, max_bytes),
            traces: Batcher::new(config.max_items, max_bytes),
            metrics: Batcher::new(config.max_items, max_bytes),
            wire_logs: WireBatcher::new(Signal::Logs, config.max_items, max_bytes),
            wire_traces: WireBatcher::new(Signal::Traces, config.max_items, max_bytes),
            controller,
            downstream,
            tick: config.min_delay.clamp(MIN_TICK, MAX_TICK),
            ready: Vec::new(),
            telemetry,
        }
    }

    /// The current delay target.
    pub fn delay_target(&self) -> Duration {
        self.controller
            .delay(Instant::now(), DownstreamReading::of(&self.downstream))
    }

    /// Sends every pending batch whose oldest item waited the delay target.
    fn expire(&mut self, now: Instant) {
        let delay = self
            .controller
            .delay(now, DownstreamReading::of(&self.downstream));
        self.telemetry.delay_ms.set(delay.as_millis() as i64);
        let due = |since: Option<Instant>| since.is_some_and(|s| now >= s + delay);
        if due(self.logs.since()) {
            self.logs.take(Reason::Delay, &mut self.ready);
        }
        if due(self.traces.since()) {
            self.traces.take(Reason::Delay, &mut self.ready);
        }
        if due(self.metrics.since()) {
            self.metrics.take(Reason::Delay, &mut self.ready);
        }
        if due(self.wire_logs.since()) {
            self.wire_logs.take(Reason::Delay, &mut self.ready);
        }
        if due(self.wire_traces.since()) {
            self.wire_traces.take(Reason::Delay, &mut self.ready);
        }
    }

    /// Emits the batches that are ready, timing how long the downstream
    /// made each wait.
    async fn emit_ready(&mut self, out: &mut Emitter) -> Result<(), ComponentError> {
        for Ready { batch, reason } in std::mem::take(&mut self.ready) {
            self.telemetry.size.observe(batch.items() as f64);
            self.telemetry.flushes[reason.index()].inc();
            let start = Instant::now();
            out.emit(batch).await?;
            self.controller.on_emit(start.elapsed());
        }
        Ok(())
    }
}

fn unwrap<K: Shape>(data: weir_core::SignalData) -> Result<Vec<K::Res>, ComponentError> {
    K::unwrap(data).ok_or_else(|| ComponentError::new("batch data does not match its signal"))
}

#[async_trait]
impl Processor for AdaptiveBatchProcessor {
    async fn process(&mut self, batch: Batch, out: &mut Emitter) -> Result<(), ComponentError> {
        let now = Instant::now();
        self.expire(now);
        self.controller
            .on_arrival(now, batch.items(), batch.size_bytes());
        let meta = batch.meta().clone();
        let signal = batch.signal();
        // Logs and spans still in their received bytes are batched as bytes.
        // Whichever form is pending takes the input, converted if need be, so
        // records of a resource never pass each other.
        let wire = match signal {
            Signal::Logs => Some((&mut self.wire_logs, self.logs.since().is_some())),
            Signal::Traces => Some((&mut self.wire_traces, self.traces.since().is_some())),
            Signal::Metrics => None,
        };
        if let Some((wire, decoded_pending)) = wire {
            let as_bytes =
                !wire.is_empty() || (!decoded_pending && batch.received_bytes().is_some());
            if as_bytes {
                let bytes = match batch.received_bytes() {
                    Some(b) => b.clone(),
                    None => batch.to_protobuf(),
                };
                wire.add(&bytes, &meta, now, &mut self.ready)
                    .map_err(|e| ComponentError::new(format!("cannot batch {signal}: {e}")))?;
                return self.emit_ready(out).await;
            }
        }
        let data = batch.into_data()?;
        match signal {
            Signal::Logs => {
                self.logs
                    .add(unwrap::<merge::Logs>(data)?, &meta, now, &mut self.ready)
            }
            Signal::Traces => {
                self.traces
                    .add(unwrap::<merge::Traces>(data)?, &meta, now, &mut self.ready)
            }
            Signal::Metrics => {
                self.metrics
                    .add(unwrap::<merge::Metrics>(data)?, &meta, now, &mut self.ready)
            }
        }
        self.emit_ready(out).await
    }

    fn timer(&self) -> Option<Duration> {
        Some(self.tick)
    }

    async fn on_timer(&mut self, out: &mut Emitter) -> Result<(), ComponentError> {
        self.expire(Instant::now());
        self.emit_ready(out).await
    }

    async fn flush(&mut self, out: &mut Emitter) -> Result<(), ComponentError> {
        self.logs.take(Reason::Shutdown, &mut self.ready);
        self.traces.take(Reason::Shutdown, &mut self.ready);
        self.metrics.take(Reason::Shutdown, &mut self.ready);
        self.wire_logs.take(Reason::Shutdown, &mut self.ready);
        self.wire_traces.take(Reason::Shutdown, &mut self.ready);
        self.emit_ready(out).await
    }
}
