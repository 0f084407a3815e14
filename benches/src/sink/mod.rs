//! A counting OTLP sink: gRPC (tonic, raw bytes) and HTTP (protobuf and JSON)
//! endpoints that count items per signal with the wire walk (protobuf is never
//! decoded), answer success after an optional delay, and measure end-to-end
//! latency of requests the load generator stamped.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::Status;
use tonic::codec::CompressionEncoding;
use weir_core::Signal;
use weir_otlp::compression::{Encoding, decompress};
use weir_otlp::grpc::{BytesCodec, signal_of_path};

use crate::loadgen::Histogram;
use crate::loadgen::payload::{find_stamp, unix_nanos};

/// Where to listen and how to answer.
#[derive(Debug, Clone, Default)]
pub struct SinkConfig {
    /// gRPC listen address (`127.0.0.1:0` for any free port); `None`: off.
    pub grpc: Option<SocketAddr>,
    /// HTTP listen address; `None`: off.
    pub http: Option<SocketAddr>,
    /// Wait this long before answering each request (a slow destination).
    pub delay: Duration,
}

impl SinkConfig {
    /// gRPC and HTTP on free ports of 127.0.0.1, no delay.
    pub fn local() -> Self {
        let any: SocketAddr = "127.0.0.1:0".parse().expect("address");
        SinkConfig {
            grpc: Some(any),
            http: Some(any),
            delay: Duration::ZERO,
        }
    }
}

/// What the sink counted.
#[derive(Debug, Default)]
pub struct SinkCounts {
    items: [AtomicU64; 3],
    requests: AtomicU64,
    invalid: AtomicU64,
    e2e: Mutex<Histogram>,
}

impl SinkCounts {
    fn count(&self, signal: Signal, items: usize, body: &[u8]) {
        if let Some(sent) = find_stamp(body) {
            let now = unix_nanos();
            let latency = Duration::from_nanos(now.saturating_sub(sent));
            self.e2e.lock().expect("e2e histogram").record(latency);
        }
        self.items[signal.index()].fetch_add(items as u64, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
    }
}

/// A running sink; stops when dropped.
pub struct Sink {
    /// Bound gRPC address.
    pub grpc_addr: Option<SocketAddr>,
    /// Bound HTTP address.
    pub http_addr: Option<SocketAddr>,
    counts: Arc<SinkCounts>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Sink {
    /// Binds and starts serving (inside a tokio runtime).
    pub async fn start(cfg: SinkConfig) -> std::io::Result<Sink> {
        let counts = Arc::new(SinkCounts::default());
        let mut sink = Sink {
            grpc_addr: None,
            http_addr: None,
            counts: counts.clone(),
            tasks: Vec::new(),
        };
        if let Some(addr) = cfg.grpc {
            let listener = TcpListener::bind(addr).await?;
            sink.grpc_addr = Some(listener.local_addr()?);
            let (counts, delay) = (counts.clone(), cfg.delay);
            sink.tasks.push(tokio::spawn(serve(listener, move |req| {
                grpc_export(req, counts.clone(), delay)
            })));
        }
        if let Some(addr) = cfg.http {
            let listener = TcpListener::bind(addr).await?;
            sink.http_addr = Some(listener.local_addr()?);
            let (counts, delay) = (counts.clone(), cfg.delay);
            sink.tasks.push(tokio::spawn(serve(listener, move |req| {
                http_export(req, counts.clone(), delay)
            })));
        }
        Ok(sink)
    }

    /// Items counted of `signal`.
    pub fn items(&self, signal: Signal) -> u64 {
        self.counts.items[signal.index()].load(Ordering::Relaxed)
    }

    /// Items counted of all signals.
    pub fn total_items(&self) -> u64 {
        Signal::ALL.into_iter().map(|s| self.items(s)).sum()
    }

    /// Requests accepted.
    pub fn requests(&self) -> u64 {
        self.counts.requests.load(Ordering::Relaxed)
    }

    /// Requests refused as invalid (bad protobuf, JSON or compression; unknown path).
    pub fn invalid(&self) -> u64 {
        self.counts.invalid.load(Ordering::Relaxed)
    }

    /// End-to-end latency of stamped requests (send → counted here).
    pub fn e2e_latency(&self) -> Histogram {
        self.counts.e2e.lock().expect("e2e histogram").clone()
    }

    /// Forgets the end-to-end latencies seen so far.
    pub fn reset_e2e(&self) {
        *self.counts.e2e.lock().expect("e2e histogram") = Histogram::default();
    }

    /// `logs 1000, traces 0, metrics 0 items in 1 requests, 0 invalid`.
    pub fn summary(&self) -> String {
        format!(
            "logs {}, traces {}, metrics {} items in {} requests, {} invalid",
            self.items(Signal::Logs),
            self.items(Signal::Traces),
            self.items(Signal::Metrics),
            self.requests(),
            self.invalid()
        )
    }
}

/// Accepts connections on `listener` and serves HTTP/1.1 and HTTP/2 (h2c) with `handler`.
async fn serve<F, Fut, B>(listener: TcpListener, handler: F)
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    while let Ok((stream, _)) = listener.accept().await {
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let handler = handler.clone();
                async move { Ok::<_, Infallible>(handler(req).await) }
            });
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http2()
                .initial_stream_window_size(4 << 20)
                .initial_connection_window_size(16 << 20)
                .max_concurrent_streams(1024);
            let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
        });
    }
}

