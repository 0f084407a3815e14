//! # weir-core: the plugin API of weir
//!
//! weir is a telemetry pipeline runtime. A pipeline file names **receivers**,
//! **processors** and **exporters**; the runtime builds each from its factory, runs
//! each as its own task and joins them with bounded channels. This crate is all a
//! plugin crate needs:
//!
//! - [`Batch`]: one signal's OTLP data (`opentelemetry-proto` types), decoded
//!   lazily from the bytes a receiver got, plus [`BatchMeta`].
//! - [`Receiver`], [`Processor`], [`Exporter`] and their factories, collected in a
//!   [`Registry`].
//! - [`Output`] and [`Emitter`], through which batches move on, and [`Shutdown`].
//! - [`ComponentConfig`] (typed configs via serde) and [`ConfigError`].
//! - [`telemetry`]: atomic counters registered under the standard names.
//! - [`Downstream`]: what the runtime reports to a processor about the exporters
//!   its pipeline ends in (send latency, queue fill, throttling).
//! - [`schema`]: a factory's config described as a JSON Schema (with
//!   [`schemars`](schema::schemars), re-exported), for `weir schema` and the
//!   generated reference.
//! - [`ack`]: delivery acknowledgements, and [`memory`]: the process's memory
//!   budget that receivers respect.
//! - [`testing`]: batches in one line, a harness that runs a processor as the
//!   runtime does (its timer under a paused clock, its counters read back),
//!   and readers of the output for assertions.
//!
//! Components never touch channels, timers or metrics registries directly: the
//! runtime hands them what they need. A custom binary adds its factories to
//! the built-in ones with `weir::Distribution` (the `weir` crate) and keeps the
//! whole CLI. `docs/plugins.md` in the repository is the tutorial, with the
//! rules components follow and what this crate promises to keep stable;
//! `examples/custom-processor` is a complete plugin crate.
//!
//! ## A processor, end to end
//!
//! ```
//! use async_trait::async_trait;
//! use serde::Deserialize;
//! use weir_core::telemetry::Counter;
//! use weir_core::testing::{ProcessorHarness, log, logs};
//! use weir_core::{
//!     Batch, BuildContext, ComponentConfig, ComponentError, ConfigError, Emitter, Processor,
//!     ProcessorFactory, Signal,
//! };
//!
//! /// Drops log records below a severity number.
//! #[derive(Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct MinSeverityConfig {
//!     /// Lowest severity number kept (OTLP numbering: 9 is INFO).
//!     #[serde(default = "default_min")]
//!     min: i32,
//! }
//! fn default_min() -> i32 { 9 }
//!
//! struct MinSeverity { min: i32, dropped: Counter }
//!
//! #[async_trait]
//! impl Processor for MinSeverity {
//!     async fn process(&mut self, mut batch: Batch, out: &mut Emitter) -> Result<(), ComponentError> {
//!         let mut dropped = 0;
//!         for rl in batch.logs_mut()? {
//!             for sl in &mut rl.scope_logs {
//!                 let before = sl.log_records.len();
//!                 sl.log_records.retain(|r| r.severity_number >= self.min);
//!                 dropped += before - sl.log_records.len();
//!             }
//!         }
//!         self.dropped.add(dropped as u64);
//!         out.emit(batch).await
//!     }
//! }
//!
//! struct MinSeverityFactory;
//! impl ProcessorFactory for MinSeverityFactory {
//!     fn type_name(&self) -> &'static str { "min_severity" }
//!     fn description(&self) -> &'static str { "drops log records below a severity" }
//!     fn signals(&self) -> &'static [Signal] { &[Signal::Logs] }
//!     fn build(&self, cfg: &ComponentConfig, cx: &BuildContext)
//!         -> Result<Box<dyn Processor>, ConfigError> {
//!         let c: MinSeverityConfig = cfg.parse()?;
//!         let dropped = cx.telemetry.dropped_items(Signal::Logs, "below_min_severity");
//!         Ok(Box::new(MinSeverity { min: c.min, dropped }))
//!     }
//! }
//!
//! // Its test, with `weir_core::testing`: in a test crate this body is an
//! // `async fn` under #[tokio::test(start_paused = true)].
//! # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true)
//! #     .build().unwrap().block_on(async {
//! let mut h = ProcessorHarness::new(&MinSeverityFactory, "min: 13");
//! let out = h
//!     .process(logs([log("tick").severity(9), log("disk full").severity(17)]))
//!     .await
//!     .unwrap();
//! assert_eq!(out.bodies(), ["disk full"]);
//! assert_eq!(h.dropped("below_min_severity"), 1);
//! # });
//!
//! // Its binary (depending on the `weir` crate):
//! // fn main() { weir::Distribution::builtin().processor(MinSeverityFactory).main() }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ack;
mod batch;
mod component;
mod config;
mod downstream;
mod error;
mod flow;
mod health;
pub mod memory;
mod registry;
pub mod schema;
mod signal;
pub mod telemetry;
pub mod testing;
mod units;

pub use batch::{
    Batch, BatchError, BatchMeta, ClientInfo, ContentEncoding, SignalData, data_points,
};
pub use component::{
    BuildContext, Exporter, ExporterFactory, Processor, ProcessorFactory, Receiver,
    ReceiverContext, ReceiverFactory,
};
pub use config::{ComponentConfig, ComponentId, ConfigError};
pub use downstream::{Downstream, ExporterLoad};
pub use error::{ComponentError, ExportError, ExportOutcome};
pub use flow::{BatchSink, Emitter, Output, SendError, Shutdown, ShutdownTrigger};
pub use health::{ComponentHealth, HealthRegistry};
pub use registry::{ComponentInfo, Registry};
pub use signal::Signal;
pub use units::ByteSize;

/// Re-exported so plugin crates implement the traits with the same macro version.
pub use async_trait::async_trait;
/// Re-exported for [`Batch::received_bytes`] and friends.
pub use bytes;
/// The OTLP types batches are made of, re-exported so plugins use the same version.
pub use opentelemetry_proto::tonic as otlp;
