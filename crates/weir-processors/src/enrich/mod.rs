//! The `enrich` processor: adds, changes and derives attributes of logs and
//! spans, and of the resources and data points of metrics. In the order
//! applied to each record (see `docs/processors/enrich.md`):
//!
//! 1. resource: detectors, then the `target: resource` attribute actions;
//! 2. `parse_json_body` (logs): a JSON-object string body becomes fields and
//!    attributes through [`weir_otlp::logline`], exactly as stdin maps a line;
//! 3. the `target: record` attribute actions, in config order;
//! 4. lookup tables;
//! 5. Domain-Action-Status markers and the HTTP status fields;
//! 6. the error fingerprint (`exception.fingerprint`);
//! 7. secret masking, last, so nothing added before escapes it.
//!
//! Span events are records too: their attributes are fingerprinted (an
//! `exception` event is where SDKs put a span's stack trace) and masked.
//! Metrics get the resource steps, the `target: record` actions on every data
//! point's attributes, and masking; the record-level derivations (JSON bodies,
//! lookups, markers, fingerprints) have nothing to act on there.
//!
//! Everything that can be is prepared at build time (regexes, marker strings,
//! `${env:...}` values, detected host facts, lookup tables); a batch that the
//! configuration cannot change is passed on untouched, keeping its received bytes.

mod attr_list;
mod attributes;
mod config;
pub mod das;
pub mod detectors;
pub mod fingerprint;
mod json_body;
pub mod lookup;
mod mask;
#[cfg(test)]
mod tests;
mod wire;
mod wire_attrs;

use weir_core::otlp::common::v1::{AnyValue, KeyValue};
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs};
use weir_core::otlp::metrics::v1::{ResourceMetrics, metric};
use weir_core::otlp::resource::v1::Resource;
use weir_core::otlp::trace::v1::{ResourceSpans, Span};
use weir_core::telemetry::{Counter, names};
use weir_core::{
    Batch, BuildContext, ComponentConfig, ComponentError, ConfigError, Emitter, Processor,
    ProcessorFactory, Signal, async_trait,
};

pub use config::{
    ActionKind, AttributeConfig, DEFAULT_MASK_KEYS, DasConfig, DasSetConfig, DetectorsConfig,
    EnrichConfig, LookupConfig, MaskConfig, Target,
};

use attributes::Actions;
use das::Das;
use detectors::Detected;
use lookup::Lookup;
use mask::Masker;

/// Builds `enrich` processors.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnrichProcessorFactory;

impl ProcessorFactory for EnrichProcessorFactory {
    fn type_name(&self) -> &'static str {
        "enrich"
    }

    fn description(&self) -> &'static str {
        "adds, derives and masks attributes: actions, detectors, JSON bodies, \
         Domain-Action-Status markers, lookup tables, secret masking, error fingerprints"
    }

    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }

    fn config_schema(&self) -> Option<weir_core::schema::Schema> {
        Some(weir_core::schema::for_config::<EnrichConfig>())
    }
    fn build(
        &self,
        cfg: &ComponentConfig,
        cx: &BuildContext,
    ) -> Result<Box<dyn Processor>, ConfigError> {
        let config = EnrichConfig::from_component(cfg)?;
        Ok(Box::new(EnrichProcessor::new(&config, cx)?))
    }
}

/// One `enrich` instance (one per pipeline).
pub struct EnrichProcessor {
    resource_actions: Actions,
    record_actions: Actions,
    detected: Detected,
    parse_json_body: bool,
    das: Option<Das>,
    lookups: Vec<Lookup>,
    mask: Option<Masker>,
    fingerprint: bool,
    /// Reused buffer for lower-casing DAS values.
    scratch: String,
    json_parsed: Counter,
}

impl EnrichProcessor {
    /// Compiles `config`: every file is read and every regex built here.
    pub fn new(config: &EnrichConfig, cx: &BuildContext) -> Result<Self, ConfigError> {
        let lookups = config
            .lookup
            .iter()
            .enumerate()
            .map(|(i, l)| Lookup::build(l, i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(EnrichProcessor {
            resource_actions: Actions::compile(&config.attributes, Target::Resource)?,
            record_actions: Actions::compile(&config.attributes, Target::Record)?,
            detected: Detected::detect(&config.detectors),
            parse_json_body: config.parse_json_body,
            das: config.das.as_ref().map(Das::build).transpose()?,
            lookups,
            mask: config.mask.as_ref().map(Masker::build).transpose()?,
            fingerprint: config.fingerprint,
            scratch: String::new(),
            json_parsed: cx.telemetry.counter(
                names::PROCESSOR_ENRICH_JSON_BODIES_PARSED,
                Some(Signal::Logs),
                &[],
            ),
        })
    }

    fn touches_resource(&self) -> bool {
        !self.detected.is_empty() || !self.resource_actions.is_empty() || self.mask.is_some()
    }

    fn touches_records(&self, signal: Signal) -> bool {
        if signal == Signal::Metrics {
            return !self.record_actions.is_empty() || self.mask.is_some();
        }
        (signal == Signal::Logs && self.parse_json_body)
            || !self.record_actions.is_empty()
            || !self.lookups.is_empty()
            || self.das.is_some()
            || self.fingerprint
            || self.mask.is_some()
    }

    fn resource<'r>(&self, resource: &'r mut Option<Resource>) -> &'r [KeyValue] {
        if !self.detected.is_empty() || !self.resource_actions.is_empty() {
            let r = resource.get_or_insert_with(Resource::default);
            self.detected.apply(&mut r.attributes);
            self.resource_actions.apply(&mut r.attributes);
        }
        if let (Some(m), Some(r)) = (&self.mask, resource.as_mut()) {
            m.apply(&mut r.attributes, None);
        }
        resource.as_ref().map_or(&[], |r| &r.attributes)
    }

