//! OTLP/gRPC against the stand-in tonic server.

use std::time::Duration;

use tonic::Code;
use weir_core::{ExportOutcome, Signal};
use weir_otlp::grpc::export_path;
use weir_otlp::response::{PartialSuccess, encode_protobuf};

use super::servers::{GrpcReply, Recorder, closed_port, grpc_server};
use super::*;

#[tokio::test]
async fn grpc_forwards_received_bytes_untouched_with_every_compression() {
    let rec = Recorder::default();
    let addr = grpc_server(rec.clone()).await;
    for compression in ["none", "gzip", "zstd"] {
        let exp = exporter_to(
            "grpc",
            addr,
            &format!("compression: {compression}\nheaders: {{ x-tenant: acme }}"),
        );
        for (batch, bytes) in one_of_each() {
            let out = exp.export(&batch).await.unwrap();
            assert_eq!(out, ExportOutcome::delivered(3));
            assert!(!batch.is_decoded());
            let got = rec.received().pop().unwrap();
            assert_eq!(got.body, bytes, "{compression} {}", batch.signal());
            assert_eq!(got.path, export_path(batch.signal()));
            assert_eq!(got.headers["x-tenant"], "acme");
            let encoding = got
                .headers
                .get("grpc-encoding")
                .map(|v| v.to_str().unwrap());
            match compression {
                "none" => assert_eq!(encoding, None),
                c => assert_eq!(encoding, Some(c)),
            }
            assert!(got.headers.contains_key("grpc-timeout"));
        }
    }
}

#[tokio::test]
async fn grpc_partial_success() {
    let rec = Recorder::default();
    let addr = grpc_server(rec.clone()).await;
    let partial = PartialSuccess {
        rejected: 1,
        message: "one span without a trace id".into(),
    };
    rec.grpc_reply(GrpcReply::Ok(
        encode_protobuf(Signal::Traces, Some(&partial)).into(),
    ));
    let exp = exporter_to("grpc", addr, "");
    let (batch, _) = received(&traces(4));
    let out = exp.export(&batch).await.unwrap();
    assert_eq!(
        out,
        ExportOutcome::partial(3, 1, "one span without a trace id")
    );
}

#[tokio::test]
async fn unavailable_with_retry_info_is_retried_after_its_delay() {
    let rec = Recorder::default();
    let addr = grpc_server(rec.clone()).await;
    rec.grpc_reply(GrpcReply::Fail(
        Code::Unavailable,
        "pipeline full",
        Some(Duration::from_millis(1500)),
    ))
    .grpc_reply(GrpcReply::Fail(Code::Unavailable, "still full", None));
    let exp = exporter_to("grpc", addr, "");
    let (batch, bytes) = received(&metrics(5));
    let (retried, result) = drive(exp.as_ref(), &batch, 5).await;
    assert_eq!(result.unwrap(), ExportOutcome::delivered(5));
    assert_eq!(retried.len(), 2);
    assert_eq!(after(&retried[0]), Some(Duration::from_millis(1500)));
    assert_eq!(retried[0].reason(), "grpc_unavailable");
    assert!(retried[0].to_string().contains("pipeline full"));
    assert_eq!(after(&retried[1]), None);
    let got = rec.received();
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|r| r.body == bytes));
}

#[tokio::test]
async fn status_codes_map_per_otlp() {
    let rec = Recorder::default();
    let addr = grpc_server(rec.clone()).await;
    let exp = exporter_to("grpc", addr, "");
    let (batch, _) = received(&logs(1, 1, 2, 10));
    for (code, retryable, reason) in [
        (Code::InvalidArgument, false, "grpc_invalid_argument"),
        (Code::PermissionDenied, false, "grpc_permission_denied"),
        (Code::Unimplemented, false, "grpc_unimplemented"),
        // RESOURCE_EXHAUSTED is retryable only with RetryInfo.
        (Code::ResourceExhausted, false, "grpc_resource_exhausted"),
        (Code::DeadlineExceeded, true, "grpc_deadline_exceeded"),
        (Code::Aborted, true, "grpc_aborted"),
    ] {
        rec.grpc_reply(GrpcReply::Fail(code, "no", None));
        let e = exp.export(&batch).await.unwrap_err();
        assert_eq!(e.is_retryable(), retryable, "{code:?}");
        assert_eq!(e.reason(), reason);
    }
    rec.grpc_reply(GrpcReply::Fail(
        Code::ResourceExhausted,
        "slow down",
        Some(Duration::from_secs(3)),
    ));
    let e = exp.export(&batch).await.unwrap_err();
    assert_eq!(after(&e), Some(Duration::from_secs(3)));
}

#[tokio::test]
async fn invalid_argument_is_not_retried() {
    let rec = Recorder::default();
    let addr = grpc_server(rec.clone()).await;
    rec.grpc_reply(GrpcReply::Fail(Code::InvalidArgument, "bad span id", None));
    let exp = exporter_to("grpc", addr, "");
    let (batch, _) = received(&traces(2));
    let (retried, result) = drive(exp.as_ref(), &batch, 3).await;
    assert!(retried.is_empty());
    let e = result.unwrap_err();
    assert!(!e.is_retryable());
    assert!(e.to_string().contains("bad span id"), "{e}");
    assert_eq!(rec.received().len(), 1);
}

#[tokio::test]
async fn connection_refused_is_retryable() {
    let addr = closed_port().await;
    let exp = exporter_to("grpc", addr, "timeout: 2s");
    let (batch, _) = received(&logs(1, 1, 1, 10));
    let e = exp.export(&batch).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert_eq!(e.reason(), "connect", "{e}");
}

#[tokio::test]
async fn an_unresponsive_server_times_out() {
    // Accepts TCP and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let exp = exporter_to("grpc", addr, "timeout: 300ms");
    let (batch, _) = received(&logs(1, 1, 1, 10));
    let e = exp.export(&batch).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert_eq!(e.reason(), "timeout", "{e}");
    hold.abort();
}
