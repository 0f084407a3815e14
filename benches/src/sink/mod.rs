//! A counting OTLP sink: gRPC (tonic, raw bytes) and HTTP (protobuf and JSON)
//! endpoints that count items per signal with the wire walk (protobuf is never
//! decoded), answer success after an optional delay, and measure end-to-end
//! latency of requests the load generator stamped.
//!
//! For the fault scenarios it also records the id of every record that
//! arrives ([`SinkConfig::record_ids`], see [`crate::faults::ids`]), answers
//! with retryable refusals or slowly on cue ([`Sink::set_delay`],
//! [`Sink::refuse`]), and goes down and comes back on the same ports
//! ([`Sink::down`], [`Sink::up`]).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};
use tonic::Status;
use tonic::codec::CompressionEncoding;
use weir_core::Signal;
use weir_otlp::compression::{Encoding, decompress};
use weir_otlp::grpc::{BytesCodec, signal_of_path};
use weir_otlp::status::status_with_retry_info;

use crate::faults::ids::Arrivals;
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
    /// Record the id of every record that arrives ([`Sink::arrivals`]).
    pub record_ids: bool,
}

impl SinkConfig {
    /// gRPC and HTTP on free ports of 127.0.0.1, no delay.
    pub fn local() -> Self {
        let any: SocketAddr = "127.0.0.1:0".parse().expect("address");
        SinkConfig {
            grpc: Some(any),
            http: Some(any),
            delay: Duration::ZERO,
            record_ids: false,
        }
    }
}

/// What the sink counted, and how it answers now.
#[derive(Debug, Default)]
pub struct SinkCounts {
    items: [AtomicU64; 3],
    requests: AtomicU64,
    invalid: AtomicU64,
    refused: AtomicU64,
    e2e: Mutex<Histogram>,
    arrivals: Option<Arc<Arrivals>>,
    /// Delay before answering, microseconds.
    delay_us: AtomicU64,
    /// 0, or the status every request is refused with (429 or 503).
    refuse: AtomicU16,
    /// Retry-After of a refusal, seconds.
    retry_after: AtomicU64,
}

/// A retryable refusal the sink answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// HTTP 429 + Retry-After; gRPC RESOURCE_EXHAUSTED + RetryInfo (throttling).
    Throttle,
    /// HTTP 503 + Retry-After; gRPC UNAVAILABLE + RetryInfo.
    Unavailable,
}

impl SinkCounts {
    fn delay(&self) -> Duration {
        Duration::from_micros(self.delay_us.load(Ordering::Relaxed))
    }

