//! Batches over `max_request_bytes` arrive as several requests under it.

use weir_core::{ExportError, ExportOutcome, Signal};

use super::servers::{GrpcReply, Recorder, Reply, grpc_server, http_server};
use super::*;

const MIB: usize = 1024 * 1024;

/// (resource, scope, record body) of every log record, in order.
fn flat(data: &SignalData) -> Vec<(String, String, String)> {
    let SignalData::Logs(logs) = data else {
        panic!("logs expected")
    };
    let mut out = Vec::new();
    for rl in logs {
        let res = format!("{:?}", rl.resource);
        for sl in &rl.scope_logs {
            let scope = format!("{:?}", sl.scope);
            for lr in &sl.log_records {
                out.push((res.clone(), scope.clone(), format!("{:?}", lr.body)));
            }
        }
    }
    out
}

/// ~5 MB of logs: many small resources, and one resource of ~2.5 MB whose
/// scopes must be split by record.
fn five_mb() -> SignalData {
    let SignalData::Logs(mut small) = logs(40, 2, 30, 1000) else {
        unreachable!()
    };
    let SignalData::Logs(big) = logs(1, 2, 1250, 1000) else {
        unreachable!()
    };
    small.splice(10..10, big);
    let data = SignalData::Logs(small);
    assert!(data.encoded_len() > 5_000_000, "{}", data.encoded_len());
    data
}

fn check_parts(got: &[servers::Received], data: &SignalData, decode: impl Fn(&[u8]) -> SignalData) {
    assert!(got.len() >= 5, "{} requests", got.len());
    let mut all = Vec::new();
    for r in got {
        assert!(r.body.len() <= MIB, "a request of {} bytes", r.body.len());
        all.extend(flat(&decode(&r.body)));
    }
    assert_eq!(all.len(), data.item_count());
    assert!(all == flat(data), "records lost, repeated or reordered");
}

#[tokio::test]
async fn http_protobuf_splits_a_5mb_batch_under_1mib() {
    let rec = Recorder::default();
    let addr = http_server(rec.clone()).await;
    let exp = exporter_to(
        "http/protobuf",
        addr,
        "compression: none\nmax_request_bytes: 1MiB",
    );
    let data = five_mb();
    let (batch, _) = received(&data);
    let out = exp.export(&batch).await.unwrap();
    assert_eq!(out, ExportOutcome::delivered(data.item_count()));
    check_parts(&rec.received(), &data, |b| {
        SignalData::decode(Signal::Logs, b).unwrap()
    });
}

#[tokio::test]
async fn grpc_splits_a_5mb_batch_under_1mib() {
    let rec = Recorder::default();
    let addr = grpc_server(rec.clone()).await;
    let exp = exporter_to("grpc", addr, "compression: gzip\nmax_request_bytes: 1MiB");
    let data = five_mb();
    let (batch, _) = received(&data);
    let out = exp.export(&batch).await.unwrap();
    assert_eq!(out, ExportOutcome::delivered(data.item_count()));
    check_parts(&rec.received(), &data, |b| {
        SignalData::decode(Signal::Logs, b).unwrap()
    });
}

#[tokio::test]
async fn http_json_splits_a_5mb_batch_under_1mib() {
    let rec = Recorder::default();
    let addr = http_server(rec.clone()).await;
    let exp = exporter_to(
        "http/json",
        addr,
        "compression: zstd\nmax_request_bytes: 1MiB",
    );
    let data = five_mb();
    let batch = Batch::from_data(data.clone(), BatchMeta::default());
    let out = exp.export(&batch).await.unwrap();
    assert_eq!(out, ExportOutcome::delivered(data.item_count()));
    check_parts(&rec.received(), &data, |b| {
        weir_otlp::json::decode(Signal::Logs, b).unwrap()
    });
}

#[tokio::test]
async fn a_batch_under_the_limit_is_one_request() {
    let rec = Recorder::default();
    let addr = http_server(rec.clone()).await;
    let exp = exporter_to("http/protobuf", addr, "max_request_bytes: 1MiB");
    let (batch, bytes) = received(&logs(3, 2, 100, 1000));
    assert!(bytes.len() < MIB);
    exp.export(&batch).await.unwrap();
    let got = rec.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, bytes);
}

#[tokio::test]
async fn a_permanent_failure_midway_counts_what_was_delivered() {
    let rec = Recorder::default();
    let addr = http_server(rec.clone()).await;
    rec.reply(Reply::status(200))
        .reply(Reply::status(400).body("too old"));
    let exp = exporter_to("http/protobuf", addr, "max_request_bytes: 64KiB");
    let data = logs(8, 1, 50, 1000);
    let (batch, _) = received(&data);
    let out = exp.export(&batch).await.unwrap();
    let got = rec.received();
    assert_eq!(got.len(), 2, "nothing is sent after a permanent failure");
    let first = SignalData::decode(Signal::Logs, &got[0].body)
        .unwrap()
        .item_count();
    assert_eq!(out.sent, first);
    assert_eq!(out.rejected, data.item_count() - first);
    let message = out.message.unwrap();
    assert!(
        message.contains("http_400") && message.contains("too old"),
        "{message}"
    );
}

#[tokio::test]
async fn a_retryable_failure_midway_resends_the_batch() {
    let rec = Recorder::default();
    let addr = grpc_server(rec.clone()).await;
    rec.grpc_reply(GrpcReply::Ok(Default::default()))
        .grpc_reply(GrpcReply::Fail(tonic::Code::Unavailable, "busy", None));
    let exp = exporter_to("grpc", addr, "max_request_bytes: 64KiB");
    let data = logs(8, 1, 50, 1000);
    let (batch, _) = received(&data);
    let (retried, result) = drive(exp.as_ref(), &batch, 3).await;
    assert_eq!(result.unwrap(), ExportOutcome::delivered(data.item_count()));
    assert!(
        matches!(&retried[..], [ExportError::Retryable { message, .. }] if message.contains("request 2 of"))
    );
    let parts = rec.received().len() - 2;
    assert!(parts >= 3);
    // At-least-once: the first part went twice, then every part once.
    let all: Vec<_> = rec
        .received()
        .iter()
        .skip(2)
        .flat_map(|r| flat(&SignalData::decode(Signal::Logs, &r.body).unwrap()))
        .collect();
    assert_eq!(all, flat(&data));
}
