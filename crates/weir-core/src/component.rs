//! The component traits: [`Receiver`], [`Processor`], [`Exporter`], their
//! factories, and the contexts the runtime hands them.

use std::net::SocketAddr;
use std::time::Duration;

use async_trait::async_trait;

use crate::downstream::Downstream;
use crate::flow::{Emitter, Output, Shutdown};
use crate::health::ComponentHealth;
use crate::memory::MemoryBudget;
use crate::telemetry::{ComponentTelemetry, Kind};
use crate::{
    Batch, ComponentConfig, ComponentError, ComponentId, ConfigError, ExportError, ExportOutcome,
    Signal,
};

/// What a factory knows when it builds a component.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BuildContext {
    /// The component's id in the pipeline file.
    pub id: ComponentId,
    /// The signals of the pipelines it is used in.
    pub signals: Vec<Signal>,
    /// Its telemetry handle: register drop counters and custom series here.
    pub telemetry: ComponentTelemetry,
    /// For processors: the load of the exporters their pipeline ends in
    /// (empty for other kinds, and in tests unless set).
    pub downstream: Downstream,
    /// Where it reports its health for `/readyz` (detached in tests unless set).
    pub health: ComponentHealth,
}

impl BuildContext {
    /// A context for component `id` used in `signals`.
    pub fn new(id: ComponentId, signals: Vec<Signal>, telemetry: ComponentTelemetry) -> Self {
        BuildContext {
            id,
            signals,
            telemetry,
            downstream: Downstream::none(),
            health: ComponentHealth::detached(),
        }
    }

    /// The same context, reporting health to `health`.
    pub fn with_health(mut self, health: ComponentHealth) -> Self {
        self.health = health;
        self
    }

    /// The same context, reporting `downstream` to the component.
    pub fn with_downstream(mut self, downstream: Downstream) -> Self {
        self.downstream = downstream;
        self
    }

    /// A context with detached telemetry (tests and examples).
    pub fn for_test(id: &str, kind: Kind, signals: &[Signal]) -> Self {
        let id: ComponentId = id.parse().expect("valid component id");
        let telemetry = ComponentTelemetry::detached(&id.to_string(), kind);
        BuildContext::new(id, signals.to_vec(), telemetry)
    }
}

/// What a running receiver gets.
#[non_exhaustive]
pub struct ReceiverContext {
    /// Where its batches go, by signal.
    pub output: Output,
    /// Fires when the receiver must stop taking data.
    pub shutdown: Shutdown,
    /// Its telemetry handle.
    pub telemetry: ComponentTelemetry,
    /// The process's memory budget (`service.memory_limit`): while it
    /// [is over](MemoryBudget::is_over), refuse requests with a retryable
    /// answer before reading them, or read slower. Unlimited unless set.
    pub memory: MemoryBudget,
}

impl ReceiverContext {
    /// The context a runtime (or a test) hands to [`Receiver::run`], with an
    /// unlimited memory budget.
    pub fn new(output: Output, shutdown: Shutdown, telemetry: ComponentTelemetry) -> Self {
        ReceiverContext {
            output,
            shutdown,
            telemetry,
            memory: MemoryBudget::unlimited(),
        }
    }

    /// The same context, under `memory`.
    pub fn with_memory(mut self, memory: MemoryBudget) -> Self {
        self.memory = memory;
        self
    }
}

/// Builds receivers of one type.
pub trait ReceiverFactory: Send + Sync {
    /// The type name used in the pipeline file, e.g. `otlp`.
    fn type_name(&self) -> &'static str;
    /// One line saying what it does (shown by `weir components`).
    fn description(&self) -> &'static str;
    /// The signals it can produce.
    fn signals(&self) -> &'static [Signal];
    /// Parses `cfg` and builds the receiver. Must not bind sockets or start I/O:
    /// `weir validate` builds every component too.
    fn build(
        &self,
        cfg: &ComponentConfig,
        cx: &BuildContext,
    ) -> Result<Box<dyn Receiver>, ConfigError>;

    /// Its config as a JSON Schema, for `weir schema` and the generated
    /// reference (`weir components --markdown`): usually
    /// [`schema::for_config`](crate::schema::for_config) of the config struct
    /// that `build` parses. Default: `None` (undescribed: any mapping passes).
    fn config_schema(&self) -> Option<crate::schema::Schema> {
        None
    }
}

/// A source of telemetry. One instance serves every pipeline that names it.
#[async_trait]
pub trait Receiver: Send {
    /// Addresses it will listen on, so the runtime can refuse two listeners on
    /// one address before anything binds.
    fn endpoints(&self) -> Vec<SocketAddr> {
        Vec::new()
    }

