//! The shipped `pipelines/otlp-processing.yaml` on the real binary: an OTLP
//! gRPC client → weir (enrich → sample → rate_limit → adaptive_batch) → a
//! recording OTLP server. Checks what each processor promises on the wire:
//! enrichment and masking on every record, errors kept and health checks
//! dropped at any ratio, whole traces kept or dropped together, the ratio on
//! the rest, `sampling.ratio` on what sampling kept, rate limiting that delays
//! and loses nothing, merged batches, and counters that add up.

mod otlp_support;
mod sdk_support;
mod support;

use std::collections::HashMap;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, status};

use otlp_support::{kv, runtime, wait_exit, wait_until};
use sdk_support::{Sink, start_sink};
use support::{Weir, metric as sample, wait_metrics, workspace};

const LOG_REQUESTS: usize = 20;
const LOGS_PER_REQUEST: usize = 100;
const TRACES: usize = 200;
const SPANS_PER_TRACE: usize = 5;
const RATIO: f64 = 0.25;

/// Deterministic 16-byte ids (SplitMix64), so a rerun sends the same data.
fn ids(seed: u64) -> impl FnMut() -> Vec<u8> {
    let mut state = seed;
    move || {
        let mut next = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let mut id = next().to_le_bytes().to_vec();
        id.extend_from_slice(&next().to_le_bytes());
        id
    }
}

fn resource() -> Option<Resource> {
    Some(Resource {
        attributes: vec![kv("service.name", "checkout")],
        ..Default::default()
    })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "e2e".into(),
        ..Default::default()
    })
}

fn string(s: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(s.into())),
    })
}

/// Record `n`: every 10th is an ERROR, every 25th (that is not an error) a
/// health check, every 7th a JSON body with a secret, the rest plain INFO.
fn log_record(n: usize, trace_id: Vec<u8>) -> LogRecord {
    let mut r = LogRecord {
        time_unix_nano: 1_700_000_000_000_000_000 + n as u64,
        severity_number: 9,
        severity_text: "INFO".into(),
        trace_id,
        body: string(&format!("record {n}")),
        attributes: vec![kv("n", &n.to_string())],
        ..Default::default()
    };
    if n % 10 == 0 {
        r.severity_number = 17;
        r.severity_text = "ERROR".into();
        r.attributes.extend([
            kv("domain", "auth"),
            kv("action", "login"),
            kv("status", "failure"),
        ]);
    } else if n % 25 == 0 {
        r.attributes.push(kv("url.path", "/healthz"));
    } else if n % 7 == 0 {
        r.body = string(&format!(
            r#"{{"msg":"charge {n}","token":"tok-{n}","password":"hunter2","user.email":"a{n}@example.com"}}"#
        ));
    }
    r
}

