//! `app-otlp`: a small "shop" app instrumented with the OpenTelemetry Rust SDK
//! that exports traces, logs and metrics over OTLP, to weir or to any OTLP
//! endpoint.
//!
//! Each iteration handles one pretend checkout request:
//!
//! - **traces**: a server span `POST /checkout` with three child spans (a cache
//!   lookup, a database query, a payment call); they carry attributes, the cache
//!   lookup records an event, and every fifth payment call fails with an error
//!   status;
//! - **logs**: records emitted through the OTel logs API (`Logger::emit`) with a
//!   severity, a body and attributes, inside the spans, so each record carries
//!   the trace and span ids of the span it was emitted in;
//! - **metrics**: a counter (`shop.checkouts`), a histogram
//!   (`shop.checkout.duration`, ms) and a gauge (`shop.cart.items`).
//!
//! After `--iterations` requests the providers are shut down, which flushes what
//! is still buffered, and the app exits 0, or 1 if a provider reports that its
//! shutdown failed. Export errors (e.g. nothing listening at the endpoint) are
//! logged by the SDK on stderr as they happen; the batch processors do not
//! report them in the shutdown result, the metric reader does.
//!
//! Where it sends: `--endpoint` or `OTEL_EXPORTER_OTLP_ENDPOINT` (a base URL; the
//! default is `http://127.0.0.1:4317` for gRPC and `http://127.0.0.1:4318` for
//! HTTP), and `--protocol grpc|http` or `OTEL_EXPORTER_OTLP_PROTOCOL` (`grpc`,
//! `http/protobuf`). The exporters also read the other standard variables, such
//! as `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_EXPORTER_OTLP_COMPRESSION`.

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::thread::sleep;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger, LoggerProvider as _, Severity};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{
    Span as _, SpanKind, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{
    LogExporter, MetricExporter, Protocol as OtlpProtocol, SpanExporter, WithExportConfig as _,
    WithHttpConfig as _,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::SdkTracerProvider;

/// Sends a few pretend checkout requests' traces, logs and metrics over OTLP.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// How many checkout requests to simulate.
    #[arg(long, default_value_t = 10)]
    iterations: u32,
    /// OTLP transport: `grpc` or `http` (OTLP/HTTP with protobuf bodies).
    #[arg(long, env = "OTEL_EXPORTER_OTLP_PROTOCOL", value_parser = parse_protocol, default_value = "grpc")]
    protocol: Transport,
    /// Base URL of the OTLP endpoint [default: http://127.0.0.1:4317 for grpc,
    /// http://127.0.0.1:4318 for http]. For HTTP, /v1/traces, /v1/logs and
    /// /v1/metrics are appended.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    endpoint: Option<String>,
    /// Pause between requests, in milliseconds.
    #[arg(long, default_value_t = 100)]
    pause_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Transport {
    Grpc,
    Http,
}

/// Accepts the flag's short names and the values the OTel specification gives
/// `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/json` is not built in here).
fn parse_protocol(s: &str) -> Result<Transport, String> {
    match s {
        "grpc" => Ok(Transport::Grpc),
        "http" | "http/protobuf" => Ok(Transport::Http),
        other => Err(format!("`{other}`: use grpc or http (http/protobuf)")),
    }
}

/// The three SDK providers; shutting them down flushes their buffers.
struct Providers {
    tracer: SdkTracerProvider,
    logger: SdkLoggerProvider,
    meter: SdkMeterProvider,
}

fn main() -> ExitCode {
    let args = Args::parse();

    // The SDK reports its own trouble (e.g. "connection refused" on export)
    // through `tracing`; show warnings and errors on stderr. RUST_LOG overrides.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    // reqwest is built with `rustls-no-provider` in this workspace: building any
    // client (even one that only ever speaks plain http://) panics unless a
    // rustls crypto provider is installed first. Do it before anything else.
    rustls::crypto::ring::default_provider()
        .install_default()
        .expect("no other rustls crypto provider is installed yet");

    let endpoint = args.endpoint.clone().unwrap_or_else(|| {
        match args.protocol {
            Transport::Grpc => "http://127.0.0.1:4317",
            Transport::Http => "http://127.0.0.1:4318",
        }
        .to_string()
    });

    // The tonic (gRPC) exporters run their connection on a tokio runtime and
    // must be built inside it; the SDK's batch processors and periodic reader
    // export from their own threads and hand the requests to that runtime. The
    // app itself is plain synchronous code, as most instrumented code is.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("app-otlp: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let providers = {
        let _in_runtime = runtime.enter();
        match build_providers(args.protocol, &endpoint) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("app-otlp: cannot set up the OTLP exporters: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    eprintln!(
        "app-otlp: sending {} checkout request(s) to {endpoint} over {}",
        args.iterations,
        match args.protocol {
            Transport::Grpc => "OTLP/gRPC",
            Transport::Http => "OTLP/HTTP (protobuf)",
        }
    );

    run(
        &providers,
        args.iterations,
        Duration::from_millis(args.pause_ms),
    );

    // Shutdown exports whatever the batch processors and the metric reader
    // still hold, then stops them. Without it the last batches would be lost.
    let mut ok = true;
    for (signal, result) in [
        ("traces", providers.tracer.shutdown()),
        ("logs", providers.logger.shutdown()),
        ("metrics", providers.meter.shutdown()),
    ] {
        if let Err(e) = result {
            eprintln!("app-otlp: flushing {signal} failed: {e}");
            ok = false;
        }
    }
    // Dropped only now: the gRPC exporters needed it until their last flush.
    drop(runtime);
    if ok {
        eprintln!("app-otlp: done (any export error is logged above)");
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Builds a tracer, logger and meter provider exporting to `endpoint`.
fn build_providers(
    transport: Transport,
    endpoint: &str,
) -> Result<Providers, opentelemetry_otlp::ExporterBuildError> {
    // The resource describes the process; every span, log and metric shares it.
    let resource = Resource::builder()
        .with_service_name("app-otlp")
        .with_attributes([
            KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
            KeyValue::new("deployment.environment.name", "dev"),
        ])
        .build();

    let (spans, logs, metrics) = match transport {
        Transport::Grpc => (
            SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .build()?,
            LogExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .build()?,
            MetricExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .build()?,
        ),
        Transport::Http => {
            // An endpoint given in code is used verbatim for OTLP/HTTP, so the
            // signal paths are added here, as the specification says to do for
            // OTEL_EXPORTER_OTLP_ENDPOINT.
            let base = endpoint.trim_end_matches('/');
            let client = blocking_http_client()?;
            (
                SpanExporter::builder()
                    .with_http()
                    .with_http_client(client.clone())
                    .with_protocol(OtlpProtocol::HttpBinary)
                    .with_endpoint(format!("{base}/v1/traces"))
                    .build()?,
                LogExporter::builder()
                    .with_http()
                    .with_http_client(client.clone())
                    .with_protocol(OtlpProtocol::HttpBinary)
                    .with_endpoint(format!("{base}/v1/logs"))
                    .build()?,
                MetricExporter::builder()
                    .with_http()
                    .with_http_client(client)
                    .with_protocol(OtlpProtocol::HttpBinary)
                    .with_endpoint(format!("{base}/v1/metrics"))
                    .build()?,
            )
        }
    };

    Ok(Providers {
        // Batch processors export from a background thread, every few seconds
        // or when a batch fills, and at shutdown.
        tracer: SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_batch_exporter(spans)
            .build(),
        logger: SdkLoggerProvider::builder()
            .with_resource(resource.clone())
            .with_batch_exporter(logs)
            .build(),
        // The reader collects and exports every 2 s (the SDK's default is 60 s,
        // long for a demo), and once more at shutdown.
        meter: SdkMeterProvider::builder()
            .with_resource(resource)
            .with_reader(
                PeriodicReader::builder(metrics)
                    .with_interval(Duration::from_secs(2))
                    .build(),
            )
            .build(),
    })
}

/// The HTTP client of the OTLP/HTTP exporters. The SDK exports from its own
/// threads, outside any async runtime, so this is reqwest's blocking client
/// (which runs its own small runtime on a thread it owns). A blocking client
/// must not be built from inside an async context; building it on a fresh
/// thread, as opentelemetry-otlp does for its own default client, makes this
/// safe to call from anywhere.
fn blocking_http_client()
-> Result<reqwest::blocking::Client, opentelemetry_otlp::ExporterBuildError> {
    std::thread::spawn(|| {
        reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
    })
    .join()
    .expect("building the HTTP client does not panic")
    .map_err(|e| {
        opentelemetry_otlp::ExporterBuildError::InternalFailure(format!(
            "cannot build the HTTP client: {e}"
        ))
    })
}

/// Emits one log record through the OTel logs API. The SDK's `emit` takes the
/// trace and span ids from the span current on this thread, if there is one.
/// Attribute values are `AnyValue`s: strings, numbers, booleans, bytes, and
/// nested lists and maps.
fn emit_log(
    logger: &impl Logger,
    severity: Severity,
    body: String,
    attributes: Vec<(&'static str, AnyValue)>,
) {
    let mut record = logger.create_log_record();
    record.set_severity_number(severity);
    record.set_severity_text(severity.name());
    record.set_body(AnyValue::from(body));
    record.add_attributes(attributes);
    logger.emit(record);
}

/// Simulates `iterations` checkout requests.
fn run(providers: &Providers, iterations: u32, pause: Duration) {
    // Tracers, loggers and meters are named after the instrumentation scope:
    // the library or module doing the work.
    let tracer = providers.tracer.tracer("app-otlp.checkout");
    let logger = providers.logger.logger("app-otlp.checkout");
    let meter = providers.meter.meter("app-otlp.checkout");

    let checkouts = meter
        .u64_counter("shop.checkouts")
        .with_description("Checkout requests handled, by outcome")
        .build();
    let duration = meter
        .f64_histogram("shop.checkout.duration")
        .with_description("Time to handle a checkout request")
        .with_unit("ms")
        .with_boundaries(vec![5.0, 10.0, 25.0, 50.0, 100.0, 250.0])
        .build();
    let cart_items = meter
        .u64_gauge("shop.cart.items")
        .with_description("Items in the last cart checked out")
        .build();

    for i in 0..iterations {
        let started = Instant::now();
        let order_id = format!("order-{:04}", i + 1);
        let items = u64::from(i % 7 + 1);
        let payment_fails = (i + 1) % 5 == 0;

        // The parent span: one server request. Making it current (the guard)
        // parents the spans started below and puts its ids on the log records.
        let request = tracer
            .span_builder("POST /checkout")
            .with_kind(SpanKind::Server)
            .with_attributes([
                KeyValue::new("http.request.method", "POST"),
                KeyValue::new("url.path", "/checkout"),
                KeyValue::new("shop.order.id", order_id.clone()),
                KeyValue::new("shop.cart.items", items as i64),
            ])
            .start(&tracer);
        let cx = Context::current_with_span(request);
        let current = cx.clone().attach();

        emit_log(
            &logger,
            Severity::Info,
            format!("checkout started for {order_id}"),
            vec![
                ("shop.order.id", order_id.clone().into()),
                ("shop.cart.items", AnyValue::from(items as i64)),
            ],
        );

        // Child 1: a cache lookup that misses, recorded as a span event.
        tracer.in_span("cache.get cart", |cx| {
            let span = cx.span();
            span.set_attribute(KeyValue::new("cache.key", format!("cart:{order_id}")));
            sleep(Duration::from_millis(2));
            span.add_event("cache miss", vec![KeyValue::new("cache.backend", "memory")]);
            span.set_attribute(KeyValue::new("cache.hit", false));
        });

        // Child 2: a database query, a client span with the usual attributes.
        let mut db = tracer
            .span_builder("SELECT shop.carts")
            .with_kind(SpanKind::Client)
            .with_attributes([
                KeyValue::new("db.system.name", "postgresql"),
                KeyValue::new("db.query.text", "SELECT * FROM carts WHERE order_id = $1"),
                KeyValue::new("db.response.returned_rows", items as i64),
            ])
            .start(&tracer);
        sleep(Duration::from_millis(5 + u64::from(i % 4) * 3));
        db.end();

        // Child 3: the payment call; every fifth one fails, with an error status
        // on the span and an ERROR log record carrying its ids.
        tracer.in_span("POST payments/charge", |cx| {
            let span = cx.span();
            span.set_attribute(KeyValue::new("server.address", "payments.internal"));
            span.set_attribute(KeyValue::new("shop.amount_cents", 1999 * items as i64));
            sleep(Duration::from_millis(8));
            if payment_fails {
                span.set_attribute(KeyValue::new("http.response.status_code", 502));
                span.set_status(Status::error("payment gateway answered 502"));
                emit_log(
                    &logger,
                    Severity::Error,
                    format!("payment failed for {order_id}: gateway answered 502"),
                    vec![
                        ("shop.order.id", order_id.clone().into()),
                        ("error.type", "502".into()),
                        ("shop.retryable", true.into()),
                    ],
                );
            } else {
                span.set_attribute(KeyValue::new("http.response.status_code", 200));
            }
        });

        let outcome = if payment_fails { "failed" } else { "ok" };
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        if payment_fails {
            cx.span().set_status(Status::error("payment failed"));
        }
        cx.span()
            .set_attribute(KeyValue::new("shop.checkout.outcome", outcome));
        emit_log(
            &logger,
            if payment_fails {
                Severity::Warn
            } else {
                Severity::Info
            },
            format!("checkout {outcome} for {order_id} in {elapsed_ms:.1} ms"),
            vec![
                ("shop.order.id", order_id.clone().into()),
                ("shop.checkout.outcome", outcome.into()),
                ("shop.checkout.duration_ms", elapsed_ms.into()),
            ],
        );

        let attrs = [KeyValue::new("shop.checkout.outcome", outcome)];
        checkouts.add(1, &attrs);
        duration.record(elapsed_ms, &attrs);
        cart_items.record(items, &[]);

        // Ends the request span (the guard is dropped first, then the context).
        drop(current);
        cx.span().end();
        sleep(pause);
    }
}
