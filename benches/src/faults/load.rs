//! The identity load: OTLP log requests of fresh ids ([`IdPayload`]) at a
//! fixed rate, up to `concurrency` in flight, over gRPC or HTTP/protobuf,
//! until stopped. Each request's fate goes into [`Sends`], told apart more
//! finely than the benchmarks' [`crate::loadgen::Outcome`]: a gRPC
//! UNAVAILABLE from the server is a refusal, one made up by the client
//! because the connection failed is a transport failure.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use weir_core::Signal;

use super::ids::{Fate, IdPayload, IdSource, Sends};
use crate::loadgen::{Client, Payload, Protocol};

/// What to send and how fast.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    /// `http://host:port` of the receiver (gRPC or HTTP, per `protocol`).
    pub endpoint: String,
    /// gRPC or HTTP/protobuf.
    pub protocol: Protocol,
    /// Records per request.
    pub items: usize,
    /// Requests per second offered.
    pub rate: f64,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl LoadSpec {
    /// `rate` requests a second of `items` records over `protocol`, 8 in
    /// flight, 10 s timeout.
    pub fn new(endpoint: String, protocol: Protocol, items: usize, rate: f64) -> LoadSpec {
        LoadSpec {
            endpoint,
            protocol,
            items,
            rate,
            concurrency: 8,
            timeout: Duration::from_secs(10),
        }
    }
}

/// A running load.
pub struct Load {
    stop: watch::Sender<bool>,
    workers: Vec<JoinHandle<()>>,
    started: Instant,
    requests: Arc<AtomicU64>,
}

/// What a load did, in requests per second.
#[derive(Debug, Clone, Copy)]
pub struct LoadRun {
    /// From start to the last answer.
    pub elapsed: Duration,
    /// Requests sent.
    pub requests: u64,
}

impl LoadRun {
    /// Requests sent per second.
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl Load {
    /// Connects and starts sending (on the current tokio runtime).
    pub async fn start(
        spec: &LoadSpec,
        ids: Arc<IdSource>,
        sends: Arc<Sends>,
    ) -> Result<Load, String> {
        let format = spec.protocol.format();
        let payload = Arc::new(IdPayload::logs(spec.items, format));
        // The client looks only at the format of the payload it is given.
        let probe = Payload::build(Signal::Logs, 1, format, false);
        let client = Client::connect(
            &spec.endpoint,
            spec.protocol,
            Signal::Logs,
            &probe,
            false,
            1,
            spec.timeout,
        )
        .await?;
        let (stop, stopped) = watch::channel(false);
        let started = Instant::now();
        let next = Arc::new(AtomicU64::new(0));
        let requests = Arc::new(AtomicU64::new(0));
        let step = Duration::from_secs_f64(1.0 / spec.rate.max(1e-3));
        let workers = (0..spec.concurrency.max(1))
            .map(|w| {
                let worker = Worker {
                    w,
                    client: client.clone(),
                    payload: payload.clone(),
                    ids: ids.clone(),
                    sends: sends.clone(),
                    next: next.clone(),
                    requests: requests.clone(),
                    stopped: stopped.clone(),
                    started,
                    step,
                };
                tokio::spawn(worker.run())
            })
            .collect();
        Ok(Load {
            stop,
            workers,
            started,
            requests,
        })
    }

    /// Requests sent so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Stops sending and waits for the requests in flight to be answered.
    pub async fn stop(self) -> LoadRun {
        let _ = self.stop.send(true);
        for w in self.workers {
            let _ = w.await;
        }
        LoadRun {
            elapsed: self.started.elapsed(),
            requests: self.requests.load(Ordering::Relaxed),
        }
    }
}

struct Worker {
    w: usize,
    client: Client,
    payload: Arc<IdPayload>,
    ids: Arc<IdSource>,
    sends: Arc<Sends>,
    next: Arc<AtomicU64>,
    requests: Arc<AtomicU64>,
    stopped: watch::Receiver<bool>,
    started: Instant,
    step: Duration,
}

impl Worker {
    async fn run(mut self) {
        loop {
            if *self.stopped.borrow() {
                return;
            }
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let due = self.started + self.step.mul_f64(i as f64);
            tokio::select! {
                _ = tokio::time::sleep_until(due.into()) => {}
                _ = self.stopped.changed() => return,
            }
            let first = self.ids.take(self.payload.items);
            let body = self.payload.body(first);
            self.requests.fetch_add(1, Ordering::Relaxed);
            let fate = send(&self.client, self.w, body).await;
            let failed = matches!(fate, Fate::Failed(_));
            self.sends.push(first, self.payload.items, fate);
            if failed && Instant::now() > due {
                // A dead or restarting server fails at once: catch up on the
                // schedule gently rather than in a burst.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// Sends one request and classifies the answer.
async fn send(client: &Client, worker: usize, body: Bytes) -> Fate {
    match client {
        Client::Grpc { channels, path } => {
            let mut grpc = channels[worker % channels.len()].clone();
            if let Err(e) = grpc.ready().await {
                return Fate::Failed(format!("grpc_transport: {e}"));
            }
            let res = grpc
                .unary(
                    tonic::Request::new(body),
                    path.clone(),
                    weir_otlp::grpc::BytesCodec,
                )
                .await;
            match res {
                Ok(_) => Fate::Acked,
                Err(status) => grpc_fate(&status),
            }
        }
        Client::Http {
            client,
            url,
            content_type,
            ..
        } => {
            let req = client
                .post(url.as_str())
                .header(http::header::CONTENT_TYPE, *content_type)
                .body(body);
            match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    // Read the body so the connection is reused.
                    let _ = resp.bytes().await;
                    match status {
                        200..=299 => Fate::Acked,
                        429 | 503 => Fate::Refused(format!("http_{status}")),
                        other => Fate::Rejected(format!("http_{other}")),
                    }
                }
                Err(e) if e.is_timeout() => Fate::Failed("http_timeout".into()),
                Err(_) => Fate::Failed("http_transport".into()),
            }
        }
    }
}

/// A status the server sent carries no source error; one tonic made up from
/// a failed connection does.
fn grpc_fate(status: &tonic::Status) -> Fate {
    use tonic::Code;
    let local = std::error::Error::source(status).is_some();
    match status.code() {
        _ if local => Fate::Failed(format!("grpc_transport ({:?})", status.code())),
        Code::DeadlineExceeded => Fate::Failed("grpc_deadline_exceeded".into()),
        Code::Unavailable => Fate::Refused("grpc_unavailable".into()),
        Code::ResourceExhausted => Fate::Refused("grpc_resource_exhausted".into()),
        // Connection resets and the like surface as UNKNOWN or CANCELLED.
        Code::Unknown | Code::Cancelled if status.message().contains("transport") => {
            Fate::Failed(format!("grpc_transport ({:?})", status.code()))
        }
        other => Fate::Rejected(format!("grpc_{other:?}")),
    }
}