/// The Export method of every OTLP service.
struct ExportSvc {
    signal: Option<Signal>,
    counts: Arc<SinkCounts>,
    delay: Duration,
}

impl tonic::server::UnaryService<Bytes> for ExportSvc {
    type Response = Bytes;
    type Future =
        Pin<Box<dyn Future<Output = Result<tonic::Response<Bytes>, Status>> + Send + 'static>>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let body = request.into_inner();
        let (signal, counts, delay) = (self.signal, self.counts.clone(), self.delay);
        Box::pin(async move {
            let Some(signal) = signal else {
                counts.invalid.fetch_add(1, Ordering::Relaxed);
                return Err(Status::unimplemented("unknown method"));
            };
            match weir_otlp::wire::inspect(signal, &body) {
                Ok(summary) => {
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    counts.count(signal, summary.items, &body);
                    Ok(tonic::Response::new(Bytes::new()))
                }
                Err(e) => {
                    counts.invalid.fetch_add(1, Ordering::Relaxed);
                    Err(Status::invalid_argument(e.to_string()))
                }
            }
        })
    }
}

async fn grpc_export(
    req: Request<Incoming>,
    counts: Arc<SinkCounts>,
    delay: Duration,
) -> Response<tonic::body::Body> {
    let svc = ExportSvc {
        signal: signal_of_path(req.uri().path()),
        counts,
        delay,
    };
    let mut grpc = tonic::server::Grpc::new(BytesCodec)
        .accept_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Zstd)
        .max_decoding_message_size(256 << 20);
    grpc.unary(svc, req).await
}

fn reply(status: StatusCode, json: bool, body: &'static [u8]) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body)));
    *response.status_mut() = status;
    let ct = if json {
        "application/json"
    } else {
        "application/x-protobuf"
    };
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(ct),
    );
    response
}

async fn http_export(
    req: Request<Incoming>,
    counts: Arc<SinkCounts>,
    delay: Duration,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let json = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let invalid = |counts: &SinkCounts| {
        counts.invalid.fetch_add(1, Ordering::Relaxed);
        reply(
            StatusCode::BAD_REQUEST,
            json,
            if json { b"{}" } else { b"" },
        )
    };
    let signal = match parts.uri.path() {
        "/v1/logs" => Signal::Logs,
        "/v1/traces" => Signal::Traces,
        "/v1/metrics" => Signal::Metrics,
        _ => {
            counts.invalid.fetch_add(1, Ordering::Relaxed);
            return reply(StatusCode::NOT_FOUND, json, b"");
        }
    };
    let Ok(wire) = body.collect().await.map(|b| b.to_bytes()) else {
        return invalid(&counts);
    };
    let encoding = parts
        .headers
        .get(http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map_or(Some(Encoding::Identity), Encoding::from_header);
    let body = match encoding {
        Some(Encoding::Identity) => wire,
        Some(enc) => match decompress(enc, &wire, 256 << 20) {
            Ok(b) => b,
            Err(_) => return invalid(&counts),
        },
        None => return invalid(&counts),
    };
    let items = if json {
        weir_otlp::json::decode(signal, &body)
            .ok()
            .map(|d| d.item_count())
    } else {
        weir_otlp::wire::inspect(signal, &body)
            .ok()
            .map(|s| s.items)
    };
    let Some(items) = items else {
        return invalid(&counts);
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    counts.count(signal, items, &body);
    reply(StatusCode::OK, json, if json { b"{}" } else { b"" })
}
