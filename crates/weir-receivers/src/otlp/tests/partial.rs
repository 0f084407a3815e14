//! Requests with some invalid items: the rest go on, the client gets 200 / OK
//! with `partial_success`, and the refused items are counted.

use bytes::Bytes;
use prost::Message;
use tonic::codec::CompressionEncoding;
use weir_core::otlp::collector::logs::v1::ExportLogsServiceRequest;
use weir_core::otlp::collector::trace::v1::ExportTraceServiceRequest;
use weir_core::telemetry::reasons;
use weir_core::{Signal, SignalData};
use weir_otlp::compression::{Encoding, compress};
use weir_otlp::grpc::export_path;
use weir_otlp::response::{self, PartialSuccess};

use super::*;

/// `n` log records of which those at `bad` have a 5-byte trace id, in two
/// scopes: the second scope holds only record 0's twin, bad, so it goes whole.
fn logs_with_bad(n: usize, bad: &[usize]) -> Bytes {
    let mut req = ExportLogsServiceRequest::decode(request(Signal::Logs, n)).unwrap();
    let scope = &mut req.resource_logs[0].scope_logs[0];
    for &i in bad {
        scope.log_records[i].trace_id = vec![1; 5];
    }
    let mut lone = scope.clone();
    lone.log_records.truncate(1);
    lone.log_records[0].span_id = vec![2; 3];
    req.resource_logs[0].scope_logs.push(lone);
    req.encode_to_vec().into()
}

/// `n` spans; those at `bad` lack a span id.
fn spans_with_bad(n: usize, bad: &[usize]) -> Bytes {
    let mut req = ExportTraceServiceRequest::decode(request(Signal::Traces, n)).unwrap();
    for &i in bad {
        req.resource_spans[0].scope_spans[0].spans[i]
            .span_id
            .clear();
    }
    req.encode_to_vec().into()
}

fn partial(signal: Signal, reply: &Reply) -> PartialSuccess {
    let p = if reply.header("content-type") == Some("application/json") {
        response::decode_json(signal, &reply.body)
    } else {
        response::decode_protobuf(signal, &reply.body)
    };
    p.unwrap().expect("a partial success")
}

#[tokio::test]
async fn http_protobuf_takes_the_valid_items_and_reports_the_rest() {
    let server = start("").await;
    // 6 records, 2 bad, plus a scope holding one bad record: 3 refused, 5 sent.
    let body = logs_with_bad(6, &[1, 4]);
    for enc in [Encoding::Identity, Encoding::Gzip] {
        let (wire, headers): (Bytes, Vec<(&str, &str)>) = match enc {
            Encoding::Identity => (body.clone(), vec![PROTOBUF]),
            _ => (
                compress(enc, &body, None).into(),
                vec![PROTOBUF, ("content-encoding", "gzip")],
            ),
        };
        let reply = post(server.http, "/v1/logs", &headers, wire).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        let p = partial(Signal::Logs, &reply);
        assert_eq!(p.rejected, 3);
        assert!(
            p.message.starts_with(
                "3 invalid items refused: resource_logs[0].scope_logs[0].log_records[1]: \
                 log record trace_id is neither empty nor 16 bytes"
            ),
            "{}",
            p.message
        );
        let batches = server.batches();
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].items(), 4);
        let SignalData::Logs(logs) = batches[0].data().unwrap() else {
            panic!("not logs")
        };
        // The emptied second scope is gone; the good records keep their order.
        assert_eq!(logs[0].scope_logs.len(), 1);
        let bodies: Vec<_> = logs[0].scope_logs[0]
            .log_records
            .iter()
            .map(|r| r.body.clone())
            .collect();
        assert_eq!(bodies, [0, 2, 3, 5].map(|i| string(&format!("line {i}"))));
    }
    assert_eq!(server.refused(Signal::Logs, reasons::INVALID), 6);

    // All valid: untouched bytes, no partial success, nothing counted.
    let good = request(Signal::Logs, 3);
    let reply = post(server.http, "/v1/logs", &[PROTOBUF], good.clone()).await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.is_empty(), "{reply:?}");
    let batches = server.batches();
    assert_eq!(batches[0].received_bytes(), Some(&good));
    assert!(!batches[0].is_decoded());
    assert_eq!(server.refused(Signal::Logs, reasons::INVALID), 6);

    // All invalid: 200 with everything refused, nothing sent.
    let reply = post(
        server.http,
        "/v1/traces",
        &[PROTOBUF],
        spans_with_bad(2, &[0, 1]),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(partial(Signal::Traces, &reply).rejected, 2);
    assert!(server.batches().is_empty());
    assert_eq!(server.refused(Signal::Traces, reasons::INVALID), 2);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn http_json_refuses_items_that_do_not_decode() {
    let server = start("").await;
    let body = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"a"},
        {"traceId":"zz8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"b"},
        {"traceId":"5b8efff798038103d269b633813fc60c","name":"c"},
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"d"}]}]}]}"#;
    let reply = post(server.http, "/v1/traces", &[JSON], Bytes::from(body)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let answer: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(answer["partialSuccess"]["rejectedSpans"], "2");
    let message = answer["partialSuccess"]["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("resourceSpans[0].scopeSpans[0].spans[1].traceId: expected 32 hex digits"),
        "{message}"
    );
    assert!(
        message.contains("spans[2]: span span_id is not 8 bytes"),
        "{message}"
    );
    let batches = server.batches();
    let SignalData::Traces(t) = batches[0].data().unwrap() else {
        panic!("not traces")
    };
    let names: Vec<_> = t[0].scope_spans[0]
        .spans
        .iter()
        .map(|s| &s.name[..])
        .collect();
    assert_eq!(names, ["a", "d"]);
    assert_eq!(server.refused(Signal::Traces, reasons::INVALID), 2);

    // Structural errors still refuse the whole request.
    let reply = post(
        server.http,
        "/v1/traces",
        &[JSON],
        Bytes::from(r#"{"resourceSpans":5}"#),
    )
    .await;
    assert_eq!(reply.status, 400);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn grpc_answers_ok_with_partial_success() {
    let server = start("").await;
    let ch = grpc::channel(server.grpc).await;
    for compression in [None, Some(CompressionEncoding::Zstd)] {
        let body = spans_with_bad(5, &[0, 3]);
        let answer = grpc::call(&ch, export_path(Signal::Traces), body, compression, None)
            .await
            .expect("OK");
        let p = response::decode_protobuf(Signal::Traces, &answer)
            .unwrap()
            .expect("partial success");
        assert_eq!(p.rejected, 2);
        assert!(
            p.message
                .contains("resource_spans[0].scope_spans[0].spans[0]: span span_id is not 8 bytes"),
            "{}",
            p.message
        );
        let batches = server.batches();
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].items(), 3);
    }
    assert_eq!(server.refused(Signal::Traces, reasons::INVALID), 4);
    server.stop().await.unwrap();
}
