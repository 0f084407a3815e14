//! The official OpenTelemetry Rust SDK and `opentelemetry-otlp` exporter, as a
//! real client, send logs, traces and metrics through the real weir binary
//! (otlp receiver → otlp exporter) to a second OTLP endpoint; every item arrives
//! once with resource, scope, attributes and ids intact. Run over gRPC, and over
//! HTTP/protobuf with and without gzip.

mod support;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry::logs::{
    AnyValue as LogValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity,
};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{Span as _, TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use support::Weir;
use weir_core::otlp::collector::logs::v1::logs_service_server::{LogsService, LogsServiceServer};
use weir_core::otlp::collector::logs::v1::{ExportLogsServiceRequest, ExportLogsServiceResponse};
use weir_core::otlp::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use weir_core::otlp::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use weir_core::otlp::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use weir_core::otlp::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use weir_core::otlp::common::v1::{AnyValue, KeyValue as PKeyValue, any_value};
use weir_core::otlp::metrics::v1::metric;

const SPANS: usize = 25;
const LOGS: usize = 40;

/// The second OTLP endpoint: keeps every request it gets.
#[derive(Clone, Default)]
struct Sink {
    logs: Arc<Mutex<Vec<ExportLogsServiceRequest>>>,
    traces: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
    metrics: Arc<Mutex<Vec<ExportMetricsServiceRequest>>>,
}

#[tonic::async_trait]
impl LogsService for Sink {
    async fn export(
        &self,
        r: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        self.logs.lock().unwrap().push(r.into_inner());
        Ok(tonic::Response::new(Default::default()))
    }
}

#[tonic::async_trait]
impl TraceService for Sink {
    async fn export(
        &self,
        r: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.traces.lock().unwrap().push(r.into_inner());
        Ok(tonic::Response::new(Default::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Sink {
    async fn export(
        &self,
        r: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.metrics.lock().unwrap().push(r.into_inner());
        Ok(tonic::Response::new(Default::default()))
    }
}

async fn start_sink(sink: Sink) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(
                LogsServiceServer::new(sink.clone())
                    .accept_compressed(tonic::codec::CompressionEncoding::Gzip),
            )
            .add_service(
                TraceServiceServer::new(sink.clone())
                    .accept_compressed(tonic::codec::CompressionEncoding::Gzip),
            )
            .add_service(
                MetricsServiceServer::new(sink)
                    .accept_compressed(tonic::codec::CompressionEncoding::Gzip),
            )
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    format!("http://{addr}")
}

fn weir_to(dir: &std::path::Path, sink_url: &str) -> Weir {
    let yaml = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: 127.0.0.1:0 }}
      http: {{ endpoint: 127.0.0.1:0 }}
exporters:
  otlp:
    protocol: grpc
    endpoint: {sink_url}
service:
  telemetry: {{ metrics: {{ address: none }} }}
  pipelines:
    logs: {{ receivers: [otlp], exporters: [otlp] }}
    traces: {{ receivers: [otlp], exporters: [otlp] }}
    metrics: {{ receivers: [otlp], exporters: [otlp] }}
"#
    );
    let p = dir.join("relay.yaml");
    std::fs::write(&p, yaml).unwrap();
    Weir::start(&p, &[])
}

#[derive(Clone, Copy, Debug)]
enum Client {
    Grpc,
    Http { gzip: bool },
}

fn resource() -> Resource {
    Resource::builder_empty()
        .with_attributes([
            KeyValue::new("service.name", "weir-e2e"),
            KeyValue::new("deployment.environment.name", "ci"),
            KeyValue::new("host.cores", 2),
        ])
        .build()
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder("weir.e2e")
        .with_version("1.2.3")
        .with_attributes([KeyValue::new("scope.attr", true)])
        .build()
}

/// What the SDK produced, to compare with what arrived.
struct Sent {
    span_ids: HashSet<(Vec<u8>, Vec<u8>)>,
    log_trace: (Vec<u8>, Vec<u8>),
}

/// Emits spans, logs and metrics with the SDK and shuts the providers down
/// (which flushes them). Runs on a plain thread with the runtime entered, as an
/// application would.
fn emit(client: Client, grpc: &str, http: &str, rt: &tokio::runtime::Runtime) -> Sent {
    let _guard = rt.enter();
    let blocking_client = || {
        // reqwest's blocking client must be built (and dropped) off the runtime.
        std::thread::spawn(|| reqwest::blocking::Client::builder().build().unwrap())
            .join()
            .unwrap()
    };
    let compression = opentelemetry_otlp::Compression::Gzip;
    macro_rules! exporter {
        ($builder:expr, $path:literal) => {
            match client {
                Client::Grpc => $builder
                    .with_tonic()
                    .with_endpoint(format!("http://{grpc}"))
                    .build()
                    .unwrap(),
                Client::Http { gzip } => {
                    let b = $builder
                        .with_http()
                        .with_http_client(blocking_client())
                        .with_protocol(Protocol::HttpBinary)
                        .with_endpoint(format!("http://{http}{}", $path));
                    let b = if gzip {
                        b.with_compression(compression)
                    } else {
                        b
                    };
                    b.build().unwrap()
                }
            }
        };
    }

    let spans = exporter!(opentelemetry_otlp::SpanExporter::builder(), "/v1/traces");
    let tracer_provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(spans)
        .with_resource(resource())
        .build();
    let tracer = tracer_provider.tracer_with_scope(scope());
    let mut span_ids = HashSet::new();
    let mut log_trace = (Vec::new(), Vec::new());
    tracer.in_span("parent", |cx| {
        let parent = cx.span().span_context().clone();
        log_trace = (
            parent.trace_id().to_bytes().to_vec(),
            parent.span_id().to_bytes().to_vec(),
        );
        span_ids.insert((log_trace.0.clone(), log_trace.1.clone()));
        for i in 0..SPANS - 1 {
            let mut span = tracer.start(format!("child-{i}"));
            span.set_attribute(KeyValue::new("i", i as i64));
            span.set_attribute(KeyValue::new("ratio", 0.5));
            span.add_event("checkpoint", vec![KeyValue::new("step", "one")]);
            let sc = span.span_context().clone();
            span_ids.insert((
                sc.trace_id().to_bytes().to_vec(),
                sc.span_id().to_bytes().to_vec(),
            ));
            span.end();
        }
    });

    let logs = exporter!(opentelemetry_otlp::LogExporter::builder(), "/v1/logs");
    let logger_provider = opentelemetry_sdk::logs::SdkLoggerProvider::builder()
        .with_batch_exporter(logs)
        .with_resource(resource())
        .build();
    let logger = logger_provider.logger_with_scope(scope());
    for i in 0..LOGS {
        let mut r = logger.create_log_record();
        r.set_body(LogValue::from(format!("log {i}")));
        r.set_severity_number(Severity::Warn);
        r.set_severity_text("WARN");
        r.add_attribute("i", i as i64);
        r.add_attribute("user", "ada");
        r.set_trace_context(
            opentelemetry::trace::TraceId::from_bytes(log_trace.0.clone().try_into().unwrap()),
            opentelemetry::trace::SpanId::from_bytes(log_trace.1.clone().try_into().unwrap()),
            None,
        );
        logger.emit(r);
    }

    let metrics = exporter!(opentelemetry_otlp::MetricExporter::builder(), "/v1/metrics");
    let meter_provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
        .with_periodic_exporter(metrics)
        .with_resource(resource())
        .build();
    let meter = meter_provider.meter_with_scope(scope());
    let counter = meter.u64_counter("requests").build();
    counter.add(3, &[KeyValue::new("route", "/a")]);
    counter.add(4, &[KeyValue::new("route", "/b")]);
    let hist = meter.f64_histogram("latency").build();
    hist.record(0.25, &[KeyValue::new("route", "/a")]);

    tracer_provider.shutdown().unwrap();
    logger_provider.shutdown().unwrap();
    meter_provider.shutdown().unwrap();
    Sent {
        span_ids,
        log_trace,
    }
}

fn str_attr(attrs: &[PKeyValue], key: &str) -> Option<any_value::Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.clone())
        .and_then(|v: AnyValue| v.value)
}

