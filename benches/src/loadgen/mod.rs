//! The load generator: pre-encoded OTLP requests sent over gRPC, HTTP/protobuf
//! or HTTP/JSON, `concurrency` at a time, flat out or at a fixed rate, for a
//! duration or a number of requests. Counting is by items; the same request
//! is sent again and again.
//!
//! At a fixed rate, request `i` is due at `start + i / rate` whichever worker
//! sends it, so the schedule never drifts, and its latency is measured from
//! when it was due (a late send counts against the server, not hidden by it).

pub mod client;
pub mod histogram;
pub mod payload;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use weir_core::Signal;

pub use client::{Client, Outcome};
pub use histogram::Histogram;
pub use payload::{BodyFormat, Payload};

/// The wire protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP/gRPC.
    Grpc,
    /// OTLP/HTTP with protobuf bodies.
    HttpProtobuf,
    /// OTLP/HTTP with JSON bodies.
    HttpJson,
}

impl Protocol {
    /// The body format the protocol carries.
    pub fn format(self) -> BodyFormat {
        match self {
            Protocol::HttpJson => BodyFormat::Json,
            _ => BodyFormat::Protobuf,
        }
    }
}

impl FromStr for Protocol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "grpc" => Ok(Protocol::Grpc),
            "http/protobuf" | "http" => Ok(Protocol::HttpProtobuf),
            "http/json" => Ok(Protocol::HttpJson),
            _ => Err(format!(
                "unknown protocol `{s}`: grpc, http/protobuf or http/json"
            )),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::HttpJson => "http/json",
        })
    }
}

/// When to stop sending.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    /// After this long (requests in flight then still finish).
    After(Duration),
    /// After this many requests.
    Requests(u64),
}

/// What to send, how and how much.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// `http://host:port` (HTTP: `/v1/<signal>` is appended unless a path is given).
    pub endpoint: String,
    /// Wire protocol.
    pub protocol: Protocol,
    /// Signal.
    pub signal: Signal,
    /// gzip the bodies (HTTP: pre-compressed once; gRPC: tonic compresses each).
    pub gzip: bool,
    /// Items per request (1000 by default).
    pub items_per_request: usize,
    /// Requests in flight.
    pub concurrency: usize,
    /// gRPC connections (HTTP/1.1 uses one per request in flight).
    pub connections: usize,
    /// Requests per second; `None` is flat out.
    pub rate: Option<f64>,
    /// When to stop.
    pub stop: Stop,
    /// Stamp the send time into each request (protobuf, no gzip, logs or
    /// traces) so a sink can measure end-to-end latency; costs a copy.
    pub stamp: bool,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl LoadConfig {
    /// Defaults: 1000 items a request, 8 in flight on 2 connections, flat out, 10 s.
    pub fn new(endpoint: impl Into<String>, protocol: Protocol, signal: Signal) -> Self {
        LoadConfig {
            endpoint: endpoint.into(),
            protocol,
            signal,
            gzip: false,
            items_per_request: 1000,
            concurrency: 8,
            connections: 2,
            rate: None,
            stop: Stop::After(Duration::from_secs(10)),
            stamp: false,
            timeout: Duration::from_secs(30),
        }
    }

    /// The request this config sends, encoded (and, for HTTP, compressed
    /// once; tonic compresses each gRPC message itself).
    pub fn payload(&self) -> Payload {
        Payload::build(
            self.signal,
            self.items_per_request,
            self.protocol.format(),
            self.gzip && self.protocol != Protocol::Grpc,
        )
    }
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// From the first send to the last answer.
    pub elapsed: Duration,
    /// Requests answered OK.
    pub ok_requests: u64,
    /// Items in those requests (acknowledged by the server).
    pub ok_items: u64,
    /// Requests refused with 503 / UNAVAILABLE (retryable).
    pub refused_requests: u64,
    /// Items in those.
    pub refused_items: u64,
    /// Other failures by kind.
    pub errors: BTreeMap<String, u64>,
    /// Latency of every answered request (OK or not).
    pub latency: Histogram,
    /// Latency of OK requests only.
    pub ok_latency: Histogram,
}

