//! Field-by-field checks of the metrics encoding.

use super::*;
use serde_json::{Value, json};
use weir_core::otlp::common::v1::{AnyValue, KeyValue, any_value};

fn attr(key: &str, v: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        key_strindex: 0,
    }
}

fn exemplar() -> Exemplar {
    Exemplar {
        filtered_attributes: vec![attr("user", "u1")],
        time_unix_nano: 99,
        span_id: vec![0x0a; 8],
        trace_id: vec![0x0b; 16],
        value: Some(exemplar::Value::AsInt(-7)),
    }
}

fn metric(name: &str, data: metric::Data) -> Metric {
    Metric {
        name: name.into(),
        description: format!("{name} description"),
        unit: "ms".into(),
        metadata: vec![],
        data: Some(data),
    }
}

fn encode(metrics: Vec<Metric>) -> Value {
    let rm = vec![ResourceMetrics {
        resource: None,
        scope_metrics: vec![ScopeMetrics {
            scope: None,
            metrics,
            schema_url: String::new(),
        }],
        schema_url: String::new(),
    }];
    let mut out = Vec::new();
    encode_metrics(&rm, &mut out);
    let mut v: Value = serde_json::from_slice(&out).unwrap();
    v["resourceMetrics"][0]["scopeMetrics"][0]["metrics"].take()
}

#[test]
fn gauge_and_sum() {
    let point = |value| NumberDataPoint {
        attributes: vec![attr("host", "a")],
        start_time_unix_nano: 10,
        time_unix_nano: 20,
        exemplars: vec![],
        flags: 0,
        value: Some(value),
    };
    let metrics = encode(vec![
        Metric {
            metadata: vec![attr("origin", "sdk")],
            ..metric(
                "temp",
                metric::Data::Gauge(Gauge {
                    data_points: vec![
                        point(number_data_point::Value::AsDouble(21.5)),
                        point(number_data_point::Value::AsDouble(f64::NAN)),
                        NumberDataPoint {
                            exemplars: vec![exemplar()],
                            flags: 1,
                            ..point(number_data_point::Value::AsInt(0))
                        },
                    ],
                }),
            )
        },
        metric(
            "requests",
            metric::Data::Sum(Sum {
                data_points: vec![point(number_data_point::Value::AsInt(i64::MAX))],
                aggregation_temporality: 2,
                is_monotonic: true,
            }),
        ),
    ]);
    let gauge = &metrics[0];
    assert_eq!(gauge["name"], "temp");
    assert_eq!(gauge["description"], "temp description");
    assert_eq!(gauge["unit"], "ms");
    assert_eq!(
        gauge["metadata"],
        json!([{"key": "origin", "value": {"stringValue": "sdk"}}])
    );
    let points = &gauge["gauge"]["dataPoints"];
    assert_eq!(
        points[0],
        json!({"attributes": [{"key": "host", "value": {"stringValue": "a"}}],
               "startTimeUnixNano": "10", "timeUnixNano": "20", "asDouble": 21.5})
    );
    assert_eq!(points[1]["asDouble"], "NaN");
    assert_eq!(
        points[2]["asInt"], "0",
        "a set oneof is written even at zero"
    );
    assert_eq!(points[2]["flags"], 1);
    assert_eq!(
        points[2]["exemplars"],
        json!([{"filteredAttributes": [{"key": "user", "value": {"stringValue": "u1"}}],
                "timeUnixNano": "99", "asInt": "-7",
                "spanId": "0a0a0a0a0a0a0a0a", "traceId": "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"}])
    );
    let sum = &metrics[1]["sum"];
    assert_eq!(sum["aggregationTemporality"], 2);
    assert_eq!(sum["isMonotonic"], true);
    assert_eq!(sum["dataPoints"][0]["asInt"], "9223372036854775807");
}

