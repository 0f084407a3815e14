//! Spans, metrics, pass-through and registration.

use super::*;
use crate::test_support::{resource, traces_batch};

use weir_core::otlp::metrics::v1::{
    Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    metric::Data,
};
use weir_core::otlp::trace::v1::span::Event;

#[tokio::test]
async fn spans_get_attributes_markers_and_masking() {
    let mut p = build("attributes: [{ key: a, value: b }]\ndas: {}\nmask: {}").unwrap();
    let span = Span {
        attributes: vec![kv("domain", s("network")), kv("token", s("t"))],
        ..Default::default()
    };
    let batch = traces_batch([(None, vec![span])]);
    let sink = CollectSink::new();
    p.process(batch, &mut sink.emitter()).await.unwrap();
    let mut b = sink.take().remove(0);
    let span = &b.traces_mut().unwrap()[0].scope_spans[0].spans[0];
    assert_eq!(get_s(&span.attributes, "a"), Some("b"));
    assert_eq!(get_s(&span.attributes, "das.markers"), Some("[🌐][❓][➡️]"));
    assert_eq!(get_s(&span.attributes, "token"), Some("***"));
}

#[tokio::test]
async fn span_events_are_fingerprinted_and_masked() {
    let mut p = build("mask: {}").unwrap();
    let trace = "java.lang.IllegalStateException: boom\n  at a.B.c(B.java:1)\n  at a.B.d(B.java:2)";
    let span = Span {
        events: vec![Event {
            name: "exception".into(),
            attributes: vec![
                kv("exception.type", s("java.lang.IllegalStateException")),
                kv("exception.stacktrace", s(trace)),
                kv("exception.message", s("bad api_key=abc123")),
            ],
            ..Default::default()
        }],
        ..Default::default()
    };
    let resource = resource(vec![kv("telemetry.sdk.language", s("java"))]);
    let batch = traces_batch([(Some(resource), vec![span])]);
    let sink = CollectSink::new();
    p.process(batch, &mut sink.emitter()).await.unwrap();
    let mut b = sink.take().remove(0);
    let event = &b.traces_mut().unwrap()[0].scope_spans[0].spans[0].events[0];
    let want =
        crate::enrich::fingerprint::fingerprint("java.lang.IllegalStateException", trace, "java");
    assert_eq!(
        get_s(&event.attributes, "exception.fingerprint"),
        Some(want.as_str())
    );
    assert_eq!(
        get_s(&event.attributes, "exception.message"),
        Some("bad api_key=***")
    );
}

fn metrics_batch() -> Batch {
    let point = |v: f64, attrs| NumberDataPoint {
        attributes: attrs,
        value: Some(weir_core::otlp::metrics::v1::number_data_point::Value::AsDouble(v)),
        ..Default::default()
    };
    Batch::metrics(
        vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![kv("service.name", s("api")), kv("db.password", s("pw"))],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![
                    Metric {
                        name: "requests".into(),
                        data: Some(Data::Sum(Sum {
                            data_points: vec![
                                point(1.0, vec![kv("user.email", s("ada@example.com"))]),
                                point(2.0, vec![kv("token", s("t"))]),
                            ],
                            ..Default::default()
                        })),
                        ..Default::default()
                    },
                    Metric {
                        name: "latency".into(),
                        data: Some(Data::Histogram(Histogram {
                            data_points: vec![HistogramDataPoint {
                                attributes: vec![kv("user.email", s("bob@example.com"))],
                                count: 1,
                                ..Default::default()
                            }],
                            ..Default::default()
                        })),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
        BatchMeta::default(),
    )
}

#[tokio::test]
async fn metrics_get_resource_steps_point_actions_and_masking() {
    let yaml = "attributes:\n  - { key: deployment.environment.name, value: prod, target: resource }\n  - { key: user.email, action: hash }\ndetectors: { service_name: ignored, os: true }\nmask: {}\ndas: {}";
    let cx = BuildContext::for_test("enrich", Kind::Processor, &[Signal::Metrics]);
    let mut p = EnrichProcessorFactory
        .build(&ComponentConfig::from_yaml(yaml).unwrap(), &cx)
        .unwrap();
    let sink = CollectSink::new();
    p.process(metrics_batch(), &mut sink.emitter())
        .await
        .unwrap();
    let mut b = sink.take().remove(0);
    assert_eq!(b.items(), 3, "no point lost");
    let rm = &b.metrics_mut().unwrap()[0];
    let res = &rm.resource.as_ref().unwrap().attributes;
    assert_eq!(get_s(res, "deployment.environment.name"), Some("prod"));
    assert_eq!(get_s(res, "service.name"), Some("api"), "present: kept");
    assert_eq!(get_s(res, "os.type"), Some(detectors::os_type()));
    assert_eq!(get_s(res, "db.password"), Some("***"));
    let metrics = &rm.scope_metrics[0].metrics;
    let Some(Data::Sum(sum)) = &metrics[0].data else {
        panic!("a sum")
    };
    let hashed = fingerprint::sha256_hex(&[b"ada@example.com"]);
    assert_eq!(
        get_s(&sum.data_points[0].attributes, "user.email"),
        Some(hashed.as_str())
    );
    assert_eq!(get_s(&sum.data_points[1].attributes, "token"), Some("***"));
    let Some(Data::Histogram(h)) = &metrics[1].data else {
        panic!("a histogram")
    };
    let hashed = fingerprint::sha256_hex(&[b"bob@example.com"]);
    assert_eq!(
        get_s(&h.data_points[0].attributes, "user.email"),
        Some(hashed.as_str())
    );
    // Markers are for records: no point got one.
    assert!(get(&sum.data_points[0].attributes, "das.markers").is_none());
}

#[tokio::test]
async fn nothing_to_do_keeps_received_bytes() {
    let mut p = build("fingerprint: false").unwrap();
    let logs = vec![ResourceLogs {
        scope_logs: vec![ScopeLogs {
            log_records: vec![record("m", vec![])],
            ..Default::default()
        }],
        ..Default::default()
    }];
    let data = Batch::logs(logs, BatchMeta::default()).to_protobuf();
    let batch = Batch::from_encoded(Signal::Logs, data.clone(), 1, BatchMeta::default());
    let sink = CollectSink::new();
    p.process(batch, &mut sink.emitter()).await.unwrap();
    assert_eq!(sink.take()[0].received_bytes(), Some(&data));
}

#[test]
fn registered_in_the_builtin_registry() {
    let mut r = weir_core::Registry::new();
    crate::register(&mut r);
    let f = r.processor("enrich").expect("registered");
    assert_eq!(f.signals(), &Signal::ALL);
}
