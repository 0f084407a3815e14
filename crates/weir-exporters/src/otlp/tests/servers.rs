//! Stand-in OTLP servers on 127.0.0.1:0 that record what they get and answer
//! from a script: an HTTP one (hyper) and a gRPC one (tonic with `BytesCodec`).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::io::Read;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tonic::codec::CompressionEncoding;
use tonic::{Code, Status};
use weir_otlp::grpc::BytesCodec;
use weir_otlp::status::status_with_retry_info;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    /// The body after undoing `Content-Encoding` (gRPC: the decoded message).
    pub body: Bytes,
    /// The body as it came over the wire (HTTP only).
    pub wire_len: usize,
    /// The body as it came over the wire: HTTP before undoing
    /// `Content-Encoding`; gRPC from [`raw_grpc_server`] the whole frame.
    pub wire: Bytes,
}

/// A scripted HTTP answer.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    pub delay: Duration,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_string()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A scripted gRPC answer.
pub enum GrpcReply {
    Ok(Bytes),
    Fail(Code, &'static str, Option<Duration>),
}

/// What a server got, and what it will answer next (then 200 / OK).
#[derive(Clone, Default)]
pub struct Recorder {
    received: Arc<Mutex<Vec<Received>>>,
    http: Arc<Mutex<VecDeque<Reply>>>,
    grpc: Arc<Mutex<VecDeque<GrpcReply>>>,
}

impl Recorder {
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn reply(&self, reply: Reply) -> &Self {
        self.http.lock().unwrap().push_back(reply);
        self
    }

    pub fn grpc_reply(&self, reply: GrpcReply) -> &Self {
        self.grpc.lock().unwrap().push_back(reply);
        self
    }

    fn record(&self, r: Received) {
        self.received.lock().unwrap().push(r);
    }
}

/// Serves `handler` on 127.0.0.1:0 with HTTP/1.1 and HTTP/2 (prior knowledge).
async fn serve<F, Fut, B>(handler: F) -> SocketAddr
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handler = handler.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    let handler = handler.clone();
                    async move { Ok::<_, Infallible>(handler(req).await) }
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

/// An OTLP/HTTP stand-in. Unscripted requests get 200 with an empty response
/// in the request's encoding.
pub async fn http_server(rec: Recorder) -> SocketAddr {
    serve(move |req: Request<Incoming>| {
        let rec = rec.clone();
        async move {
            let (parts, body) = req.into_parts();
            let wire = body.collect().await.unwrap().to_bytes();
            let encoding = parts
                .headers
                .get("content-encoding")
                .map(|v| v.to_str().unwrap());
            let body = match encoding {
                None => wire.clone(),
                Some("gzip") => {
                    let mut out = Vec::new();
                    flate2::read::MultiGzDecoder::new(&wire[..])
                        .read_to_end(&mut out)
                        .unwrap();
                    out.into()
                }
                Some("zstd") => zstd::decode_all(&wire[..]).unwrap().into(),
                Some(other) => panic!("unexpected content-encoding {other}"),
            };
            let json = parts.headers["content-type"] == "application/json";
            rec.record(Received {
                path: parts.uri.path().to_string(),
                headers: parts.headers,
                body,
                wire_len: wire.len(),
                wire,
            });
            let reply = rec.http.lock().unwrap().pop_front();
            let reply = reply.unwrap_or_else(|| {
                let ct = if json {
                    "application/json"
                } else {
                    "application/x-protobuf"
                };
                Reply::status(200).header("content-type", ct).body(if json {
                    &b"{}"[..]
                } else {
                    &b""[..]
                })
            });
            tokio::time::sleep(reply.delay).await;
            let mut response = Response::new(Full::new(Bytes::from(reply.body)));
            *response.status_mut() = StatusCode::from_u16(reply.status).unwrap();
            for (name, value) in reply.headers {
                response.headers_mut().insert(name, value.parse().unwrap());
            }
            response
        }
    })
    .await
}

/// The Export method of every OTLP service, recording into a [`Recorder`].
struct ExportSvc {
    rec: Recorder,
    path: String,
    headers: HeaderMap,
}

impl tonic::server::UnaryService<Bytes> for ExportSvc {
    type Response = Bytes;
    type Future =
        Pin<Box<dyn Future<Output = Result<tonic::Response<Bytes>, Status>> + Send + 'static>>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let body = request.into_inner();
        self.rec.record(Received {
            path: self.path.clone(),
            headers: self.headers.clone(),
            wire_len: body.len(),
            wire: body.clone(),
            body,
        });
        let reply = self.rec.grpc.lock().unwrap().pop_front();
        Box::pin(async move {
            match reply {
                None => Ok(tonic::Response::new(Bytes::new())),
                Some(GrpcReply::Ok(b)) => Ok(tonic::Response::new(b)),
                Some(GrpcReply::Fail(code, message, None)) => Err(Status::new(code, message)),
                Some(GrpcReply::Fail(code, message, Some(delay))) => {
                    Err(status_with_retry_info(code, message, delay))
                }
            }
        })
    }
}

/// An OTLP/gRPC stand-in accepting gzip and zstd. Unscripted calls get an empty
/// (fully successful) response.
pub async fn grpc_server(rec: Recorder) -> SocketAddr {
    serve(move |req: Request<Incoming>| {
        let svc = ExportSvc {
            rec: rec.clone(),
            path: req.uri().path().to_string(),
            headers: req.headers().clone(),
        };
        async move {
            let mut grpc = tonic::server::Grpc::new(BytesCodec)
                .accept_compressed(CompressionEncoding::Gzip)
                .accept_compressed(CompressionEncoding::Zstd);
            grpc.unary(svc, req).await
        }
    })
    .await
}

/// An address nothing listens on.
pub async fn closed_port() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// A gRPC stand-in that records the request body as it came (the 5-byte
/// prefix and the message, compressed or not) and answers OK (trailers-only).
pub async fn raw_grpc_server(rec: Recorder) -> SocketAddr {
    serve(move |req: Request<Incoming>| {
        let rec = rec.clone();
        async move {
            let (parts, body) = req.into_parts();
            let wire = body.collect().await.unwrap().to_bytes();
            rec.record(Received {
                path: parts.uri.path().to_string(),
                headers: parts.headers,
                body: Bytes::new(),
                wire_len: wire.len(),
                wire,
            });
            Status::ok("").into_http::<tonic::body::Body>()
        }
    })
    .await
}