    fn logs(&mut self, resource_logs: &mut [ResourceLogs]) -> u64 {
        let mut parsed = 0;
        for rl in resource_logs {
            let resource = self.resource(&mut rl.resource);
            let platform = fingerprint::platform(resource);
            for sl in &mut rl.scope_logs {
                for r in &mut sl.log_records {
                    parsed += u64::from(self.log_record(r, resource, platform));
                }
            }
        }
        parsed
    }

    /// Every record step on one decoded log record; true when its body was
    /// parsed as JSON.
    fn log_record(&mut self, r: &mut LogRecord, resource: &[KeyValue], platform: &str) -> bool {
        let parsed = self.parse_json_body && json_body::apply(r);
        let body = Some(&mut r.body);
        self.record_steps(&mut r.attributes, body, resource, platform, &r.event_name);
        if let Some(m) = &self.mask {
            m.apply(&mut r.attributes, Some(&mut r.body));
        }
        parsed
    }

    /// The record steps that only touch attributes (actions, lookups,
    /// markers, fingerprint): shared by decoded records and records edited
    /// in their bytes (`wire.rs`).
    fn record_steps<L: attr_list::AttrList + ?Sized>(
        &mut self,
        attrs: &mut L,
        body: Option<&mut Option<AnyValue>>,
        resource: &[KeyValue],
        platform: &str,
        event_name: &str,
    ) {
        self.record_actions.apply(attrs);
        for l in &self.lookups {
            l.apply(attrs, resource);
        }
        if let Some(das) = &self.das {
            das.apply(attrs, body, event_name, &mut self.scratch);
        }
        if self.fingerprint {
            fingerprint::apply(attrs, platform);
        }
    }

    fn traces(&mut self, resource_spans: &mut [ResourceSpans]) {
        for rs in resource_spans {
            let resource = self.resource(&mut rs.resource);
            let platform = fingerprint::platform(resource);
            for ss in &mut rs.scope_spans {
                for s in &mut ss.spans {
                    self.span(s, resource, platform);
                }
            }
        }
    }

    /// Every record step on one decoded span and its events.
    fn span(&mut self, s: &mut Span, resource: &[KeyValue], platform: &str) {
        self.record_steps(&mut s.attributes, None, resource, platform, "");
        if let Some(m) = &self.mask {
            m.apply(&mut s.attributes, None);
        }
        for e in &mut s.events {
            if self.fingerprint {
                fingerprint::apply(&mut e.attributes, platform);
            }
            if let Some(m) = &self.mask {
                m.apply(&mut e.attributes, None);
            }
        }
    }

    fn metrics(&self, resource_metrics: &mut [ResourceMetrics]) {
        let records = !self.record_actions.is_empty() || self.mask.is_some();
        for rm in resource_metrics {
            self.resource(&mut rm.resource);
            if !records {
                continue;
            }
            for sm in &mut rm.scope_metrics {
                for m in &mut sm.metrics {
                    for_each_point_attributes(m.data.as_mut(), |attrs| {
                        self.record_actions.apply(attrs);
                        if let Some(mask) = &self.mask {
                            mask.apply(attrs, None);
                        }
                    });
                }
            }
        }
    }
}

/// Calls `f` on the attributes of every data point of a metric, whatever its kind.
fn for_each_point_attributes(
    data: Option<&mut metric::Data>,
    mut f: impl FnMut(&mut Vec<KeyValue>),
) {
    match data {
        None => {}
        Some(metric::Data::Gauge(g)) => g.data_points.iter_mut().for_each(|p| f(&mut p.attributes)),
        Some(metric::Data::Sum(s)) => s.data_points.iter_mut().for_each(|p| f(&mut p.attributes)),
        Some(metric::Data::Histogram(h)) => {
            h.data_points.iter_mut().for_each(|p| f(&mut p.attributes))
        }
        Some(metric::Data::ExponentialHistogram(h)) => {
            h.data_points.iter_mut().for_each(|p| f(&mut p.attributes))
        }
        Some(metric::Data::Summary(s)) => {
            s.data_points.iter_mut().for_each(|p| f(&mut p.attributes))
        }
    }
}

#[async_trait]
impl Processor for EnrichProcessor {
    async fn process(&mut self, mut batch: Batch, out: &mut Emitter) -> Result<(), ComponentError> {
        let signal = batch.signal();
        if !self.touches_resource() && !self.touches_records(signal) {
            return out.emit(batch).await;
        }
        let in_bytes =
            signal != Signal::Metrics && !self.das.as_ref().is_some_and(|d| d.prefixes_body());
        if in_bytes && let Some(bytes) = batch.received_bytes().cloned() {
            // Bytes that do not parse go the decoded way, which reports them.
            if let Ok(b) = self.process_wire(signal, &bytes, batch.meta()) {
                return out.emit(b).await;
            }
        }
        match signal {
            Signal::Logs => {
                let parsed = self.logs(batch.logs_mut()?);
                if parsed > 0 {
                    self.json_parsed.add(parsed);
                }
            }
            Signal::Traces => self.traces(batch.traces_mut()?),
            Signal::Metrics => self.metrics(batch.metrics_mut()?),
        }
        out.emit(batch).await
    }
}
