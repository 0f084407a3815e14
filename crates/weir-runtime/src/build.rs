//! Building components from a loaded config: each factory parses its own config,
//! and every failure becomes a [`Diagnostic`] at the right line of the file.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use weir_core::telemetry::{ComponentTelemetry, Kind, MetricsRegistry};
use weir_core::{
    BuildContext, ComponentConfig, ComponentHealth, ComponentId, ConfigError, Downstream, Exporter,
    ExporterLoad, HealthRegistry, Processor, Receiver, Registry, Signal,
};

use crate::config::{
    ComponentEntry, Diagnostic, LoadReport, MetricsLevel, ServiceConfig, Severity,
};
use crate::exporter::settings::{HARNESS_KEYS, HarnessSettings, QueueStorage, RetrySettings};

/// A receiver ready to run.
pub struct BuiltReceiver {
    /// Its id.
    pub id: ComponentId,
    /// The receiver.
    pub receiver: Box<dyn Receiver>,
    /// Its telemetry handle.
    pub telemetry: ComponentTelemetry,
}

/// A processor instance of one pipeline.
pub struct BuiltProcessor {
    /// Its id.
    pub id: ComponentId,
    /// The instance.
    pub processor: Box<dyn Processor>,
    /// Its telemetry handle.
    pub telemetry: ComponentTelemetry,
}

/// An exporter with its harness settings.
pub struct BuiltExporter {
    /// Its id.
    pub id: ComponentId,
    /// The exporter.
    pub exporter: Box<dyn Exporter>,
    /// `queue:` and `retry:`.
    pub harness: HarnessSettings,
    /// Its telemetry handle.
    pub telemetry: ComponentTelemetry,
    /// Where the harness reports its load to the processors upstream.
    pub load: ExporterLoad,
    /// Where the harness reports a destination that keeps failing (`/readyz`).
    pub delivery_health: ComponentHealth,
}

/// Every component of a service, built and checked, not yet running.
pub struct BuiltService {
    /// The config it was built from.
    pub config: ServiceConfig,
    /// Receivers used by some pipeline.
    pub receivers: Vec<BuiltReceiver>,
    /// Processor instances, per pipeline (same order as `config.pipelines`).
    pub processors: Vec<Vec<BuiltProcessor>>,
    /// Exporters used by some pipeline.
    pub exporters: Vec<BuiltExporter>,
    /// Where every series is registered.
    pub metrics: MetricsRegistry,
    /// Where components report their health (`/readyz`).
    pub health: HealthRegistry,
}

/// Builds every component of `report`'s config. Returns the service when there
/// is no error, and all diagnostics (the report's plus the build's) in any case.
pub fn build(report: LoadReport, registry: &Registry) -> (Option<BuiltService>, Vec<Diagnostic>) {
    let mut diags = report.diagnostics;
    let Some(config) = report.config else {
        return (None, diags);
    };
    // `metrics.level: none`: handles that do nothing, an empty `/metrics`.
    let metrics = match config.telemetry.metrics_level {
        MetricsLevel::Normal => MetricsRegistry::new(),
        MetricsLevel::None => MetricsRegistry::disabled(),
    };
    let health = HealthRegistry::default();
    let mut b = Builder {
        config: &config,
        registry,
        metrics: &metrics,
        health: &health,
        diags: Vec::new(),
    };

    let mut receivers = Vec::new();
    for e in &config.receivers {
        if let Some(r) = b.receiver(e) {
            receivers.push(r);
        }
    }
    let mut exporters = Vec::new();
    for e in &config.exporters {
        if let Some(x) = b.exporter(e) {
            exporters.push(x);
        }
    }
    let mut processors = Vec::new();
    for (i, p) in config.pipelines.iter().enumerate() {
        let downstream = Downstream::new(
            exporters
                .iter()
                .filter(|x| p.exporters.contains(&x.id))
                .map(|x| x.load.clone()),
        );
        let mut chain = Vec::new();
        for id in &p.processors {
            let Some(entry) = config.processors.iter().find(|e| &e.id == id) else {
                continue; // the loader reported the unknown reference
            };
            if let Some(built) = b.processor(entry, p.id.signal, &downstream) {
                chain.push(built);
            }
        }
        debug_assert_eq!(i, processors.len());
        processors.push(chain);
    }
    b.check_listeners(&receivers);
    diags.extend(b.diags);
    diags.sort_by_key(|d| (d.location, d.severity == Severity::Warning));

    // Keep only what pipelines use; unused components were built to check them.
    let used = |id: &ComponentId, pick: fn(&crate::config::PipelineConfig) -> &Vec<ComponentId>| {
        config.pipelines.iter().any(|p| pick(p).contains(id))
    };
    receivers.retain(|r| used(&r.id, |p| &p.receivers));
    exporters.retain(|x| used(&x.id, |p| &p.exporters));

    if diags.iter().any(|d| d.severity == Severity::Error) {
        return (None, diags);
    }
    let service = BuiltService {
        config,
        receivers,
        processors,
        exporters,
        metrics,
        health,
    };
    (Some(service), diags)
}

