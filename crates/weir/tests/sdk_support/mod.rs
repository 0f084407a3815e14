//! The official OpenTelemetry SDK as a client, and a recording OTLP gRPC server,
//! for the end-to-end tests.

#![allow(dead_code)]

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use opentelemetry::logs::{
    AnyValue as LogValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity,
};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{Span as _, TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
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

/// Spans each client run emits.
pub const SPANS: usize = 25;
/// Log records each client run emits.
pub const LOGS: usize = 40;

/// The second OTLP endpoint: keeps every request it gets.
#[derive(Clone, Default)]
pub struct Sink {
    pub logs: Arc<Mutex<Vec<ExportLogsServiceRequest>>>,
    pub traces: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
    pub metrics: Arc<Mutex<Vec<ExportMetricsServiceRequest>>>,
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

pub async fn start_sink(sink: Sink) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(
                LogsServiceServer::new(sink.clone())
                    .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
                    .accept_compressed(tonic::codec::CompressionEncoding::Zstd),
            )
            .add_service(
                TraceServiceServer::new(sink.clone())
                    .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
                    .accept_compressed(tonic::codec::CompressionEncoding::Zstd),
            )
            .add_service(
                MetricsServiceServer::new(sink)
                    .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
                    .accept_compressed(tonic::codec::CompressionEncoding::Zstd),
            )
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    format!("http://{addr}")
}

#[derive(Clone, Copy, Debug)]
pub enum Client {
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
pub struct Sent {
    pub span_ids: HashSet<(Vec<u8>, Vec<u8>)>,
    pub log_trace: (Vec<u8>, Vec<u8>),
}

/// Emits spans, logs and metrics with the SDK and shuts the providers down
/// (which flushes them). Runs on a plain thread with the runtime entered, as an
/// application would.
pub fn emit(client: Client, grpc: &str, http: &str, rt: &tokio::runtime::Runtime) -> Sent {
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
