//! `acknowledgements: true`: the client's answer waits for the data's fate.
//! The collecting sink stands in for the pipeline: keeping a batch is "not
//! delivered yet", dropping it is delivery, failing its tokens is an
//! exporter giving up.

use std::time::Duration;

use tonic::Code;
use weir_core::Signal;
use weir_core::telemetry::reasons;
use weir_otlp::grpc::export_path;
use weir_otlp::status::retry_info;

use super::grpc::{call, channel};
use super::*;

const ACKED: &str = "acknowledgements: true\nacknowledgement_timeout: 10s\n";

/// Waits (at most 10 s) for the sink to hold a batch, and takes them.
async fn arrived(server: &Server) -> Vec<Batch> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let b = server.batches();
        if !b.is_empty() {
            return b;
        }
        assert!(Instant::now() < deadline, "nothing arrived");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Whether `task` is still waiting after a moment.
async fn still_waiting<T>(task: &tokio::task::JoinHandle<T>) -> bool {
    tokio::time::sleep(Duration::from_millis(100)).await;
    !task.is_finished()
}

#[tokio::test]
async fn http_answers_once_the_data_is_delivered_and_503_when_it_is_not() {
    let server = start(ACKED).await;
    let addr = server.http;
    let post_logs = move || {
        tokio::spawn(post(
            addr,
            "/v1/logs",
            &[PROTOBUF],
            request(Signal::Logs, 3),
        ))
    };

    let answer = post_logs();
    let batches = arrived(&server).await;
    assert_eq!(batches[0].meta().acks.len(), 1);
    assert!(still_waiting(&answer).await, "answered before delivery");
    drop(batches); // delivered
    assert_eq!(answer.await.unwrap().status, 200);

    let answer = post_logs();
    let mut batches = arrived(&server).await;
    batches[0].meta_mut().acks.fail(reasons::RETRIES_EXHAUSTED);
    drop(batches);
    let reply = answer.await.unwrap();
    assert_eq!(reply.status, 503, "{:?}", reply.body);
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert!(text(&reply).contains("retries_exhausted"), "{reply:?}");
    assert_eq!(server.refused(Signal::Logs, reasons::NOT_DELIVERED), 3);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn grpc_answers_once_the_data_is_delivered_and_unavailable_when_it_is_not() {
    let server = start(ACKED).await;
    let ch = channel(server.grpc).await;
    let export = || {
        let ch = ch.clone();
        tokio::spawn(async move {
            call(
                &ch,
                export_path(Signal::Traces),
                request(Signal::Traces, 2),
                None,
                None,
            )
            .await
        })
    };

    let answer = export();
    let batches = arrived(&server).await;
    assert!(still_waiting(&answer).await, "answered before delivery");
    drop(batches);
    assert!(answer.await.unwrap().is_ok());

    let answer = export();
    let mut batches = arrived(&server).await;
    batches[0].meta_mut().acks.fail(reasons::PERMANENT);
    drop(batches);
    let status = answer.await.unwrap().unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(retry_info(&status), Some(Duration::from_secs(1)));
    assert!(status.message().contains("permanent"), "{status:?}");
    assert_eq!(server.refused(Signal::Traces, reasons::NOT_DELIVERED), 2);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn no_confirmation_within_the_timeout_is_a_retryable_answer() {
    let server = start("acknowledgements: true\nacknowledgement_timeout: 200ms\n").await;
    let started = Instant::now();
    let reply = post(
        server.http,
        "/v1/logs",
        &[PROTOBUF],
        request(Signal::Logs, 4),
    )
    .await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert!(text(&reply).contains("not confirmed"), "{reply:?}");
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(server.refused(Signal::Logs, reasons::ACK_TIMEOUT), 4);
    // The data was taken all the same (a retry may duplicate it).
    assert_eq!(server.batches().len(), 1);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn without_acknowledgements_the_answer_comes_on_enqueue() {
    let server = start("").await;
    let reply = post(
        server.http,
        "/v1/logs",
        &[PROTOBUF],
        request(Signal::Logs, 1),
    )
    .await;
    assert_eq!(reply.status, 200);
    let batches = server.batches();
    assert!(batches[0].meta().acks.is_empty(), "nobody waits");
    server.stop().await.unwrap();
}

/// The body as text (a protobuf `google.rpc.Status` holds its message as is).
fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}
