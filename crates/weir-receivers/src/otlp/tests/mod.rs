//! The receiver over real sockets on 127.0.0.1: a harness that runs it into a
//! collecting (or stalling) sink, and small gRPC and HTTP clients.

mod acks;
mod grpc;
mod http;
mod lifecycle;
mod memory;
mod partial;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use prost::Message;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use weir_core::otlp::collector::logs::v1::ExportLogsServiceRequest;
use weir_core::otlp::collector::metrics::v1::ExportMetricsServiceRequest;
use weir_core::otlp::collector::trace::v1::ExportTraceServiceRequest;
use weir_core::otlp::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_core::otlp::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use weir_core::otlp::resource::v1::Resource;
use weir_core::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span};
use weir_core::telemetry::{ComponentTelemetry, Kind};
use weir_core::testing::CollectSink;
use weir_core::{
    Batch, BatchSink, BuildContext, ComponentConfig, ComponentError, Receiver, ReceiverContext,
    SendError, ShutdownTrigger, Signal, async_trait,
};

use super::{BoundAddrs, OtlpConfig, OtlpReceiver};
use crate::test_support::{Reply, Stalled, bound, connect, post, req, send, wire};

/// Both protocols on free ports, small limits so bad-input tests stay cheap.
const BASE: &str =
    "protocols: { grpc: { endpoint: '127.0.0.1:0' }, http: { endpoint: '127.0.0.1:0' } }
max_request_bytes: 1MiB
backpressure_timeout: 100ms
";

/// A running receiver.
struct Server {
    grpc: SocketAddr,
    http: SocketAddr,
    sink: CollectSink,
    telemetry: ComponentTelemetry,
    trigger: ShutdownTrigger,
    task: JoinHandle<Result<(), ComponentError>>,
}

/// Starts a receiver of `BASE` + `extra` into a collector taking every signal.
async fn start(extra: &str) -> Server {
    start_with(&format!("{BASE}{extra}"), None, &Signal::ALL).await
}

/// Starts a receiver of `yaml`, sending `signals` into `sink` (a collector
/// when `None`).
async fn start_with(yaml: &str, sink: Option<Arc<dyn BatchSink>>, signals: &[Signal]) -> Server {
    let (receiver, cx, trigger, collect, telemetry) = build(yaml, sink, signals);
    let bound_to = receiver.bound();
    let task = tokio::spawn(Box::new(receiver).run(cx));
    let addrs: BoundAddrs = bound(bound_to).await;
    Server {
        grpc: addrs.grpc.unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0))),
        http: addrs.http.unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0))),
        sink: collect,
        telemetry,
        trigger,
        task,
    }
}

type Built = (
    OtlpReceiver,
    ReceiverContext,
    ShutdownTrigger,
    CollectSink,
    ComponentTelemetry,
);

fn build(yaml: &str, sink: Option<Arc<dyn BatchSink>>, signals: &[Signal]) -> Built {
    let build = BuildContext::for_test("otlp", Kind::Receiver, signals);
    let config = OtlpConfig::from_component(&ComponentConfig::from_yaml(yaml).unwrap()).unwrap();
    let receiver = OtlpReceiver::new(config, &build).unwrap();
    let (cx, trigger, collect) = wire(&build, sink, signals);
    (receiver, cx, trigger, collect, build.telemetry)
}

impl Server {
    /// Stops the receiver and says how it ended.
    async fn stop(self) -> Result<(), ComponentError> {
        self.trigger.trigger();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("receiver stopped in time")
            .expect("receiver task did not panic")
    }

    /// Batches received so far.
    fn batches(&self) -> Vec<Batch> {
        self.sink.take()
    }

    /// The value of `weir_receiver_refused_items_total{signal, reason}`.
    fn refused(&self, signal: Signal, reason: &'static str) -> u64 {
        self.telemetry.refused_items(signal, reason).get()
    }
}

fn string(s: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(s.to_string())),
    })
}

fn resource() -> Option<Resource> {
    Some(Resource {
        attributes: vec![KeyValue {
            key: "service.name".into(),
            value: string("checkout"),
            ..Default::default()
        }],
        ..Default::default()
    })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "test".into(),
        version: "1.0".into(),
        ..Default::default()
    })
}

/// An export request of `signal` with `n` items, encoded.
fn request(signal: Signal, n: usize) -> Bytes {
    let attrs = |i: usize| {
        vec![KeyValue {
            key: "i".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::IntValue(i as i64)),
            }),
            ..Default::default()
        }]
    };
    let bytes = match signal {
        Signal::Logs => ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: resource(),
                scope_logs: vec![ScopeLogs {
                    scope: scope(),
                    log_records: (0..n)
                        .map(|i| LogRecord {
                            time_unix_nano: 1_700_000_000_000_000_000 + i as u64,
                            severity_number: 9,
                            body: string(&format!("line {i}")),
                            attributes: attrs(i),
                            trace_id: vec![7; 16],
                            span_id: vec![8; 8],
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec(),
        Signal::Traces => ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: resource(),
                scope_spans: vec![ScopeSpans {
                    scope: scope(),
                    spans: (0..n)
                        .map(|i| Span {
                            trace_id: vec![1; 16],
                            span_id: (i as u64 + 1).to_be_bytes().to_vec(),
                            name: format!("span {i}"),
                            start_time_unix_nano: 1,
                            end_time_unix_nano: 2,
                            attributes: attrs(i),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec(),
        Signal::Metrics => ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: resource(),
                scope_metrics: vec![ScopeMetrics {
                    scope: scope(),
                    metrics: vec![Metric {
                        name: "queue.depth".into(),
                        data: Some(metric::Data::Gauge(Gauge {
                            data_points: (0..n)
                                .map(|i| NumberDataPoint {
                                    time_unix_nano: 5,
                                    attributes: attrs(i),
                                    value: Some(number_data_point::Value::AsInt(i as i64)),
                                    ..Default::default()
                                })
                                .collect(),
                        })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec(),
    };
    Bytes::from(bytes)
}

/// What OTLP errors carry.
trait StatusMessage {
    /// The `message` of a JSON `google.rpc.Status` body.
    fn json_message(&self) -> String;
}

impl StatusMessage for Reply {
    fn json_message(&self) -> String {
        let v: serde_json::Value = serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body));
        v["message"].as_str().unwrap_or_default().to_string()
    }
}

const PROTOBUF: (&str, &str) = ("content-type", "application/x-protobuf");
const JSON: (&str, &str) = ("content-type", "application/json");
