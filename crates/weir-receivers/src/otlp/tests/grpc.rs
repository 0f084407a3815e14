//! OTLP/gRPC through a tonic client with the raw-bytes codec.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ::http::uri::PathAndQuery;
use bytes::Bytes;
use tonic::codec::CompressionEncoding;
use tonic::transport::Channel;
use tonic::{Code, Status};
use weir_core::Signal;
use weir_core::telemetry::reasons;
use weir_otlp::grpc::{BytesCodec, export_path};
use weir_otlp::status::retry_info;

use super::*;

pub(super) async fn channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// Calls `path` with `body`, optionally compressed and with a bearer token.
pub(super) async fn call(
    ch: &Channel,
    path: &'static str,
    body: Bytes,
    compression: Option<CompressionEncoding>,
    token: Option<&str>,
) -> Result<Bytes, Status> {
    let mut client = tonic::client::Grpc::new(ch.clone());
    if let Some(c) = compression {
        client = client.send_compressed(c);
    }
    client.ready().await.unwrap();
    let mut req = tonic::Request::new(body);
    if let Some(t) = token {
        req.metadata_mut()
            .insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    client
        .unary(req, PathAndQuery::from_static(path), BytesCodec)
        .await
        .map(tonic::Response::into_inner)
}

async fn export(ch: &Channel, signal: Signal, body: Bytes) -> Result<Bytes, Status> {
    call(ch, export_path(signal), body, None, None).await
}

#[tokio::test]
async fn each_signal_arrives_as_the_bytes_sent_plain_gzip_and_zstd() {
    let server = start("").await;
    let ch = channel(server.grpc).await;
    for signal in Signal::ALL {
        for compression in [
            None,
            Some(CompressionEncoding::Gzip),
            Some(CompressionEncoding::Zstd),
        ] {
            let body = request(signal, 4);
            let answer = call(&ch, export_path(signal), body.clone(), compression, None).await;
            assert!(answer.is_ok(), "{signal} {compression:?}: {answer:?}");
            let batches = server.batches();
            assert_eq!(batches.len(), 1);
            assert_eq!((batches[0].signal(), batches[0].items()), (signal, 4));
            assert_eq!(
                batches[0].received_bytes(),
                Some(&body),
                "{signal} {compression:?}"
            );
            assert!(batches[0].meta().client.as_ref().unwrap().addr.is_some());
        }
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn bad_requests_get_their_code_and_the_next_good_one_succeeds() {
    let server = start("").await;
    let ch = channel(server.grpc).await;
    let good = request(Signal::Logs, 1);
    let logs = export_path(Signal::Logs);
    let garbage = call(&ch, logs, Bytes::from_static(b"\xff\xff\xff"), None, None).await;
    let garbage = garbage.unwrap_err();
    assert_eq!(garbage.code(), Code::InvalidArgument, "{garbage:?}");
    assert!(garbage.message().contains("protobuf"), "{garbage:?}");
    export(&ch, Signal::Logs, good.clone()).await.unwrap();

    // 64 MiB of zeros, gzip-compressed by the client, against a 1 MiB limit.
    let bomb = Bytes::from(vec![0u8; 64 << 20]);
    let err = call(&ch, logs, bomb, Some(CompressionEncoding::Gzip), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert!(err.message().contains("limit"), "{err:?}");
    export(&ch, Signal::Logs, good.clone()).await.unwrap();

    // Over the limit uncompressed: not retryable OUT_OF_RANGE, but RESOURCE_EXHAUSTED.
    let big = Bytes::from(vec![0u8; (1 << 20) + 1]);
    let err = call(&ch, logs, big, None, None).await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    export(&ch, Signal::Logs, good.clone()).await.unwrap();

    let err = call(
        &ch,
        "/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export",
        good.clone(),
        None,
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::Unimplemented, "{err:?}");
    export(&ch, Signal::Logs, good).await.unwrap();
    assert_eq!(server.batches().len(), 4);
    // Garbage, the bomb and the oversize frame: one each (the path was unknown).
    assert_eq!(server.refused(Signal::Logs, reasons::INVALID), 3);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn bearer_auth_is_checked_on_metadata() {
    let server = start("auth: { bearer_tokens: ['sesame'] }\n").await;
    let ch = channel(server.grpc).await;
    let body = request(Signal::Traces, 1);
    let path = export_path(Signal::Traces);
    for token in [None, Some("nope")] {
        let err = call(&ch, path, body.clone(), None, token)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated, "{token:?}");
    }
    call(&ch, path, body, None, Some("sesame")).await.unwrap();
    let batches = server.batches();
    assert!(batches[0].meta().client.as_ref().unwrap().subject.is_some());
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_full_pipeline_gets_unavailable_with_retry_info() {
    let server = start_with(BASE, Some(Arc::new(Stalled)), &Signal::ALL).await;
    let ch = channel(server.grpc).await;
    let err = export(&ch, Signal::Metrics, request(Signal::Metrics, 3))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    assert_eq!(retry_info(&err), Some(Duration::from_secs(1)));
    assert_eq!(server.refused(Signal::Metrics, reasons::BACKPRESSURE), 3);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_signal_no_pipeline_takes_is_unimplemented() {
    let server = start_with(BASE, None, &[Signal::Logs]).await;
    let ch = channel(server.grpc).await;
    let err = export(&ch, Signal::Traces, request(Signal::Traces, 1))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unimplemented);
    assert!(
        err.message().contains("no pipeline takes traces"),
        "{err:?}"
    );
    server.stop().await.unwrap();
}

/// A truncated gzip message, sent as raw HTTP/2 since tonic's client always
/// compresses correctly: INVALID_ARGUMENT, not tonic's INTERNAL.
#[tokio::test]
async fn truncated_gzip_is_invalid_argument() {
    use weir_otlp::compression::{Encoding, compress};
    let server = start("").await;
    let gz = compress(Encoding::Gzip, &request(Signal::Logs, 3), None);
    let cut = &gz[..gz.len() / 2];
    let mut frame = vec![1u8];
    frame.extend_from_slice(&(cut.len() as u32).to_be_bytes());
    frame.extend_from_slice(cut);
    let stream = TcpStream::connect(server.grpc).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let req = ::http::Request::post(format!(
        "http://{}{}",
        server.grpc,
        export_path(Signal::Logs)
    ))
    .header("content-type", "application/grpc")
    .header("te", "trailers")
    .header("grpc-encoding", "gzip")
    .body(Full::new(Bytes::from(frame)))
    .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    let collected = body.collect().await.unwrap();
    let status = Status::from_header_map(&parts.headers)
        .or_else(|| collected.trailers().and_then(Status::from_header_map))
        .expect("a grpc-status");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("decompress"), "{status:?}");
    export(
        &channel(server.grpc).await,
        Signal::Logs,
        request(Signal::Logs, 1),
    )
    .await
    .unwrap();
    assert_eq!(server.refused(Signal::Logs, reasons::INVALID), 1);
    server.stop().await.unwrap();
}
