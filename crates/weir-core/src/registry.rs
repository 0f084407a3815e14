//! [`Registry`]: the component factories a binary knows, by type name.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::Signal;
use crate::component::{ExporterFactory, ProcessorFactory, ReceiverFactory};
use crate::telemetry::Kind;

/// The factories of one weir binary. `weir::Distribution` fills it with the
/// built-in components; custom builds add their own.
#[derive(Clone, Default)]
pub struct Registry {
    receivers: BTreeMap<&'static str, Arc<dyn ReceiverFactory>>,
    processors: BTreeMap<&'static str, Arc<dyn ProcessorFactory>>,
    exporters: BTreeMap<&'static str, Arc<dyn ExporterFactory>>,
}

/// A line of `weir components`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentInfo {
    /// Receiver, processor or exporter.
    pub kind: Kind,
    /// The type name used in pipeline files.
    pub type_name: &'static str,
    /// The signals it supports.
    pub signals: &'static [Signal],
    /// One line saying what it does.
    pub description: &'static str,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a receiver factory.
    pub fn add_receiver(&mut self, f: impl ReceiverFactory + 'static) -> &mut Self {
        self.receivers.insert(f.type_name(), Arc::new(f));
        self
    }

    /// Adds (or replaces) a processor factory.
    pub fn add_processor(&mut self, f: impl ProcessorFactory + 'static) -> &mut Self {
        self.processors.insert(f.type_name(), Arc::new(f));
        self
    }

    /// Adds (or replaces) an exporter factory.
    pub fn add_exporter(&mut self, f: impl ExporterFactory + 'static) -> &mut Self {
        self.exporters.insert(f.type_name(), Arc::new(f));
        self
    }

    /// The receiver factory for `type_name`.
    pub fn receiver(&self, type_name: &str) -> Option<&Arc<dyn ReceiverFactory>> {
        self.receivers.get(type_name)
    }

    /// The processor factory for `type_name`.
    pub fn processor(&self, type_name: &str) -> Option<&Arc<dyn ProcessorFactory>> {
        self.processors.get(type_name)
    }

    /// The exporter factory for `type_name`.
    pub fn exporter(&self, type_name: &str) -> Option<&Arc<dyn ExporterFactory>> {
        self.exporters.get(type_name)
    }

    /// Type names known for `kind`, sorted (for "expected one of" messages).
    pub fn type_names(&self, kind: Kind) -> Vec<&'static str> {
        match kind {
            Kind::Receiver => self.receivers.keys().copied().collect(),
            Kind::Processor => self.processors.keys().copied().collect(),
            Kind::Exporter => self.exporters.keys().copied().collect(),
            Kind::Channel => Vec::new(),
        }
    }

    /// Every registered component, receivers first, each kind sorted by name.
    pub fn components(&self) -> Vec<ComponentInfo> {
        let r = self.receivers.values().map(|f| ComponentInfo {
            kind: Kind::Receiver,
            type_name: f.type_name(),
            signals: f.signals(),
            description: f.description(),
        });
        let p = self.processors.values().map(|f| ComponentInfo {
            kind: Kind::Processor,
            type_name: f.type_name(),
            signals: f.signals(),
            description: f.description(),
        });
        let e = self.exporters.values().map(|f| ComponentInfo {
            kind: Kind::Exporter,
            type_name: f.type_name(),
            signals: f.signals(),
            description: f.description(),
        });
        r.chain(p).chain(e).collect()
    }
}
