//! OTLP/HTTP (protobuf and JSON) against the stand-in server.

use std::time::Duration;

use weir_core::{ExportOutcome, Signal};
use weir_otlp::response::{PartialSuccess, encode_json, encode_protobuf};

use super::servers::{Recorder, Reply, closed_port, http_server};
use super::*;

#[tokio::test]
async fn http_protobuf_forwards_received_bytes_untouched() {
    let rec = Recorder::default();
    let addr = http_server(rec.clone()).await;
    let exp = exporter_to("http/protobuf", addr, "compression: none");
    for (batch, bytes) in one_of_each() {
        let out = exp.export(&batch).await.unwrap();
        assert_eq!(out, ExportOutcome::delivered(3));
        assert!(!batch.is_decoded(), "pass-through must not decode");
        let got = rec.received().pop().unwrap();
        assert_eq!(got.body, bytes, "{}", batch.signal());
        assert_eq!(got.path, format!("/v1/{}", batch.signal()));
        assert_eq!(got.headers["content-type"], "application/x-protobuf");
        assert!(got.headers.get("content-encoding").is_none());
    }
}

#[tokio::test]
async fn http_json_sends_the_otlp_json_encoding() {
    let rec = Recorder::default();
    let addr = http_server(rec.clone()).await;
    let exp = exporter_to("http/json", addr, "compression: none");
    for (batch, _) in one_of_each() {
        let out = exp.export(&batch).await.unwrap();
        assert_eq!(out, ExportOutcome::delivered(3));
        let got = rec.received().pop().unwrap();
        let mut want = Vec::new();
        weir_otlp::json::encode(batch.data().unwrap(), &mut want);
        assert_eq!(got.body, want);
        assert_eq!(got.path, format!("/v1/{}", batch.signal()));
        assert_eq!(got.headers["content-type"], "application/json");
    }
}

#[tokio::test]
async fn gzip_and_zstd_bodies_decompress_to_the_same_bytes() {
    let rec = Recorder::default();
    let addr = http_server(rec.clone()).await;
    for (compression, protocol) in [
        ("gzip", "http/protobuf"),
        ("zstd", "http/protobuf"),
        ("gzip", "http/json"),
        ("zstd", "http/json"),
    ] {
        let exp = exporter_to(protocol, addr, &format!("compression: {compression}"));
        let (batch, bytes) = received(&logs(2, 2, 50, 100));
        exp.export(&batch).await.unwrap();
        let got = rec.received().pop().unwrap();
        assert_eq!(got.headers["content-encoding"], compression);
        assert!(
            got.wire_len < got.body.len() / 2,
            "{compression} did not compress"
        );
        if protocol == "http/protobuf" {
            assert_eq!(got.body, bytes);
        } else {
            let mut want = Vec::new();
            weir_otlp::json::encode(batch.data().unwrap(), &mut want);
            assert_eq!(got.body, want);
        }
    }
}

#[tokio::test]
async fn changed_batches_are_encoded_fresh() {
    let rec = Recorder::default();
    let addr = http_server(rec.clone()).await;
    let exp = exporter_to("http/protobuf", addr, "");
    let (mut batch, _) = received(&logs(1, 1, 4, 10));
    batch.logs_mut().unwrap()[0].scope_logs[0].log_records.pop();
    assert_eq!(
        exp.export(&batch).await.unwrap(),
        ExportOutcome::delivered(3)
    );
    let got = rec.received().pop().unwrap();
    let decoded = SignalData::decode(Signal::Logs, &got.body).unwrap();
    assert_eq!(&decoded, batch.data().unwrap());
}

#[tokio::test]
async fn headers_arrive_and_paths_follow_the_url_rules() {
    let rec = Recorder::default();
    let addr = http_server(rec.clone()).await;
    let exp = exporter(&format!(
        "protocol: http/protobuf\nendpoint: http://{addr}/\n\
         headers: {{ x-tenant: acme, Authorization: Bearer t0k }}"
    ));
    for (batch, _) in one_of_each() {
        exp.export(&batch).await.unwrap();
    }
    let got = rec.received();
    let paths: Vec<_> = got.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/v1/logs", "/v1/traces", "/v1/metrics"]);
    assert!(got.iter().all(|r| r.headers["x-tenant"] == "acme"));
    assert!(
        got.iter()
            .all(|r| r.headers["authorization"] == "Bearer t0k")
    );

    // A URL with a path is used as it is for every signal.
    let exp = exporter(&format!(
        "protocol: http/json\nendpoint: http://{addr}/otlp/in?tenant=a"
    ));
    for (batch, _) in one_of_each() {
        exp.export(&batch).await.unwrap();
    }
    let got = rec.received();
    assert!(got[3..].iter().all(|r| r.path == "/otlp/in"), "{got:?}");
}