#[test]
fn histogram() {
    let metrics = encode(vec![metric(
        "latency",
        metric::Data::Histogram(Histogram {
            data_points: vec![
                HistogramDataPoint {
                    attributes: vec![],
                    start_time_unix_nano: 1,
                    time_unix_nano: 2,
                    count: 6,
                    sum: Some(0.0),
                    bucket_counts: vec![1, 0, 5],
                    explicit_bounds: vec![0.5, 2.0],
                    exemplars: vec![Exemplar {
                        value: Some(exemplar::Value::AsDouble(1.25)),
                        ..Default::default()
                    }],
                    flags: 0,
                    min: Some(0.1),
                    max: Some(f64::NEG_INFINITY),
                },
                HistogramDataPoint::default(),
            ],
            aggregation_temporality: 1,
        }),
    )]);
    let h = &metrics[0]["histogram"];
    assert_eq!(h["aggregationTemporality"], 1);
    assert_eq!(
        h["dataPoints"][0],
        json!({"startTimeUnixNano": "1", "timeUnixNano": "2", "count": "6", "sum": 0.0,
               "bucketCounts": ["1", "0", "5"], "explicitBounds": [0.5, 2.0],
               "exemplars": [{"asDouble": 1.25}], "min": 0.1, "max": "-Infinity"})
    );
    assert_eq!(h["dataPoints"][1], json!({}));
}

#[test]
fn exponential_histogram() {
    use exponential_histogram_data_point::Buckets;
    let metrics = encode(vec![metric(
        "sizes",
        metric::Data::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![ExponentialHistogramDataPoint {
                attributes: vec![attr("k", "v")],
                start_time_unix_nano: 5,
                time_unix_nano: 6,
                count: 12,
                sum: Some(33.5),
                scale: -2,
                zero_count: 1,
                positive: Some(Buckets {
                    offset: -3,
                    bucket_counts: vec![4, 5],
                }),
                negative: Some(Buckets::default()),
                flags: 1,
                exemplars: vec![exemplar()],
                min: Some(-1.0),
                max: Some(9.0),
                zero_threshold: 1e-9,
            }],
            aggregation_temporality: 2,
        }),
    )]);
    let h = &metrics[0]["exponentialHistogram"];
    assert_eq!(h["aggregationTemporality"], 2);
    let p = &h["dataPoints"][0];
    assert_eq!(p["attributes"][0]["key"], "k");
    assert_eq!(p["startTimeUnixNano"], "5");
    assert_eq!(p["timeUnixNano"], "6");
    assert_eq!(p["count"], "12");
    assert_eq!(p["sum"], 33.5);
    assert_eq!(p["scale"], -2);
    assert_eq!(p["zeroCount"], "1");
    assert_eq!(
        p["positive"],
        json!({"offset": -3, "bucketCounts": ["4", "5"]})
    );
    assert_eq!(p["negative"], json!({}));
    assert_eq!(p["flags"], 1);
    assert_eq!(p["exemplars"][0]["filteredAttributes"][0]["key"], "user");
    assert_eq!(p["min"], -1.0);
    assert_eq!(p["max"], 9.0);
    assert_eq!(p["zeroThreshold"], 1e-9);
    assert_eq!(p.as_object().unwrap().len(), 14, "every field written: {p}");
}

#[test]
fn summary_and_empty_metric() {
    let metrics = encode(vec![
        metric(
            "rtt",
            metric::Data::Summary(Summary {
                data_points: vec![SummaryDataPoint {
                    attributes: vec![],
                    start_time_unix_nano: 0,
                    time_unix_nano: 8,
                    count: 3,
                    sum: 7.5,
                    quantile_values: vec![
                        summary_data_point::ValueAtQuantile {
                            quantile: 0.0,
                            value: 1.0,
                        },
                        summary_data_point::ValueAtQuantile {
                            quantile: 0.99,
                            value: f64::INFINITY,
                        },
                    ],
                    flags: 0,
                }],
            }),
        ),
        Metric {
            name: "nothing".into(),
            ..Default::default()
        },
        metric("empty gauge", metric::Data::Gauge(Gauge::default())),
    ]);
    assert_eq!(
        metrics[0]["summary"],
        json!({"dataPoints": [{"timeUnixNano": "8", "count": "3", "sum": 7.5,
            "quantileValues": [{"value": 1.0}, {"quantile": 0.99, "value": "Infinity"}]}]})
    );
    assert_eq!(metrics[1], json!({"name": "nothing"}));
    assert_eq!(metrics[2]["gauge"], json!({}));
}
