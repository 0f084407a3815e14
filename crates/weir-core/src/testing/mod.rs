//! Testing components without a runtime.
//!
//! - **Data in one line**: [`logs`], [`spans`] and [`metrics`] make a
//!   [`Batch`] from strings, or from builders ([`log`], [`span`], [`gauge`],
//!   [`sum`]) that add attributes, severity, ids and a resource; [`kv`] makes
//!   one attribute.
//! - **A processor run as the runtime runs it**: [`ProcessorHarness`] builds
//!   it from its factory and YAML with detached telemetry, feeds it batches,
//!   moves the tokio clock to fire its timer, flushes it, and reads its
//!   counters back ([`ProcessorHarness::dropped`], [`ProcessorHarness::counter`]).
//! - **Assertions on the output**: [`Emitted`] reads bodies, attributes,
//!   span and metric names of what came out; [`attr`] and [`attr_str`] read
//!   one attribute.
//! - [`CollectSink`]: a sink that keeps every batch, for driving a processor
//!   (or a receiver's [`crate::Output`]) by hand.
//!
//! ```
//! use std::time::Duration;
//! use weir_core::testing::{ProcessorHarness, log, logs};
//! # use weir_core::{*, telemetry::{Counter, reasons}};
//! # #[derive(serde::Deserialize)] #[serde(deny_unknown_fields)]
//! # struct Cfg { min: i32 }
//! # struct MinSeverity { min: i32, dropped: Counter }
//! # #[async_trait]
//! # impl Processor for MinSeverity {
//! #     async fn process(&mut self, mut batch: Batch, out: &mut Emitter) -> Result<(), ComponentError> {
//! #         for rl in batch.logs_mut()? { for sl in &mut rl.scope_logs {
//! #             let before = sl.log_records.len();
//! #             sl.log_records.retain(|r| r.severity_number >= self.min);
//! #             self.dropped.add((before - sl.log_records.len()) as u64);
//! #         }}
//! #         out.emit(batch).await
//! #     }
//! # }
//! # struct MinSeverityFactory;
//! # impl ProcessorFactory for MinSeverityFactory {
//! #     fn type_name(&self) -> &'static str { "min_severity" }
//! #     fn description(&self) -> &'static str { "drops records below a severity" }
//! #     fn signals(&self) -> &'static [Signal] { &[Signal::Logs] }
//! #     fn build(&self, cfg: &ComponentConfig, cx: &BuildContext) -> Result<Box<dyn Processor>, ConfigError> {
//! #         let c: Cfg = cfg.parse()?;
//! #         Ok(Box::new(MinSeverity { min: c.min, dropped: cx.telemetry.dropped_items(Signal::Logs, "below_min_severity") }))
//! #     }
//! # }
//! // #[tokio::test(start_paused = true)]
//! async fn drops_what_is_below_the_minimum() {
//!     let mut h = ProcessorHarness::new(&MinSeverityFactory, "min: 13");
//!     let out = h
//!         .process(logs([log("disk almost full").severity(13), log("tick").severity(9)]))
//!         .await
//!         .unwrap();
//!     assert_eq!(out.bodies(), ["disk almost full"]);
//!     assert_eq!(h.dropped("below_min_severity"), 1);
//!     assert_eq!(h.received_items(), 2);
//!     assert_eq!(h.sent_items(), 1);
//! }
//! # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true)
//! #     .build().unwrap().block_on(drops_what_is_below_the_minimum());
//! ```
//!
//! Tests that move time need a paused tokio clock:
//! `#[tokio::test(start_paused = true)]`, with tokio's `test-util` feature in
//! the dev-dependencies (see [`ProcessorHarness`]).

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::time::Instant;

use crate::Batch;
use crate::flow::{BatchSink, Emitter, SendError};
use crate::telemetry::Counter;

mod build;
mod emitted;
mod harness;
#[cfg(test)]
mod tests;
mod value;

pub use build::{
    LogBuilder, MetricBuilder, SpanBuilder, gauge, log, logs, metrics, span, spans, sum,
};
pub use emitted::Emitted;
pub use harness::ProcessorHarness;
pub use value::{IntoAnyValue, attr, attr_str, kv};

/// A [`BatchSink`] that keeps every batch sent to it.
///
/// ```
/// use weir_core::testing::{CollectSink, logs};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let sink = CollectSink::new();
/// sink.emitter().emit(logs(["a", "b"])).await.unwrap();
/// assert_eq!(sink.items(), 2);
/// assert_eq!(sink.take().len(), 1);
/// # });
/// ```
#[derive(Clone, Default)]
pub struct CollectSink {
    batches: Arc<Mutex<Vec<Batch>>>,
}

impl CollectSink {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// An [`Emitter`] that emits into this collector.
    pub fn emitter(&self) -> Emitter {
        Emitter::new(Arc::new(self.clone()), Counter::detached())
    }

    /// Takes the batches collected so far.
    pub fn take(&self) -> Vec<Batch> {
        std::mem::take(&mut *self.batches.lock().expect("collector poisoned"))
    }

    /// Takes the batches collected so far, ready for assertions.
    pub fn take_emitted(&self) -> Emitted {
        self.take().into()
    }

    /// Items collected so far.
    pub fn items(&self) -> usize {
        self.batches
            .lock()
            .expect("collector poisoned")
            .iter()
            .map(Batch::items)
            .sum()
    }
}

#[async_trait]
impl BatchSink for CollectSink {
    async fn send(&self, batch: Batch, _deadline: Option<Instant>) -> Result<(), SendError> {
        self.batches.lock().expect("collector poisoned").push(batch);
        Ok(())
    }
}