fn logs_request(k: usize, next_id: &mut impl FnMut() -> Vec<u8>) -> ExportLogsServiceRequest {
    let records = (0..LOGS_PER_REQUEST)
        .map(|i| log_record(k * LOGS_PER_REQUEST + i, next_id()))
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(),
            scope_logs: vec![ScopeLogs {
                scope: scope(),
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// Trace `t` of [`SPANS_PER_TRACE`] spans; in every 8th trace the last span
/// is an error.
fn trace_request(t: usize, trace_id: Vec<u8>) -> ExportTraceServiceRequest {
    let spans = (0..SPANS_PER_TRACE)
        .map(|i| Span {
            trace_id: trace_id.clone(),
            span_id: vec![t as u8, (t >> 8) as u8, i as u8, 1, 2, 3, 4, 5],
            name: format!("span {i}"),
            status: (t % 8 == 0 && i == SPANS_PER_TRACE - 1).then(|| Status {
                code: status::StatusCode::Error as i32,
                message: "boom".into(),
            }),
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(),
            scope_spans: vec![ScopeSpans {
                scope: scope(),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn metrics_request() -> ExportMetricsServiceRequest {
    let point = NumberDataPoint {
        attributes: vec![kv("token", "t-1")],
        value: Some(number_data_point::Value::AsInt(42)),
        ..Default::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(),
            scope_metrics: vec![ScopeMetrics {
                scope: scope(),
                metrics: vec![Metric {
                    name: "queue.depth".into(),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: vec![point],
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn get<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

fn get_str<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    match get(attrs, key) {
        Some(any_value::Value::StringValue(s)) => Some(s),
        _ => None,
    }
}

fn ratio_attr(attrs: &[KeyValue]) -> Option<f64> {
    match get(attrs, "sampling.ratio") {
        Some(any_value::Value::DoubleValue(d)) => Some(*d),
        _ => None,
    }
}

/// Checks the enrich steps every resource must show.
fn assert_enriched_resource(resource: &Option<Resource>) {
    let attrs = &resource.as_ref().expect("a resource").attributes;
    assert_eq!(get_str(attrs, "service.name"), Some("checkout"));
    assert_eq!(get_str(attrs, "deployment.environment.name"), Some("ci"));
    assert_eq!(get_str(attrs, "weir.gateway"), Some("edge"));
    assert!(get_str(attrs, "host.name").is_some_and(|h| !h.is_empty()));
    assert_eq!(get_str(attrs, "os.type"), Some(std::env::consts::OS));
}

#[test]
fn otlp_through_all_four_processors() {
    let rt = runtime();
    let sink = Sink::default();
    let upstream = rt.block_on(start_sink(sink.clone()));
    let pipeline = workspace().join("pipelines/otlp-processing.yaml");
    let ratio = RATIO.to_string();
    let mut weir = Weir::start(
        &pipeline,
        &[
            ("WEIR_OTLP_GRPC_ENDPOINT", "127.0.0.1:0"),
            ("WEIR_OTLP_HTTP_ENDPOINT", "127.0.0.1:0"),
            ("WEIR_METRICS_ADDRESS", "127.0.0.1:0"),
            ("WEIR_UPSTREAM_OTLP_ENDPOINT", &upstream),
            ("WEIR_SAMPLE_RATIO", &ratio),
            // Low enough that the burst of logs has to wait for tokens.
            ("WEIR_SERVICE_RATE", "2000"),
            ("WEIR_SERVICE_BURST", "200"),
            ("DEPLOY_ENV", "ci"),
        ],
    );
    let (grpc, _) = weir.otlp_addrs();
    let metrics_addr = weir.metrics_addr();
    let endpoint = format!("http://{grpc}");

    let mut next_id = ids(11);
    let log_requests: Vec<_> = (0..LOG_REQUESTS)
        .map(|k| logs_request(k, &mut next_id))
        .collect();
    let trace_ids: Vec<Vec<u8>> = (0..TRACES).map(|_| next_id()).collect();
    rt.block_on(async {
        let mut logs = LogsServiceClient::connect(endpoint.clone()).await.unwrap();
        for req in log_requests {
            logs.export(req).await.expect("logs accepted");
        }
        let mut traces = TraceServiceClient::connect(endpoint.clone()).await.unwrap();
        for (t, id) in trace_ids.iter().enumerate() {
            traces
                .export(trace_request(t, id.clone()))
                .await
                .expect("spans accepted");
        }
        let mut metrics = MetricsServiceClient::connect(endpoint).await.unwrap();
        metrics.export(metrics_request()).await.unwrap();
    });

    // Everything the sampler kept, and nothing more, reaches the upstream.
    let sent_logs = (LOG_REQUESTS * LOGS_PER_REQUEST) as f64;
    let text = wait_metrics(&metrics_addr, |t| {
        let decided = sample(
            t,
            "weir_processor_sample_decisions_total",
            &[("signal", "logs")],
        );
        let kept = sample(
            t,
            "weir_processor_sent_items_total",
            &[("component", "adaptive_batch"), ("signal", "logs")],
        );
        let delivered = sample(
            t,
            "weir_exporter_sent_items_total",
            &[("component", "otlp"), ("signal", "logs")],
        );
        decided == sent_logs && kept > 0.0 && delivered == kept
    });
    let kept_logs = sample(
        &text,
        "weir_processor_sent_items_total",
        &[("component", "sample"), ("signal", "logs")],
    );
    let dropped_logs = sample(
        &text,
        "weir_processor_dropped_items_total",
        &[
            ("component", "sample"),
            ("signal", "logs"),
            ("reason", "sampled_out"),
        ],
    );
    assert_eq!(kept_logs + dropped_logs, sent_logs, "{text}");
    wait_until("spans and the metric delivered", || {
        let t = support::http_get(&metrics_addr, "/metrics").1;
        let sampled = sample(
            &t,
            "weir_processor_received_items_total",
            &[("component", "sample"), ("signal", "traces")],
        );
        let kept = sample(
            &t,
            "weir_processor_sent_items_total",
            &[("component", "sample"), ("signal", "traces")],
        );
        let delivered = sample(
            &t,
            "weir_exporter_sent_items_total",
            &[("component", "otlp"), ("signal", "traces")],
        );
        let metrics = sample(
            &t,
            "weir_exporter_sent_items_total",
            &[("component", "otlp"), ("signal", "metrics")],
        );
        sampled == (TRACES * SPANS_PER_TRACE) as f64 && delivered == kept && metrics == 1.0
    });
    let text = support::http_get(&metrics_addr, "/metrics").1;
    assert_eq!(
        sample(
            &text,
            "weir_processor_dropped_items_total",
            &[("component", "rate_limit")]
        ),
        0.0,
        "on_excess: delay drops nothing"
    );
    assert!(
        sample(
            &text,
            "weir_processor_rate_limit_delayed_items_total",
            &[("component", "rate_limit"), ("signal", "logs")]
        ) > 0.0,
        "the burst of logs was over the rate, so some waited: {text}"
    );
    weir.signal("TERM");
    assert_eq!(wait_exit(&mut weir), 0, "{}", weir.stderr());

    // Logs, as the upstream got them.
    let requests = sink.logs.lock().unwrap().clone();
    let mut by_n: HashMap<usize, LogRecord> = HashMap::new();
    for req in &requests {
        // All records share one resource and scope: merged into one group.
        assert_eq!(req.resource_logs.len(), 1, "merged by resource");
        let rl = &req.resource_logs[0];
        assert_eq!(rl.scope_logs.len(), 1, "merged by scope");
        assert!(rl.scope_logs[0].log_records.len() <= 8192);
        assert_enriched_resource(&rl.resource);
        for r in &rl.scope_logs[0].log_records {
            let n: usize = get_str(&r.attributes, "n").unwrap().parse().unwrap();
            assert!(by_n.insert(n, r.clone()).is_none(), "record {n} twice");
        }
    }
    assert_eq!(by_n.len() as f64, kept_logs, "every kept record once");
    let total = LOG_REQUESTS * LOGS_PER_REQUEST;
    let mut sampled_kept = 0usize;
    let mut sampled_offered = 0usize;
    for n in 0..total {
        let got = by_n.get(&n);
        if n % 10 == 0 {
            let r = got.unwrap_or_else(|| panic!("error record {n} was sampled out"));
            assert_eq!(ratio_attr(&r.attributes), None, "kept by rule, not ratio");
            assert_eq!(get_str(&r.attributes, "das.markers"), Some("[🔑][➡️][❌]"));
        } else if n % 25 == 0 {
            assert!(got.is_none(), "health check {n} passed the drop rule");
        } else {
            sampled_offered += 1;
            if let Some(r) = got {
                sampled_kept += 1;
                assert_eq!(ratio_attr(&r.attributes), Some(RATIO), "record {n}");
                if n % 7 == 0 {
                    // The JSON body became attributes; the secret was masked,
                    // the password deleted and the e-mail hashed.
                    assert_eq!(
                        r.body.as_ref().and_then(|b| b.value.as_ref()),
                        Some(&any_value::Value::StringValue(format!("charge {n}")))
                    );
                    assert_eq!(get_str(&r.attributes, "token"), Some("***"));
                    assert_eq!(get(&r.attributes, "password"), None);
                    let email = get_str(&r.attributes, "user.email").unwrap();
                    assert_eq!(email.len(), 64, "sha256 hex, not {email}");
                }
            }
        }
    }
    // Binomial: 1,648 offered at 0.25 has a standard deviation of ~1.1%.
    let share = sampled_kept as f64 / sampled_offered as f64;
    assert!((share - RATIO).abs() < 0.05, "kept {share} of sampled logs");

    // Spans: a trace's spans are kept or dropped together; errors always kept.
    let mut spans: HashMap<Vec<u8>, Vec<Span>> = HashMap::new();
    for req in sink.traces.lock().unwrap().iter() {
        for rs in &req.resource_spans {
            assert_enriched_resource(&rs.resource);
            for ss in &rs.scope_spans {
                for s in &ss.spans {
                    spans.entry(s.trace_id.clone()).or_default().push(s.clone());
                }
            }
        }
    }
    let mut kept_traces = 0;
    for (t, id) in trace_ids.iter().enumerate() {
        let got = spans.get(id).map_or(&[][..], Vec::as_slice);
        let errors = got
            .iter()
            .filter(|s| s.status.as_ref().is_some_and(|st| st.code == 2))
            .count();
        assert_eq!(
            errors,
            usize::from(t % 8 == 0),
            "trace {t}: error span kept"
        );
        let others = got.len() - errors;
        assert!(
            others == 0 || others == SPANS_PER_TRACE - usize::from(t % 8 == 0),
            "trace {t}: {others} of its sampled spans kept"
        );
        if others > 0 {
            kept_traces += 1;
            for s in got.iter().filter(|s| s.status.is_none()) {
                assert_eq!(ratio_attr(&s.attributes), Some(RATIO));
            }
        }
    }
    let share = kept_traces as f64 / TRACES as f64;
    assert!((share - RATIO).abs() < 0.13, "kept {share} of 200 traces");

    // The metric: resource enriched, the point's secret masked, not sampled.
    let metrics = sink.metrics.lock().unwrap().clone();
    assert_eq!(metrics.len(), 1);
    let rm = &metrics[0].resource_metrics[0];
    assert_enriched_resource(&rm.resource);
    let Some(metric::Data::Gauge(g)) = &rm.scope_metrics[0].metrics[0].data else {
        panic!("a gauge");
    };
    assert_eq!(get_str(&g.data_points[0].attributes, "token"), Some("***"));
}