fn check_resource_and_scope(
    resource: &Option<weir_core::otlp::resource::v1::Resource>,
    scope: &Option<weir_core::otlp::common::v1::InstrumentationScope>,
) {
    let attrs = &resource.as_ref().expect("resource").attributes;
    assert_eq!(
        str_attr(attrs, "service.name"),
        Some(any_value::Value::StringValue("weir-e2e".into()))
    );
    assert_eq!(
        str_attr(attrs, "host.cores"),
        Some(any_value::Value::IntValue(2))
    );
    let scope = scope.as_ref().expect("scope");
    assert_eq!(scope.name, "weir.e2e");
    assert_eq!(scope.version, "1.2.3");
    assert_eq!(
        str_attr(&scope.attributes, "scope.attr"),
        Some(any_value::Value::BoolValue(true))
    );
}

fn run_client(client: Client) {
    // reqwest is built without a default crypto provider, as in the binary.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sink = Sink::default();
    let url = rt.block_on(start_sink(sink.clone()));
    let dir = tempfile::tempdir().unwrap();
    let mut weir = weir_to(dir.path(), &url);
    let (grpc, http) = weir.otlp_addrs();
    let sent = emit(client, &grpc, &http, &rt);

    // Wait until everything went through weir.
    let deadline = Instant::now() + Duration::from_secs(30);
    let count = |s: &Sink| {
        let spans: usize = s
            .traces
            .lock()
            .unwrap()
            .iter()
            .flat_map(|r| &r.resource_spans)
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum();
        let logs: usize = s
            .logs
            .lock()
            .unwrap()
            .iter()
            .flat_map(|r| &r.resource_logs)
            .flat_map(|r| &r.scope_logs)
            .map(|s| s.log_records.len())
            .sum();
        let metrics = !s.metrics.lock().unwrap().is_empty();
        (spans, logs, metrics)
    };
    while count(&sink) != (SPANS, LOGS, true) {
        assert!(
            Instant::now() < deadline,
            "{client:?}: got {:?}\n{}",
            count(&sink),
            weir.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        count(&sink),
        (SPANS, LOGS, true),
        "{client:?}: duplicates arrived"
    );

    // Spans: every id once, with resource, scope and attributes.
    let mut seen = HashSet::new();
    for req in sink.traces.lock().unwrap().iter() {
        for rs in &req.resource_spans {
            for ss in &rs.scope_spans {
                check_resource_and_scope(&rs.resource, &ss.scope);
                for s in &ss.spans {
                    assert!(
                        seen.insert((s.trace_id.clone(), s.span_id.clone())),
                        "span twice"
                    );
                    if s.name.starts_with("child-") {
                        let i: i64 = s.name[6..].parse().unwrap();
                        assert_eq!(
                            str_attr(&s.attributes, "i"),
                            Some(any_value::Value::IntValue(i))
                        );
                        assert_eq!(
                            str_attr(&s.attributes, "ratio"),
                            Some(any_value::Value::DoubleValue(0.5))
                        );
                        assert_eq!(s.events[0].name, "checkpoint");
                        assert_eq!(s.parent_span_id, sent.log_trace.1, "parent link kept");
                    }
                }
            }
        }
    }
    assert_eq!(seen, sent.span_ids, "{client:?}: span ids intact");

    // Logs: bodies once each, severity, attributes, trace context.
    let mut bodies = HashSet::new();
    for req in sink.logs.lock().unwrap().iter() {
        for rl in &req.resource_logs {
            for sl in &rl.scope_logs {
                check_resource_and_scope(&rl.resource, &sl.scope);
                for r in &sl.log_records {
                    let Some(any_value::Value::StringValue(b)) =
                        r.body.clone().and_then(|b| b.value)
                    else {
                        panic!("string body expected: {r:?}");
                    };
                    assert!(bodies.insert(b.clone()), "log twice: {b}");
                    let i: i64 = b[4..].parse().unwrap();
                    assert_eq!(
                        str_attr(&r.attributes, "i"),
                        Some(any_value::Value::IntValue(i))
                    );
                    assert_eq!(r.severity_number, 13);
                    assert_eq!(r.severity_text, "WARN");
                    assert_eq!(r.trace_id, sent.log_trace.0);
                    assert_eq!(r.span_id, sent.log_trace.1);
                }
            }
        }
    }
    assert_eq!(bodies.len(), LOGS);

    // Metrics: the counter's two series and the histogram.
    let mut requests_total = 0;
    let mut hist_count = 0;
    for req in sink.metrics.lock().unwrap().iter() {
        for rm in &req.resource_metrics {
            for sm in &rm.scope_metrics {
                check_resource_and_scope(&rm.resource, &sm.scope);
                for m in &sm.metrics {
                    match (&*m.name, &m.data) {
                        ("requests", Some(metric::Data::Sum(s))) => {
                            for p in &s.data_points {
                                if let Some(
                                    weir_core::otlp::metrics::v1::number_data_point::Value::AsInt(
                                        v,
                                    ),
                                ) = p.value
                                {
                                    requests_total += v;
                                }
                            }
                        }
                        ("latency", Some(metric::Data::Histogram(h))) => {
                            hist_count += h.data_points.iter().map(|p| p.count).sum::<u64>();
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    // The periodic reader may export more than once (cumulative): at least once.
    assert!(
        requests_total >= 7 && requests_total % 7 == 0,
        "{client:?}: {requests_total}"
    );
    assert!(hist_count >= 1, "{client:?}");

    weir.signal("TERM");
    assert_eq!(weir.wait(), 0, "{}", weir.stderr());
    rt.shutdown_background();
}

#[test]
fn sdk_over_grpc_through_weir() {
    run_client(Client::Grpc);
}

#[test]
fn sdk_over_http_protobuf_through_weir() {
    run_client(Client::Http { gzip: false });
}

#[test]
fn sdk_over_http_protobuf_gzip_through_weir() {
    run_client(Client::Http { gzip: true });
}

/// `weir run` with no file: the embedded default pipeline takes OTLP and writes
/// one file per signal under ./weir-data.
#[test]
fn default_pipeline_takes_otlp_and_writes_files() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut weir = Weir::start_default(
        dir.path(),
        &[
            ("WEIR_OTLP_GRPC_ENDPOINT", "127.0.0.1:0"),
            ("WEIR_OTLP_HTTP_ENDPOINT", "127.0.0.1:0"),
            ("WEIR_METRICS_ADDRESS", "none"),
        ],
    );
    let (grpc, http) = weir.otlp_addrs();
    emit(Client::Grpc, &grpc, &http, &rt);
    let data = dir.path().join("weir-data");
    let deadline = Instant::now() + Duration::from_secs(30);
    let records = |f: &str| {
        std::fs::read_to_string(data.join(f))
            .map(|s| s.matches("\"spanId\"").count() + s.matches("\"severityNumber\"").count())
            .unwrap_or(0)
    };
    // Files are flushed every second; wait for every span and log record.
    while records("traces.jsonl") < SPANS || records("logs.jsonl") < LOGS {
        assert!(Instant::now() < deadline, "{}", weir.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    weir.signal("INT");
    assert_eq!(weir.wait(), 0, "{}", weir.stderr());
    assert!(
        std::fs::read_to_string(data.join("metrics.jsonl"))
            .unwrap()
            .contains("\"requests\"")
    );
    assert!(
        weir.stderr().contains("traces batch"),
        "debug summary lines on stderr"
    );
    rt.shutdown_background();
}