    /// The refusal to answer with now, and its Retry-After.
    fn refusal(&self) -> Option<(u16, Duration)> {
        match self.refuse.load(Ordering::Relaxed) {
            0 => None,
            status => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                let after = Duration::from_secs(self.retry_after.load(Ordering::Relaxed));
                Some((status, after))
            }
        }
    }

    fn count(&self, signal: Signal, items: usize, body: &[u8]) {
        if let Some(arrivals) = &self.arrivals {
            arrivals.record_body(body, items);
        }
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
    /// The accept tasks while up; each owns its connections.
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
        let counts = Arc::new(SinkCounts {
            arrivals: cfg.record_ids.then(Arc::default),
            delay_us: AtomicU64::new(cfg.delay.as_micros() as u64),
            ..SinkCounts::default()
        });
        let mut sink = Sink {
            grpc_addr: cfg.grpc,
            http_addr: cfg.http,
            counts,
            tasks: Vec::new(),
        };
        sink.listen().await?;
        Ok(sink)
    }

    /// Binds the configured (then, once bound, the same) addresses and serves.
    async fn listen(&mut self) -> std::io::Result<()> {
        if let Some(addr) = self.grpc_addr {
            // tokio sets SO_REUSEADDR: the old connections' TIME_WAIT does not
            // keep a restarted sink off its port.
            let listener = TcpListener::bind(addr).await?;
            self.grpc_addr = Some(listener.local_addr()?);
            let counts = self.counts.clone();
            self.tasks.push(tokio::spawn(serve(listener, move |req| {
                grpc_export(req, counts.clone())
            })));
        }
        if let Some(addr) = self.http_addr {
            let listener = TcpListener::bind(addr).await?;
            self.http_addr = Some(listener.local_addr()?);
            let counts = self.counts.clone();
            self.tasks.push(tokio::spawn(serve(listener, move |req| {
                http_export(req, counts.clone())
            })));
        }
        Ok(())
    }

    /// Stops listening and closes every connection without answering what is
    /// in flight: a dead destination. Counts are kept.
    pub async fn down(&mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
            let _ = t.await;
        }
    }

    /// Listens again on the same ports (no-op while up).
    pub async fn up(&mut self) -> std::io::Result<()> {
        if self.tasks.is_empty() {
            self.listen().await?;
        }
        Ok(())
    }

    /// Whether it is listening.
    pub fn is_up(&self) -> bool {
        !self.tasks.is_empty()
    }

    /// Waits `delay` before answering each request from now on (zero: none).
    pub fn set_delay(&self, delay: Duration) {
        self.counts
            .delay_us
            .store(delay.as_micros() as u64, Ordering::Relaxed);
    }

    /// Refuses every request from now on with `refusal` and a Retry-After of
    /// `retry_after` (whole seconds); `None` accepts again.
    pub fn refuse(&self, refusal: Option<Refusal>, retry_after: Duration) {
        self.counts
            .retry_after
            .store(retry_after.as_secs(), Ordering::Relaxed);
        let status = match refusal {
            None => 0,
            Some(Refusal::Throttle) => 429,
            Some(Refusal::Unavailable) => 503,
        };
        self.counts.refuse.store(status, Ordering::Relaxed);
    }

    /// Requests refused on cue so far.
    pub fn refused(&self) -> u64 {
        self.counts.refused.load(Ordering::Relaxed)
    }

    /// The ids that arrived (with [`SinkConfig::record_ids`]).
    pub fn arrivals(&self) -> Option<Arc<Arrivals>> {
        self.counts.arrivals.clone()
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

/// Accepts connections on `listener` and serves HTTP/1.1 and HTTP/2 (h2c) with
/// `handler`. The connections belong to this task: aborting it closes them all.
async fn serve<F, Fut, B>(listener: TcpListener, handler: F)
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut conns = JoinSet::new();
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(_) => {
                    // Out of file descriptors and the like: wait, don't spin.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
        };
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        conns.spawn(async move {
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
}

impl tonic::server::UnaryService<Bytes> for ExportSvc {
    type Response = Bytes;
    type Future =
        Pin<Box<dyn Future<Output = Result<tonic::Response<Bytes>, Status>> + Send + 'static>>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let body = request.into_inner();
        let (signal, counts) = (self.signal, self.counts.clone());
        Box::pin(async move {
            let Some(signal) = signal else {
                counts.invalid.fetch_add(1, Ordering::Relaxed);
                return Err(Status::unimplemented("unknown method"));
            };
            if let Some((status, after)) = counts.refusal() {
                let code = if status == 429 {
                    tonic::Code::ResourceExhausted
                } else {
                    tonic::Code::Unavailable
                };
                return Err(status_with_retry_info(code, "refused on cue", after));
            }
            match weir_otlp::wire::inspect(signal, &body) {
                Ok(summary) => {
                    let delay = counts.delay();
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
) -> Response<tonic::body::Body> {
    let svc = ExportSvc {
        signal: signal_of_path(req.uri().path()),
        counts,
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

async fn http_export(req: Request<Incoming>, counts: Arc<SinkCounts>) -> Response<Full<Bytes>> {
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
    if let Some((status, after)) = counts.refusal() {
        let mut response = reply(
            StatusCode::from_u16(status).expect("429 or 503"),
            json,
            if json { b"{}" } else { b"" },
        );
        response.headers_mut().insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from(after.as_secs()),
        );
        return response;
    }
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
    let delay = counts.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    counts.count(signal, items, &body);
    reply(StatusCode::OK, json, if json { b"{}" } else { b"" })
}
