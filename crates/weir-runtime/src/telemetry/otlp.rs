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
use std::sync::Mutex;
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
    state: Mutex<MirrorState>,
}

#[derive(Default)]
struct MirrorState {
    /// Names with an instrument already.
    names: HashSet<&'static str>,
    /// Histograms by name, and what each series had reached at the last replay.
    histograms: HashMap<&'static str, SdkHistogram<f64>>,
    replayed: HashMap<(usize, &'static str), Vec<u64>>,
}

impl Mirror {
    fn new(meter: Meter, registry: MetricsRegistry) -> Self {
        Mirror {
            meter,
            registry,
            state: Mutex::new(MirrorState::default()),
        }
    }

    /// Creates instruments for names not seen yet, and replays histograms.
    fn sync(&self) {
        let all = self.registry.snapshot();
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for s in &all {
            if !st.names.insert(s.name) {
                continue;
            }
            let name = s.name;
            let registry = self.registry.clone();
            match &s.metric {
                Metric::Counter(_) => {
                    self.meter
                        .u64_observable_counter(name)
                        .with_callback(move |o| {
                            for s in registry.snapshot().iter().filter(|s| s.name == name) {
                                if let Metric::Counter(c) = &s.metric {
                                    o.observe(c.get(), &attributes(s));
                                }
                            }
                        })
                        .build();
                }
                Metric::Gauge(_) => {
                    self.meter
                        .i64_observable_gauge(name)
                        .with_callback(move |o| {
                            for s in registry.snapshot().iter().filter(|s| s.name == name) {
                                if let Metric::Gauge(g) = &s.metric {
                                    o.observe(g.get(), &attributes(s));
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
                    st.histograms.insert(name, hist);
                }
            }
        }
        for (i, s) in all.iter().enumerate() {
            let Metric::Histogram(h) = &s.metric else {
                continue;
            };
            let Some(hist) = st.histograms.get(s.name).cloned() else {
                continue;
            };
            let snap = h.snapshot();
            // Per-bucket counts now, the overflow bucket last.
            let mut now: Vec<u64> = Vec::with_capacity(snap.bounds.len() + 1);
            let mut below = 0;
            for c in &snap.cumulative {
                now.push(c - below);
                below = *c;
            }
            now.push(snap.count.saturating_sub(below));
            let before = st
                .replayed
                .entry((i, s.name))
                .or_insert_with(|| vec![0; now.len()]);
            let attrs = attributes(s);
            for (b, (&n, seen)) in now.iter().zip(before.iter_mut()).enumerate() {
                let value = snap
                    .bounds
                    .get(b)
                    .copied()
                    .unwrap_or_else(|| snap.bounds.last().copied().unwrap_or(0.0) * 2.0);
                for _ in *seen..n {
                    hist.record(value, &attrs);
                }
                *seen = n.max(*seen);
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