#[tokio::test]
async fn retry_after_is_honoured_then_delivered_once() {
    let rec = Recorder::default();
    let addr = http_server(rec.clone()).await;
    rec.reply(Reply::status(503).header("retry-after", "1"))
        .reply(Reply::status(503).header("retry-after", "1"));
    let exp = exporter_to("http/protobuf", addr, "");
    let (batch, bytes) = received(&logs(1, 1, 5, 10));
    let started = std::time::Instant::now();
    let (retried, result) = drive(exp.as_ref(), &batch, 5).await;
    assert_eq!(result.unwrap(), ExportOutcome::delivered(5));
    assert_eq!(retried.len(), 2);
    for e in &retried {
        assert_eq!(after(e), Some(Duration::from_secs(1)));
        assert_eq!(e.reason(), "http_503");
    }
    assert!(started.elapsed() >= Duration::from_secs(2));
    let got = rec.received();
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|r| r.body == bytes));
}

#[tokio::test]
async fn retryable_statuses_without_retry_after() {
    let rec = Recorder::default();
    let addr = http_server(rec.clone()).await;
    let exp = exporter_to("http/protobuf", addr, "");
    let (batch, _) = received(&logs(1, 1, 2, 10));
    for code in [429, 502, 503, 504] {
        rec.reply(Reply::status(code));
        let e = exp.export(&batch).await.unwrap_err();
        assert_eq!(after(&e), None);
        assert_eq!(e.reason(), format!("http_{code}"));
    }
}

#[tokio::test]
async fn client_errors_are_permanent_with_the_servers_message() {
    let rec = Recorder::default();
    let addr = http_server(rec.clone()).await;
    let exp = exporter_to("http/json", addr, "");
    let (batch, _) = received(&logs(1, 1, 2, 10));
    rec.reply(
        Reply::status(400)
            .header("content-type", "application/json")
            .body(r#"{"code":3,"message":"invalid trace id at resourceSpans[0]"}"#),
    );
    let (retried, result) = drive(exp.as_ref(), &batch, 3).await;
    assert!(retried.is_empty());
    let e = result.unwrap_err();
    assert!(!e.is_retryable());
    assert_eq!(e.reason(), "http_400");
    assert!(e.to_string().contains("invalid trace id"), "{e}");
    assert_eq!(rec.received().len(), 1, "a permanent error is not retried");

    for code in [401, 403, 404, 413, 500] {
        rec.reply(Reply::status(code).body("plain words"));
        let e = exp.export(&batch).await.unwrap_err();
        assert!(!e.is_retryable(), "{code}");
        assert!(e.to_string().contains("plain words"), "{e}");
    }
}

#[tokio::test]
async fn partial_success_counts_the_rejected() {
    let rec = Recorder::default();
    let addr = http_server(rec.clone()).await;
    let partial = PartialSuccess {
        rejected: 2,
        message: "2 records too old".into(),
    };
    let (batch, _) = received(&logs(1, 1, 5, 10));
    for (protocol, ct, body) in [
        (
            "http/protobuf",
            "application/x-protobuf",
            encode_protobuf(Signal::Logs, Some(&partial)),
        ),
        (
            "http/json",
            "application/json",
            encode_json(Signal::Logs, Some(&partial)),
        ),
    ] {
        rec.reply(Reply::status(200).header("content-type", ct).body(body));
        let exp = exporter_to(protocol, addr, "");
        let out = exp.export(&batch).await.unwrap();
        assert_eq!(
            out,
            ExportOutcome::partial(3, 2, "2 records too old"),
            "{protocol}"
        );
    }
}

#[tokio::test]
async fn transport_failures_are_retryable() {
    let exp = exporter_to("http/protobuf", closed_port().await, "timeout: 2s");
    let (batch, _) = received(&logs(1, 1, 1, 10));
    let e = exp.export(&batch).await.unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e.reason(), "connect");

    let rec = Recorder::default();
    let addr = http_server(rec.clone()).await;
    rec.reply(Reply::status(200).delay(Duration::from_secs(2)));
    let exp = exporter_to("http/protobuf", addr, "timeout: 200ms");
    let e = exp.export(&batch).await.unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e.reason(), "timeout");
}
