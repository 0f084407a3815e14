//! weir's own metrics and traces over OTLP (`service.telemetry.metrics.otlp`,
//! `service.telemetry.traces.otlp`), with the `opentelemetry` SDK and
//! `opentelemetry-otlp`.
//!
//! **Metrics.** Every series of the [`MetricsRegistry`] becomes an SDK
//! instrument of the same name, its labels as attributes: counters as
//! observable counters and gauges as observable gauges, read from the same
//! atomics `/metrics` serves, so the two always agree. Histograms have no
//! observable form in the SDK; a task replays each histogram's new
//! observations every second into an SDK histogram with the same bucket
//! bounds, one value per observation at its bucket's upper bound. Bucket counts
//! and the count are exact; the sum is that of the upper bounds (an over-
//! estimate by at most one bucket's width per observation). The same task
//! picks up series registered after the start (a failure reason seen for the
//! first time). A `PeriodicReader` pushes everything every `interval`, and
//! once more at shutdown.
//!
//! **Traces.** With `traces.otlp`, each delivery of a batch by an exporter is
//! a span (`weir.export`) with the component, signal, item count and outcome;
//! see [`SelfTelemetry::tracer`]. weir's own `tracing` logs are not bridged,
//! so the exporter's own HTTP/gRPC traffic cannot feed back into itself.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Histogram as SdkHistogram, Meter, MeterProvider as _};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{MetricExporter, SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use weir_core::telemetry::{Metric, MetricsRegistry, Series};

use crate::config::{OtlpProtocol, OtlpTelemetry, TelemetryConfig};

/// How often new series are picked up and histograms replayed.
const REPLAY_EVERY: Duration = Duration::from_secs(1);

/// The running self-export, if any; [`SelfTelemetry::shutdown`] flushes it.
#[derive(Default)]
pub struct SelfTelemetry {
    meters: Option<SdkMeterProvider>,
    tracers: Option<SdkTracerProvider>,
    replay: Option<tokio::task::JoinHandle<()>>,
}

impl SelfTelemetry {
    /// Starts what `config` asks for. Must run inside the tokio runtime (the
    /// gRPC exporters bind to it). Errors name the setting.
    pub fn start(config: &TelemetryConfig, registry: &MetricsRegistry) -> Result<Self, String> {
        let mut this = SelfTelemetry::default();
        if let Some(otlp) = &config.metrics_otlp {
            let exporter = metric_exporter(otlp)
                .map_err(|e| format!("service.telemetry.metrics.otlp: {e}"))?;
            let reader = PeriodicReader::builder(exporter)
                .with_interval(otlp.interval)
                .build();
            let provider = SdkMeterProvider::builder()
                .with_reader(reader)
                .with_resource(resource())
                .build();
            let mirror = Mirror::new(provider.meter("weir"), registry.clone());
            mirror.sync();
            this.replay = Some(tokio::spawn(async move {
                let mut tick = tokio::time::interval(REPLAY_EVERY);
                loop {
                    tick.tick().await;
                    mirror.sync();
                }
            }));
            this.meters = Some(provider);
        }
        if let Some(otlp) = &config.traces_otlp {
            let exporter =
                span_exporter(otlp).map_err(|e| format!("service.telemetry.traces.otlp: {e}"))?;
            let processor = opentelemetry_sdk::trace::BatchSpanProcessor::builder(exporter)
                .with_batch_config(
                    opentelemetry_sdk::trace::BatchConfigBuilder::default()
                        .with_scheduled_delay(otlp.interval)
                        .build(),
                )
                .build();
            this.tracers = Some(
                SdkTracerProvider::builder()
                    .with_span_processor(processor)
                    .with_resource(resource())
                    .build(),
            );
        }
        Ok(this)
    }

    /// The tracer for export spans, when `traces.otlp` is set.
    pub fn tracer(&self) -> Option<SdkTracer> {
        self.tracers.as_ref().map(|p| p.tracer("weir"))
    }

    /// Pushes what is left (a last collection of every series) and stops.
    /// Blocks while the SDK's threads export, so it runs on a blocking thread.
    pub async fn shutdown(mut self) {
        if let Some(r) = self.replay.take() {
            r.abort();
        }
        let (meters, tracers) = (self.meters.take(), self.tracers.take());
        if meters.is_none() && tracers.is_none() {
            return;
        }
        let done = tokio::task::spawn_blocking(move || {
            if let Some(m) = meters {
                if let Err(e) = m.shutdown() {
                    tracing::warn!(error = %e, "pushing weir's own metrics at shutdown failed");
                }
            }
            if let Some(t) = tracers {
                if let Err(e) = t.shutdown() {
                    tracing::warn!(error = %e, "pushing weir's own traces at shutdown failed");
                }
            }
        })
        .await;
        if let Err(e) = done {
            tracing::warn!(error = %e, "self-telemetry shutdown task failed");
        }
    }
}

fn resource() -> Resource {
    Resource::builder()
        .with_service_name("weir")
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build()
}

fn metric_exporter(otlp: &OtlpTelemetry) -> Result<MetricExporter, String> {
    let built = match otlp.protocol {
        OtlpProtocol::Grpc => MetricExporter::builder()
            .with_tonic()
            .with_endpoint(otlp.endpoint.clone())
            .build(),
        OtlpProtocol::HttpProtobuf => MetricExporter::builder()
            .with_http()
            .with_endpoint(http_url(&otlp.endpoint, "/v1/metrics"))
            .build(),
    };
    built.map_err(|e| e.to_string())
}