impl LoadReport {
    /// Requests that failed other than by a refusal.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Acknowledged items per second.
    pub fn items_per_sec(&self) -> f64 {
        self.ok_items as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Requests (all outcomes) per second.
    pub fn requests_per_sec(&self) -> f64 {
        (self.ok_requests + self.refused_requests + self.error_count()) as f64
            / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn merge(&mut self, other: &LoadReport) {
        self.ok_requests += other.ok_requests;
        self.ok_items += other.ok_items;
        self.refused_requests += other.refused_requests;
        self.refused_items += other.refused_items;
        for (k, v) in &other.errors {
            *self.errors.entry(k.clone()).or_default() += v;
        }
        self.latency.merge(&other.latency);
        self.ok_latency.merge(&other.ok_latency);
    }

    /// One line: `12.0 s: 1000 req/s, 1000000 items/s; ok 12000 (12000000 items), refused 0, errors 0; latency p50 1.00 ms, p99 2.00 ms`.
    pub fn summary(&self) -> String {
        let errors = if self.errors.is_empty() {
            "0".to_string()
        } else {
            let kinds: Vec<String> = self
                .errors
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            format!("{} ({})", self.error_count(), kinds.join(", "))
        };
        format!(
            "{:.1} s: {:.0} req/s, {:.0} items/s; ok {} ({} items), refused {} ({} items), errors {}; latency {}",
            self.elapsed.as_secs_f64(),
            self.requests_per_sec(),
            self.items_per_sec(),
            self.ok_requests,
            self.ok_items,
            self.refused_requests,
            self.refused_items,
            errors,
            histogram::fmt_p50_p99(&self.latency),
        )
    }
}

/// Connects and runs the load described by `cfg`.
pub async fn run(cfg: &LoadConfig) -> Result<LoadReport, String> {
    if cfg.stamp
        && (cfg.gzip || cfg.protocol == Protocol::HttpJson || cfg.signal == Signal::Metrics)
    {
        return Err("stamping needs uncompressed protobuf logs or traces".into());
    }
    let payload = Arc::new(cfg.payload());
    let client = Client::connect(
        &cfg.endpoint,
        cfg.protocol,
        cfg.signal,
        &payload,
        cfg.gzip,
        cfg.connections,
        cfg.timeout,
    )
    .await?;
    run_with(cfg, client, payload).await
}

/// Runs the load over an already connected `client`.
pub async fn run_with(
    cfg: &LoadConfig,
    client: Client,
    payload: Arc<Payload>,
) -> Result<LoadReport, String> {
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let interval = cfg.rate.map(|r| Duration::from_secs_f64(1.0 / r.max(1e-6)));
    let deadline = match cfg.stop {
        Stop::After(d) => Some(start + d),
        Stop::Requests(_) => None,
    };
    let limit = match cfg.stop {
        Stop::Requests(n) => n,
        Stop::After(_) => u64::MAX,
    };
    let stamp = cfg.stamp;
    let mut workers = Vec::new();
    for w in 0..cfg.concurrency.max(1) {
        let next = next.clone();
        let client = client.clone();
        let payload = payload.clone();
        workers.push(tokio::spawn(async move {
            let mut r = LoadReport::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= limit {
                    break;
                }
                let due = match interval {
                    Some(step) => start + step.mul_f64(i as f64),
                    None => Instant::now(),
                };
                if deadline.is_some_and(|d| due >= d) {
                    break;
                }
                if interval.is_some() {
                    tokio::time::sleep_until(due.into()).await;
                }
                let body = if stamp {
                    payload.stamped()
                } else {
                    payload.body.clone()
                };
                let outcome = client.send(w, body).await;
                let latency = due.elapsed();
                r.latency.record(latency);
                match outcome {
                    Outcome::Ok => {
                        r.ok_requests += 1;
                        r.ok_items += payload.items;
                        r.ok_latency.record(latency);
                    }
                    Outcome::Refused => {
                        r.refused_requests += 1;
                        r.refused_items += payload.items;
                    }
                    Outcome::Error(kind) => *r.errors.entry(kind).or_default() += 1,
                }
            }
            r
        }));
    }
    let mut report = LoadReport::default();
    for w in workers {
        let r = w.await.map_err(|e| format!("load worker failed: {e}"))?;
        report.merge(&r);
    }
    report.elapsed = start.elapsed();
    Ok(report)
}
