//! The `otlp` exporter as a client, on the real binary (`stdin → otlp`): a
//! stand-in OTLP server written here answers each request from a script, and the
//! tests check what arrived and what weir counted, per the OTLP specification:
//! - HTTP 503 with `Retry-After: 1` twice, then 200: everything arrives exactly
//!   once, two retries, each at least a second after the last refusal;
//! - HTTP 400 with a `google.rpc.Status`: the batch is dropped, counted as
//!   failed with reason `http_400`, and sent only once;
//! - gRPC UNAVAILABLE twice, then OK: delivered once; INVALID_ARGUMENT: failed,
//!   not retried;
//! - `partial_success` with 2 rejected (HTTP and gRPC): 2 failed with reason
//!   `partial_rejected`, the rest sent.

mod otlp_support;
mod support;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value;
use prost::Message;
use tonic::codec::CompressionEncoding;

use otlp_support::{runtime, wait_exit, write_pipeline};
use support::{Weir, metric, wait_metrics};

const LINES: usize = 20;

/// `google.rpc.Status`, the body of an OTLP/HTTP error answer.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// `google.rpc.Status` with its details, as gRPC carries it in `grpc-status-details-bin`.
#[derive(Clone, PartialEq, prost::Message)]
struct StatusWithDetails {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<ProtoAny>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
struct ProtoAny {
    #[prost(string, tag = "1")]
    type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    value: Vec<u8>,
}

/// `google.rpc.RetryInfo`.
#[derive(Clone, PartialEq, prost::Message)]
struct RetryInfo {
    #[prost(message, optional, tag = "1")]
    retry_delay: Option<ProtoDuration>,
}

/// `google.protobuf.Duration`.
#[derive(Clone, PartialEq, prost::Message)]
struct ProtoDuration {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

/// What the stand-in answers to one request.
#[derive(Debug, Clone)]
enum Reply {
    /// Success; `rejected` > 0 adds a `partial_success`.
    Ok { rejected: i64 },
    /// An HTTP error status with a protobuf `google.rpc.Status` body.
    Http {
        status: u16,
        retry_after: Option<&'static str>,
        message: &'static str,
    },
    /// A gRPC error status, with RetryInfo when a delay in seconds is given.
    Grpc(tonic::Code, &'static str, Option<i64>),
}

/// One request the stand-in received.
#[derive(Debug, Clone)]
struct Seen {
    at: Instant,
    /// The record bodies, in order.
    bodies: Vec<String>,
    /// The reply it got.
    reply: Reply,
}

/// The script and the log of a stand-in server.
#[derive(Clone, Default)]
struct StandIn {
    script: Arc<Mutex<VecDeque<Reply>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl StandIn {
    fn new(script: Vec<Reply>) -> Self {
        StandIn {
            script: Arc::new(Mutex::new(script.into())),
            seen: Arc::default(),
        }
    }

    /// Logs a request and picks its reply (success once the script is done).
    fn take(&self, req: &ExportLogsServiceRequest) -> Reply {
        let reply = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Reply::Ok { rejected: 0 });
        let bodies = req
            .resource_logs
            .iter()
            .flat_map(|rl| &rl.scope_logs)
            .flat_map(|sl| &sl.log_records)
            .map(|r| match r.body.as_ref().and_then(|b| b.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                other => panic!("unexpected body {other:?}"),
            })
            .collect();
        self.seen.lock().unwrap().push(Seen {
            at: Instant::now(),
            bodies,
            reply: reply.clone(),
        });
        reply
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn partial(rejected: i64) -> Option<ExportLogsPartialSuccess> {
    (rejected > 0).then(|| ExportLogsPartialSuccess {
        rejected_log_records: rejected,
        error_message: format!("{rejected} records had no trace context"),
    })
}

/// The HTTP stand-in: `POST /v1/logs`, protobuf, gzip or plain.
async fn http_answer(stand_in: StandIn, req: Request<Incoming>) -> Response<Full<Bytes>> {
    assert_eq!(req.uri().path(), "/v1/logs");
    assert_eq!(req.headers()["content-type"], "application/x-protobuf");
    let gzip = req
        .headers()
        .get("content-encoding")
        .is_some_and(|v| v == "gzip");
    let raw = req.into_body().collect().await.unwrap().to_bytes();
    let mut body = Vec::new();
    if gzip {
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut body)
            .expect("valid gzip");
    } else {
        body.extend_from_slice(&raw);
    }
    let request = ExportLogsServiceRequest::decode(&body[..]).expect("an OTLP logs request");
    let (status, retry_after, body) = match stand_in.take(&request) {
        Reply::Ok { rejected } => {
            let resp = ExportLogsServiceResponse {
                partial_success: partial(rejected),
            };
            (200, None, resp.encode_to_vec())
        }
        Reply::Http {
            status,
            retry_after,
            message,
        } => {
            let st = RpcStatus {
                code: if status == 400 { 3 } else { 14 },
                message: message.into(),
            };
            (status, retry_after, st.encode_to_vec())
        }
        Reply::Grpc(..) => unreachable!("a gRPC reply in an HTTP script"),
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    resp.headers_mut()
        .insert("content-type", "application/x-protobuf".parse().unwrap());
    if let Some(ra) = retry_after {
        resp.headers_mut()
            .insert("retry-after", ra.parse().unwrap());
    }
    resp
}

async fn serve_http(stand_in: StandIn) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let stand_in = stand_in.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let stand_in = stand_in.clone();
                    async move { Ok::<_, Infallible>(http_answer(stand_in, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// The gRPC stand-in, with the generated `LogsService` server.
struct GrpcStandIn(StandIn);

#[tonic::async_trait]
impl LogsService for GrpcStandIn {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        match self.0.take(request.get_ref()) {
            Reply::Ok { rejected } => Ok(tonic::Response::new(ExportLogsServiceResponse {
                partial_success: partial(rejected),
            })),
            Reply::Grpc(code, message, None) => Err(tonic::Status::new(code, message)),
            Reply::Grpc(code, message, Some(secs)) => {
                let details = StatusWithDetails {
                    code: code as i32,
                    message: message.into(),
                    details: vec![ProtoAny {
                        type_url: "type.googleapis.com/google.rpc.RetryInfo".into(),
                        value: RetryInfo {
                            retry_delay: Some(ProtoDuration {
                                seconds: secs,
                                nanos: 0,
                            }),
                        }
                        .encode_to_vec(),
                    }],
                };
                Err(tonic::Status::with_details(
                    code,
                    message,
                    details.encode_to_vec().into(),
                ))
            }
            Reply::Http { .. } => unreachable!("an HTTP reply in a gRPC script"),
        }
    }
}

async fn serve_grpc(stand_in: StandIn) -> SocketAddr {
    let incoming =
        tonic::transport::server::TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = incoming.local_addr().unwrap();
    let service = LogsServiceServer::new(GrpcStandIn(stand_in))
        .accept_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Zstd);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(incoming),
    );
    addr
}

/// What a run showed.
struct Run {
    /// `/metrics` once every record was settled (sent or failed).
    metrics: String,
    seen: Vec<Seen>,
    lines: Vec<String>,
    stderr: String,
}

impl Run {
    fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        metric(&self.metrics, name, labels)
    }
}

/// Runs `stdin → otlp (protocol)` against a stand-in answering from `script`,
/// feeding `LINES` lines as one batch; waits until each record is sent or
/// failed, then closes stdin and expects exit 0.
fn run(protocol: &str, script: Vec<Reply>) -> Run {
    let rt = runtime();
    let stand_in = StandIn::new(script);
    let addr = rt.block_on(async {
        if protocol == "grpc" {
            serve_grpc(stand_in.clone()).await
        } else {
            serve_http(stand_in.clone()).await
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        r#"
receivers:
  stdin: {{ max_batch: 1000, max_delay: 100ms }}
exporters:
  otlp:
    protocol: {protocol}
    endpoint: http://{addr}
    timeout: 5s
    retry: {{ initial: 50ms, max: 2s }}
service:
  shutdown_timeout: 10s
  telemetry: {{ metrics: {{ address: 127.0.0.1:0 }} }}
  pipelines:
    logs: {{ receivers: [stdin], exporters: [otlp] }}
"#
    );
    let pipeline = write_pipeline(dir.path(), "pipeline.yaml", &yaml);
    let mut weir = Weir::start(&pipeline, &[]);
    let metrics_addr = weir.metrics_addr();
    let lines: Vec<String> = (0..LINES).map(|i| format!("{protocol} line {i}")).collect();
    let mut stdin = weir.child.stdin.take().unwrap();
    // One write: the lines are read together and become one batch.
    stdin
        .write_all(format!("{}\n", lines.join("\n")).as_bytes())
        .unwrap();
    stdin.flush().unwrap();
    let metrics = wait_metrics(&metrics_addr, |m| {
        metric(m, "weir_exporter_sent_items_total", &[])
            + metric(m, "weir_exporter_failed_items_total", &[])
            >= LINES as f64
    });
    drop(stdin); // EOF ends the run
    let code = wait_exit(&mut weir);
    let stderr = weir.stderr();
    assert_eq!(code, 0, "{stderr}");
    Run {
        metrics,
        seen: stand_in.seen(),
        lines,
        stderr,
    }
}

/// The records of requests answered with (full or partial) success, sorted.
fn delivered(run: &Run) -> Vec<String> {
    let mut out: Vec<String> = run
        .seen
        .iter()
        .filter(|s| matches!(s.reply, Reply::Ok { .. }))
        .flat_map(|s| s.bodies.clone())
        .collect();
    out.sort();
    out
}

fn sorted(lines: &[String]) -> Vec<String> {
    let mut v = lines.to_vec();
    v.sort();
    v
}

#[test]
fn http_503_with_retry_after_twice_then_200_delivers_everything_once() {
    let refuse = Reply::Http {
        status: 503,
        retry_after: Some("1"),
        message: "overloaded, come back later",
    };
    let started = Instant::now();
    let run = run("http/protobuf", vec![refuse.clone(), refuse]);
    assert_eq!(run.seen.len(), 3, "two refusals, then success");
    for s in &run.seen {
        assert_eq!(
            sorted(&s.bodies),
            sorted(&run.lines),
            "each attempt carries the whole batch"
        );
    }
    assert_eq!(delivered(&run), sorted(&run.lines), "every record once");
    // Retry-After: 1 is honoured although the backoff starts at 50 ms.
    for pair in run.seen.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= Duration::from_millis(990), "retried after {gap:?}");
    }
    assert_eq!(run.metric("weir_exporter_retries_total", &[]), 2.0);
    assert_eq!(
        run.metric("weir_exporter_sent_items_total", &[]),
        LINES as f64
    );
    assert_eq!(run.metric("weir_exporter_failed_items_total", &[]), 0.0);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn http_400_is_dropped_counted_and_not_retried() {
    let run = run(
        "http/protobuf",
        vec![Reply::Http {
            status: 400,
            retry_after: None,
            message: "the request is malformed: bad trace id",
        }],
    );
    assert_eq!(run.seen.len(), 1, "a permanent error is not retried");
    assert_eq!(
        run.metric(
            "weir_exporter_failed_items_total",
            &[("reason", "http_400")]
        ),
        LINES as f64,
        "{}",
        run.metrics
    );
    assert_eq!(run.metric("weir_exporter_sent_items_total", &[]), 0.0);
    assert_eq!(run.metric("weir_exporter_retries_total", &[]), 0.0);
    assert!(
        run.stderr.contains("bad trace id"),
        "the server's reason is logged:\n{}",
        run.stderr
    );
}

#[test]
fn grpc_unavailable_twice_then_ok_delivers_everything_once() {
    // The first refusal asks for 1 s with RetryInfo, the second gives no delay.
    let run = run(
        "grpc",
        vec![
            Reply::Grpc(tonic::Code::Unavailable, "overloaded", Some(1)),
            Reply::Grpc(tonic::Code::Unavailable, "still overloaded", None),
        ],
    );
    assert_eq!(run.seen.len(), 3, "two refusals, then success");
    let gap = run.seen[1].at - run.seen[0].at;
    assert!(
        gap >= Duration::from_millis(990),
        "RetryInfo of 1s honoured, retried after {gap:?}"
    );
    assert_eq!(delivered(&run), sorted(&run.lines), "every record once");
    assert_eq!(run.metric("weir_exporter_retries_total", &[]), 2.0);
    assert_eq!(
        run.metric("weir_exporter_sent_items_total", &[]),
        LINES as f64
    );
    assert_eq!(run.metric("weir_exporter_failed_items_total", &[]), 0.0);
}

#[test]
fn grpc_invalid_argument_is_dropped_counted_and_not_retried() {
    let run = run(
        "grpc",
        vec![Reply::Grpc(
            tonic::Code::InvalidArgument,
            "bad trace id",
            None,
        )],
    );
    assert_eq!(run.seen.len(), 1, "a permanent error is not retried");
    assert_eq!(
        run.metric(
            "weir_exporter_failed_items_total",
            &[("reason", "grpc_invalid_argument")]
        ),
        LINES as f64,
        "{}",
        run.metrics
    );
    assert_eq!(run.metric("weir_exporter_sent_items_total", &[]), 0.0);
    assert_eq!(run.metric("weir_exporter_retries_total", &[]), 0.0);
}

#[test]
fn partial_success_counts_the_rejected_records_as_failed() {
    for protocol in ["http/protobuf", "grpc"] {
        let run = run(protocol, vec![Reply::Ok { rejected: 2 }]);
        assert_eq!(run.seen.len(), 1, "{protocol}: a partial success is final");
        assert_eq!(
            run.metric(
                "weir_exporter_failed_items_total",
                &[("reason", "partial_rejected")]
            ),
            2.0,
            "{protocol}: {}",
            run.metrics
        );
        assert_eq!(
            run.metric("weir_exporter_failed_items_total", &[]),
            2.0,
            "{protocol}"
        );
        assert_eq!(
            run.metric("weir_exporter_sent_items_total", &[]),
            (LINES - 2) as f64,
            "{protocol}"
        );
        assert_eq!(run.metric("weir_exporter_retries_total", &[]), 0.0);
    }
}