fn span_exporter(otlp: &OtlpTelemetry) -> Result<SpanExporter, String> {
    let built = match otlp.protocol {
        OtlpProtocol::Grpc => SpanExporter::builder()
            .with_tonic()
            .with_endpoint(otlp.endpoint.clone())
            .build(),
        OtlpProtocol::HttpProtobuf => SpanExporter::builder()
            .with_http()
            .with_endpoint(http_url(&otlp.endpoint, "/v1/traces"))
            .build(),
    };
    built.map_err(|e| e.to_string())
}

/// The signal's path on an OTLP/HTTP base URL, unless the URL has a path.
fn http_url(endpoint: &str, path: &str) -> String {
    let base = endpoint.trim_end_matches('/');
    let after_scheme = base.split_once("://").map_or(base, |(_, rest)| rest);
    if after_scheme.contains('/') {
        base.to_string()
    } else {
        format!("{base}{path}")
    }
}

fn attributes(series: &Series) -> Vec<KeyValue> {
    series
        .labels
        .iter()
        .map(|(k, v)| KeyValue::new(*k, v.clone()))
        .collect()
}

/// The SDK instruments mirroring the registry.
struct Mirror {
    meter: Meter,
    registry: MetricsRegistry,
    /// Every series seen so far, in registration order (the registry only
    /// appends), with its attributes built once. The observable callbacks
    /// read it, so a collection allocates nothing per series.
    series: Arc<Mutex<Vec<Mirrored>>>,
    /// SDK histograms by name.
    histograms: Mutex<HashMap<&'static str, SdkHistogram<f64>>>,
}

struct Mirrored {
    name: &'static str,
    attrs: Vec<KeyValue>,
    metric: Metric,
    /// Per-bucket counts already replayed (histograms; the overflow bucket last).
    replayed: Vec<u64>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Mirror {
    fn new(meter: Meter, registry: MetricsRegistry) -> Self {
        Mirror {
            meter,
            registry,
            series: Arc::new(Mutex::new(Vec::new())),
            histograms: Mutex::new(HashMap::new()),
        }
    }

    /// Takes in series registered since the last call (an instrument for each
    /// new name), and replays histograms.
    fn sync(&self) {
        let all = self.registry.snapshot();
        let known = lock(&self.series).len();
        let mut names: HashSet<&'static str> = lock(&self.series).iter().map(|m| m.name).collect();
        for s in all.into_iter().skip(known) {
            if names.insert(s.name) {
                self.instrument(&s);
            }
            lock(&self.series).push(Mirrored {
                name: s.name,
                attrs: attributes(&s),
                metric: s.metric,
                replayed: Vec::new(),
            });
        }
        let histograms = lock(&self.histograms);
        for m in lock(&self.series).iter_mut() {
            let Metric::Histogram(h) = &m.metric else {
                continue;
            };
            let Some(hist) = histograms.get(m.name) else {
                continue;
            };
            let snap = h.snapshot();
            // Per-bucket counts now, the overflow bucket last.
            let mut below = 0;
            let mut now: Vec<u64> = snap
                .cumulative
                .iter()
                .map(|c| {
                    let n = c - below;
                    below = *c;
                    n
                })
                .collect();
            now.push(snap.count.saturating_sub(below));
            m.replayed.resize(now.len(), 0);
            let overflow = snap.bounds.last().copied().unwrap_or(0.0) * 2.0;
            for (b, (&n, seen)) in now.iter().zip(m.replayed.iter_mut()).enumerate() {
                let value = snap.bounds.get(b).copied().unwrap_or(overflow);
                for _ in *seen..n {
                    hist.record(value, &m.attrs);
                }
                *seen = n.max(*seen);
            }
        }
    }

    /// The SDK instrument for the series named like `s`.
    fn instrument(&self, s: &Series) {
        let name = s.name;
        let series = self.series.clone();
        match &s.metric {
            Metric::Counter(_) => {
                self.meter
                    .u64_observable_counter(name)
                    .with_callback(move |o| {
                        for m in lock(&series).iter().filter(|m| m.name == name) {
                            if let Metric::Counter(c) = &m.metric {
                                o.observe(c.get(), &m.attrs);
                            }
                        }
                    })
                    .build();
            }
            Metric::Gauge(_) => {
                self.meter
                    .i64_observable_gauge(name)
                    .with_callback(move |o| {
                        for m in lock(&series).iter().filter(|m| m.name == name) {
                            if let Metric::Gauge(g) = &m.metric {
                                o.observe(g.get(), &m.attrs);
                            }
                        }
                    })
                    .build();
            }
            Metric::Histogram(h) => {
                let bounds = h.snapshot().bounds.to_vec();
                let hist = self
                    .meter
                    .f64_histogram(name)
                    .with_boundaries(bounds)
                    .build();
                lock(&self.histograms).insert(name, hist);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_paths_are_added_unless_given() {
        assert_eq!(
            http_url("http://127.0.0.1:4318", "/v1/metrics"),
            "http://127.0.0.1:4318/v1/metrics"
        );
        assert_eq!(
            http_url("http://127.0.0.1:4318/", "/v1/traces"),
            "http://127.0.0.1:4318/v1/traces"
        );
        assert_eq!(
            http_url("https://otel.example/custom/v1/metrics", "/v1/metrics"),
            "https://otel.example/custom/v1/metrics"
        );
    }
}
