//! Sending one request over OTLP/gRPC (tonic, raw bytes) or OTLP/HTTP
//! (reqwest, keep-alive), and classifying the answer.

use std::time::Duration;

use bytes::Bytes;
use http::uri::PathAndQuery;
use tonic::client::Grpc;
use tonic::codec::CompressionEncoding;
use tonic::transport::{Channel, Endpoint};
use weir_core::Signal;
use weir_otlp::grpc::{BytesCodec, export_path};

use super::Protocol;
use super::payload::{BodyFormat, Payload};

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx / OK: the items were accepted.
    Ok,
    /// 503 / UNAVAILABLE: refused for now, retryable (backpressure, shutdown).
    Refused,
    /// Anything else, by kind: `http_400`, `grpc_internal`, `transport`, ...
    Error(String),
}

/// A connected client for one endpoint, protocol and signal.
#[derive(Clone)]
pub enum Client {
    /// gRPC over a few HTTP/2 connections.
    Grpc {
        /// One per connection; worker `w` uses `channels[w % len]`.
        channels: Vec<Grpc<Channel>>,
        /// The Export method.
        path: PathAndQuery,
    },
    /// HTTP/1.1 with a keep-alive pool.
    Http {
        /// The pool.
        client: reqwest::Client,
        /// `.../v1/<signal>`.
        url: String,
        /// The content type of the bodies.
        content_type: &'static str,
        /// Whether bodies are gzip-compressed.
        gzip: bool,
    },
}

/// Installs ring as rustls's crypto provider (once; reqwest needs one).
pub fn install_crypto() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl Client {
    /// Connects (gRPC: `connections` HTTP/2 connections, eagerly).
    pub async fn connect(
        endpoint: &str,
        protocol: Protocol,
        signal: Signal,
        payload: &Payload,
        gzip: bool,
        connections: usize,
        timeout: Duration,
    ) -> Result<Client, String> {
        let endpoint = endpoint.trim_end_matches('/');
        match protocol {
            Protocol::Grpc => {
                let ep = Endpoint::from_shared(endpoint.to_string())
                    .map_err(|e| format!("bad endpoint {endpoint}: {e}"))?
                    .tcp_nodelay(true)
                    .timeout(timeout)
                    .connect_timeout(Duration::from_secs(5))
                    .initial_connection_window_size(16 << 20)
                    .initial_stream_window_size(4 << 20);
                let mut channels = Vec::new();
                for _ in 0..connections.max(1) {
                    let channel = ep
                        .connect()
                        .await
                        .map_err(|e| format!("connecting to {endpoint}: {e}"))?;
                    let mut grpc = Grpc::new(channel).max_encoding_message_size(usize::MAX);
                    if gzip {
                        grpc = grpc.send_compressed(CompressionEncoding::Gzip);
                    }
                    channels.push(grpc);
                }
                Ok(Client::Grpc {
                    channels,
                    path: PathAndQuery::from_static(export_path(signal)),
                })
            }
            Protocol::HttpProtobuf | Protocol::HttpJson => {
                install_crypto();
                let client = reqwest::Client::builder()
                    .tcp_nodelay(true)
                    .timeout(timeout)
                    .pool_max_idle_per_host(1024)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| format!("building the HTTP client: {e}"))?;
                let url = if endpoint.contains("/v1/") {
                    endpoint.to_string()
                } else {
                    format!("{endpoint}/v1/{}", signal.as_str())
                };
                Ok(Client::Http {
                    client,
                    url,
                    content_type: match payload.format {
                        BodyFormat::Protobuf => "application/x-protobuf",
                        BodyFormat::Json => "application/json",
                    },
                    gzip,
                })
            }
        }
    }

    /// Sends `body` (as the worker numbered `worker`).
    pub async fn send(&self, worker: usize, body: Bytes) -> Outcome {
        match self {
            Client::Grpc { channels, path } => {
                let mut grpc = channels[worker % channels.len()].clone();
                if let Err(e) = grpc.ready().await {
                    return Outcome::Error(format!("transport: {e}"));
                }
                match grpc
                    .unary(tonic::Request::new(body), path.clone(), BytesCodec)
                    .await
                {
                    Ok(_) => Outcome::Ok,
                    Err(status) if status.code() == tonic::Code::Unavailable => Outcome::Refused,
                    Err(status) => Outcome::Error(grpc_kind(status.code())),
                }
            }
            Client::Http {
                client,
                url,
                content_type,
                gzip,
            } => {
                let mut req = client
                    .post(url.as_str())
                    .header(http::header::CONTENT_TYPE, *content_type)
                    .body(body);
                if *gzip {
                    req = req.header(http::header::CONTENT_ENCODING, "gzip");
                }
                match req.send().await {
                    Ok(resp) => {
                        let status = resp.status();
                        // Read the body so the connection is reused.
                        let _ = resp.bytes().await;
                        if status.is_success() {
                            Outcome::Ok
                        } else if status == http::StatusCode::SERVICE_UNAVAILABLE {
                            Outcome::Refused
                        } else {
                            Outcome::Error(format!("http_{}", status.as_u16()))
                        }
                    }
                    Err(e) if e.is_timeout() => Outcome::Error("timeout".into()),
                    Err(_) => Outcome::Error("transport".into()),
                }
            }
        }
    }
}

/// `grpc_` and the code's name in snake case, e.g. `grpc_invalid_argument`.
fn grpc_kind(code: tonic::Code) -> String {
    let mut out = String::from("grpc");
    for c in format!("{code:?}").chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}