struct Builder<'a> {
    config: &'a ServiceConfig,
    registry: &'a Registry,
    metrics: &'a MetricsRegistry,
    health: &'a HealthRegistry,
    diags: Vec<Diagnostic>,
}

impl Builder<'_> {
    fn signals_of(&self, id: &ComponentId, kind: Kind) -> Vec<Signal> {
        let set: BTreeSet<Signal> = self
            .config
            .pipelines
            .iter()
            .filter(|p| match kind {
                Kind::Receiver => p.receivers.contains(id),
                Kind::Processor => p.processors.contains(id),
                _ => p.exporters.contains(id),
            })
            .map(|p| p.id.signal)
            .collect();
        set.into_iter().collect()
    }

    fn context(&self, id: &ComponentId, kind: Kind, signals: Vec<Signal>) -> BuildContext {
        let telemetry = ComponentTelemetry::new(self.metrics.clone(), id.to_string(), kind);
        BuildContext::new(id.clone(), signals, telemetry)
            .with_health(self.health.component(&id.to_string()))
    }

    fn report(&mut self, base: &str, err: ConfigError) {
        let path = match &err.path {
            Some(p) => format!("{base}.{p}"),
            None => base.to_string(),
        };
        let d = self
            .config
            .diagnostic(Severity::Error, &path, err.message.clone());
        self.diags.push(d);
    }

    fn receiver(&mut self, e: &ComponentEntry) -> Option<BuiltReceiver> {
        let factory = self.registry.receiver(e.id.type_name())?.clone();
        let cx = self.context(
            &e.id,
            Kind::Receiver,
            self.signals_of(&e.id, Kind::Receiver),
        );
        match factory.build(&e.config, &cx) {
            Ok(receiver) => Some(BuiltReceiver {
                id: e.id.clone(),
                receiver,
                telemetry: cx.telemetry,
            }),
            Err(err) => {
                self.report(&e.path, err);
                None
            }
        }
    }

    fn processor(
        &mut self,
        e: &ComponentEntry,
        signal: Signal,
        downstream: &Downstream,
    ) -> Option<BuiltProcessor> {
        let factory = self.registry.processor(e.id.type_name())?.clone();
        let cx = self
            .context(&e.id, Kind::Processor, vec![signal])
            .with_downstream(downstream.clone());
        match factory.build(&e.config, &cx) {
            Ok(processor) => Some(BuiltProcessor {
                id: e.id.clone(),
                processor,
                telemetry: cx.telemetry,
            }),
            Err(err) => {
                // A processor in several pipelines fails alike in each: say it once.
                let before = self.diags.len();
                self.report(&e.path, err);
                if self.diags[..before].contains(&self.diags[before]) {
                    self.diags.pop();
                }
                None
            }
        }
    }

    fn exporter(&mut self, e: &ComponentEntry) -> Option<BuiltExporter> {
        let factory = self.registry.exporter(e.id.type_name())?.clone();
        let (own, harness) = self.split_harness(e, factory.retries_until_delivered())?;
        let cx = self.context(
            &e.id,
            Kind::Exporter,
            self.signals_of(&e.id, Kind::Exporter),
        );
        match factory.build(&own, &cx) {
            Ok(exporter) => Some(BuiltExporter {
                id: e.id.clone(),
                exporter,
                harness,
                telemetry: cx.telemetry,
                load: ExporterLoad::new(),
                delivery_health: self.health.component_part(&e.id.to_string(), "delivery"),
            }),
            Err(err) => {
                self.report(&e.path, err);
                None
            }
        }
    }

    /// Takes `queue:` and `retry:` out of an exporter's config. `forever`:
    /// the exporter retries until delivered unless `retry.max_elapsed` is set.
    fn split_harness(
        &mut self,
        e: &ComponentEntry,
        forever: bool,
    ) -> Option<(ComponentConfig, HarnessSettings)> {
        let mut own = e.config.value().clone();
        let mut harness = HarnessSettings::default();
        if forever {
            harness.retry.max_elapsed = Duration::ZERO;
        }
        let mut ok = true;
        if let yaml_serde::Value::Mapping(map) = &mut own {
            let retry_limit_given = map.get("retry").is_some_and(|r| has_key(r, "max_elapsed"));
            for key in HARNESS_KEYS {
                let Some(v) = map.remove(key) else { continue };
                let cfg = ComponentConfig::new(v);
                let base = format!("{}.{key}", e.path);
                let parsed = match key {
                    "queue" => cfg.parse().map(|q| harness.queue = q),
                    "retry" => cfg.parse().map(|r: RetrySettings| {
                        let keeps_default = forever && !has_key(cfg.value(), "max_elapsed");
                        harness.retry = r;
                        if keeps_default {
                            harness.retry.max_elapsed = Duration::ZERO;
                        }
                    }),
                    _ => cfg.parse::<usize>().and_then(|n| {
                        harness.max_in_flight = n;
                        if n == 0 {
                            Err(ConfigError::new("must be at least 1"))
                        } else {
                            Ok(())
                        }
                    }),
                };
                if let Err(err) = parsed {
                    self.report(&base, err);
                    ok = false;
                }
            }
            // A disk queue keeps what it holds across restarts; giving up on
            // a batch after a time limit would throw that away, so it retries
            // until delivered unless told otherwise.
            if harness.queue.storage == QueueStorage::Disk && !retry_limit_given {
                harness.retry.max_elapsed = Duration::ZERO;
            }
            for (key, problem) in harness.queue.problems() {
                self.report(
                    &format!("{}.queue.{key}", e.path),
                    ConfigError::new(problem),
                );
                ok = false;
            }
        }
        ok.then(|| (ComponentConfig::new(own), harness))
    }

    /// Two listeners on one address (or one on 0.0.0.0 and one on a specific IP
    /// with the same port) cannot both bind.
    fn check_listeners(&mut self, receivers: &[BuiltReceiver]) {
        let mut seen: Vec<(SocketAddr, String)> = Vec::new();
        if let Some(addr) = self.config.telemetry.metrics_address {
            seen.push((addr, "service.telemetry.metrics.address".to_string()));
        }
        for r in receivers {
            let path = self
                .config
                .receivers
                .iter()
                .find(|e| e.id == r.id)
                .map(|e| e.path.clone())
                .unwrap_or_default();
            for addr in r.receiver.endpoints() {
                if addr.port() == 0 {
                    continue;
                }
                let clash = seen.iter().find(|(other, _)| {
                    other.port() == addr.port()
                        && (other.ip() == addr.ip()
                            || other.ip().is_unspecified()
                            || addr.ip().is_unspecified())
                });
                if let Some((other, other_path)) = clash {
                    let d = self.config.diagnostic(
                        Severity::Error,
                        &path,
                        format!(
                            "`{}` listens on {addr}, which `{other_path}` already uses ({other}); \
                             give each listener its own address",
                            r.id
                        ),
                    );
                    self.diags.push(d);
                } else {
                    seen.push((addr, path.clone()));
                }
            }
        }
    }
}

/// Whether a YAML mapping has `key`.
fn has_key(value: &yaml_serde::Value, key: &str) -> bool {
    matches!(value, yaml_serde::Value::Mapping(m) if m.contains_key(key))
}