    /// Runs until `cx.shutdown` fires or the source ends. Returning `Ok` before
    /// shutdown (stdin at EOF) tells the runtime the input is exhausted, and the
    /// whole service drains and stops.
    async fn run(self: Box<Self>, cx: ReceiverContext) -> Result<(), ComponentError>;
}

/// Builds processors of one type. A processor is built once per pipeline.
pub trait ProcessorFactory: Send + Sync {
    /// The type name used in the pipeline file, e.g. `sample`.
    fn type_name(&self) -> &'static str;
    /// One line saying what it does.
    fn description(&self) -> &'static str;
    /// The signals it can handle.
    fn signals(&self) -> &'static [Signal];
    /// Parses `cfg` and builds one instance for one pipeline.
    fn build(
        &self,
        cfg: &ComponentConfig,
        cx: &BuildContext,
    ) -> Result<Box<dyn Processor>, ConfigError>;

    /// Its config as a JSON Schema, for `weir schema` and the generated
    /// reference (`weir components --markdown`): usually
    /// [`schema::for_config`](crate::schema::for_config) of the config struct
    /// that `build` parses. Default: `None` (undescribed: any mapping passes).
    fn config_schema(&self) -> Option<crate::schema::Schema> {
        None
    }
}

/// Transforms batches. Runs as its own task; never block inside it (hand CPU-heavy
/// work to `tokio::task::spawn_blocking`).
#[async_trait]
pub trait Processor: Send {
    /// Handles one batch, emitting zero or more batches. Items it drops on purpose
    /// must be counted on a counter from [`ComponentTelemetry::dropped_items`].
    async fn process(&mut self, batch: Batch, out: &mut Emitter) -> Result<(), ComponentError>;

    /// Asks for [`Processor::on_timer`] calls at this period.
    fn timer(&self) -> Option<Duration> {
        None
    }

    /// Called every [`Processor::timer`] period.
    async fn on_timer(&mut self, _out: &mut Emitter) -> Result<(), ComponentError> {
        Ok(())
    }

    /// Called once at shutdown after the last batch: emit whatever is held.
    async fn flush(&mut self, _out: &mut Emitter) -> Result<(), ComponentError> {
        Ok(())
    }
}

/// Builds exporters of one type.
pub trait ExporterFactory: Send + Sync {
    /// The type name used in the pipeline file, e.g. `file`.
    fn type_name(&self) -> &'static str;
    /// One line saying what it does.
    fn description(&self) -> &'static str;
    /// The signals it can send.
    fn signals(&self) -> &'static [Signal];
    /// Parses `cfg` and builds the exporter. Must not open connections or files
    /// (`weir validate` builds every component); do that lazily on first export.
    fn build(
        &self,
        cfg: &ComponentConfig,
        cx: &BuildContext,
    ) -> Result<Box<dyn Exporter>, ConfigError>;

    /// Its config as a JSON Schema, for `weir schema` and the generated
    /// reference (`weir components --markdown`): usually
    /// [`schema::for_config`](crate::schema::for_config) of the config struct
    /// that `build` parses. Default: `None` (undescribed: any mapping passes).
    fn config_schema(&self) -> Option<crate::schema::Schema> {
        None
    }

    /// Whether the harness should retry this exporter's batches until they are
    /// delivered unless the config says otherwise (`retry.max_elapsed: 0`),
    /// for destinations where giving up would lose what the client trusted
    /// weir to keep. Default: no (the harness's 5-minute budget).
    fn retries_until_delivered(&self) -> bool {
        false
    }
}

/// Delivers batches to a destination. One instance serves every pipeline that
/// names it. The runtime's harness owns queueing, retries, concurrency, timeouts
/// and the standard metrics; the exporter only says what happened.
#[async_trait]
pub trait Exporter: Send + Sync {
    /// Delivers one batch. The batch is borrowed so a retry needs no copy; forward
    /// [`Batch::received_bytes`] when the destination takes them as they are.
    async fn export(&self, batch: &Batch) -> Result<ExportOutcome, ExportError>;

    /// The most export calls this exporter can take at once; `None` leaves it to
    /// the harness's `max_in_flight` (default 4). A file writer says `Some(1)`.
    fn max_in_flight(&self) -> Option<usize> {
        None
    }

    /// Asks for [`Exporter::on_timer`] calls at this period (e.g. a flush interval).
    fn timer(&self) -> Option<Duration> {
        None
    }

    /// Called every [`Exporter::timer`] period, between exports.
    async fn on_timer(&self) -> Result<(), ComponentError> {
        Ok(())
    }

    /// Called once after the last export: flush and close.
    async fn shutdown(&self) -> Result<(), ComponentError> {
        Ok(())
    }
}
