use std::convert::Infallible;
use std::future::{Ready, ready};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::uri::PathAndQuery;
use tonic::body::Body;
use tonic::codec::CompressionEncoding;
use tonic::codegen::{BoxFuture, Service};
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response};

use super::*;

#[test]
fn paths() {
    assert_eq!(
        export_path(Signal::Logs),
        "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
    );
    assert_eq!(
        export_path(Signal::Traces),
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
    );
    assert_eq!(
        export_path(Signal::Metrics),
        "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
    );
    for s in Signal::ALL {
        assert_eq!(signal_of_path(export_path(s)), Some(s));
    }
    assert_eq!(
        signal_of_path("/opentelemetry.proto.collector.logs.v1.LogsService/Other"),
        None
    );
    assert_eq!(signal_of_path(""), None);
}

/// Answers with `<grpc-encoding of the request>:<the request bytes>`.
struct Echo;

impl UnaryService<Bytes> for Echo {
    type Response = Bytes;
    type Future = Ready<Result<Response<Bytes>, tonic::Status>>;

    fn call(&mut self, req: Request<Bytes>) -> Self::Future {
        let enc = req
            .metadata()
            .get("grpc-encoding")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("identity")
            .to_owned();
        let mut out = enc.into_bytes();
        out.push(b':');
        out.extend_from_slice(req.get_ref());
        ready(Ok(Response::new(Bytes::from(out))))
    }
}

/// A logs "service" serving Export with [`BytesCodec`], as a receiver would.
#[derive(Clone)]
struct LogsServer;

impl NamedService for LogsServer {
    const NAME: &'static str = "opentelemetry.proto.collector.logs.v1.LogsService";
}

impl Service<http::Request<Body>> for LogsServer {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        Box::pin(async move {
            if signal_of_path(req.uri().path()) != Some(Signal::Logs) {
                return Ok(tonic::Status::unimplemented("no such method").into_http());
            }
            let mut grpc = Grpc::new(BytesCodec)
                .accept_compressed(CompressionEncoding::Gzip)
                .accept_compressed(CompressionEncoding::Zstd)
                .send_compressed(CompressionEncoding::Gzip)
                .send_compressed(CompressionEncoding::Zstd);
            Ok(grpc.unary(Echo, req).await)
        })
    }
}

#[tokio::test]
async fn bytes_travel_over_a_real_socket_with_compression() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(LogsServer)
            .serve_with_incoming(TcpIncoming::from(listener)),
    );
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();

    // Compressible and big enough that compression really happens.
    let payload = Bytes::from(b"\x0a\x03abc".repeat(10_000));
    for encoding in [Encoding::Identity, Encoding::Gzip, Encoding::Zstd] {
        let enc = tonic_encoding(encoding);
        let mut client = tonic::client::Grpc::new(channel.clone());
        if let Some(e) = enc {
            client = client.send_compressed(e).accept_compressed(e);
        }
        client.ready().await.unwrap();
        let path = PathAndQuery::from_static(export_path(Signal::Logs));
        let resp = client
            .unary(Request::new(payload.clone()), path, BytesCodec)
            .await
            .unwrap();
        let name = encoding.as_str();
        let got_enc = resp
            .metadata()
            .get("grpc-encoding")
            .map(|v| v.to_str().unwrap().to_owned());
        // The server compresses its answer with what the client accepts.
        let expect = (encoding != Encoding::Identity).then_some(name);
        assert_eq!(got_enc.as_deref(), expect, "{name}");
        let body = resp.into_inner();
        let (head, rest) = body.split_at(name.len() + 1);
        assert_eq!(head, format!("{name}:").as_bytes());
        assert_eq!(rest, &payload[..], "{name}");
    }

    // Another method on the same service is refused, not misrouted.
    let mut client = tonic::client::Grpc::new(channel);
    client.ready().await.unwrap();
    let path = PathAndQuery::from_static("/opentelemetry.proto.collector.logs.v1.LogsService/Nope");
    let err = client
        .unary(Request::new(Bytes::new()), path, BytesCodec)
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unimplemented);
    server.abort();
}
