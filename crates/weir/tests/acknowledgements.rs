//! `acknowledgements: true` end to end: the runtime in process with a
//! `probe` exporter the test holds, fails or lets through, and OTLP clients
//! on real sockets. A client hears success only once its data is delivered,
//! a retryable error when an exporter gives it up, and an answer within the
//! batching delay when `adaptive_batch` holds its data.

mod inproc;
mod otlp_support;
mod support;

use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use prost::Message;
use tokio::time::Instant;

use inproc::{Probe, free_port, listening, start};
use otlp_support::{http_client, logs_request};

/// A pipeline: otlp (acknowledgements on) → `processors` → probe.
fn pipeline(http: u16, grpc: u16, processors: &str) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: 127.0.0.1:{grpc} }}
      http: {{ endpoint: 127.0.0.1:{http} }}
    acknowledgements: true
    acknowledgement_timeout: 20s
processors:
  adaptive_batch: {{ max_items: 100000, min_delay: 1s, target_latency: 1s, max_delay: 1s }}
exporters:
  probe:
service:
  shutdown_timeout: 2s
  telemetry: {{ metrics: {{ address: none }} }}
  pipelines:
    logs: {{ receivers: [otlp], processors: [{processors}], exporters: [probe] }}
"#
    )
}

/// POSTs a logs request of `n` records marked `prefix` over OTLP/HTTP;
/// returns the status.
async fn post(client: &reqwest::Client, http: u16, prefix: &str, n: usize) -> u16 {
    client
        .post(format!("http://127.0.0.1:{http}/v1/logs"))
        .header("content-type", "application/x-protobuf")
        .body(logs_request(prefix, n).encode_to_vec())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_only_once_the_blocked_destination_has_the_data() {
    let probe = Probe::new();
    let (http, grpc) = (free_port(), free_port());
    let service = start(&pipeline(http, grpc, ""), &probe).await;
    listening(format!("127.0.0.1:{http}").parse().unwrap()).await;
    probe.close();

    let client = http_client();
    let answer = tokio::spawn({
        let client = client.clone();
        async move { post(&client, http, "a", 3).await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !answer.is_finished(),
        "answered while the destination held the data"
    );
    assert_eq!(probe.calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    probe.open();
    assert_eq!(answer.await.unwrap(), 200);
    assert_eq!(
        probe.records("probe"),
        ["record a-0", "record a-1", "record a-2"]
    );
    assert!(service.finish().await.is_clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_export_failure_is_a_retryable_error_for_the_client() {
    let probe = Probe::new();
    probe.fail_permanently();
    let (http, grpc) = (free_port(), free_port());
    let service = start(&pipeline(http, grpc, ""), &probe).await;
    listening(format!("127.0.0.1:{grpc}").parse().unwrap()).await;

    let mut client = LogsServiceClient::connect(format!("http://127.0.0.1:{grpc}"))
        .await
        .unwrap();
    let status = client
        .export(logs_request("b", 2))
        .await
        .expect_err("the data was not kept");
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    assert!(status.message().contains("permanent"), "{status:?}");
    assert_eq!(post(&http_client(), http, "c", 1).await, 503);
    assert!(probe.records("probe").is_empty());
    service.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_never_fills_is_answered_within_its_delay() {
    let probe = Probe::new();
    let (http, grpc) = (free_port(), free_port());
    let service = start(&pipeline(http, grpc, "adaptive_batch"), &probe).await;
    listening(format!("127.0.0.1:{http}").parse().unwrap()).await;

    let started = Instant::now();
    assert_eq!(post(&http_client(), http, "d", 1).await, 200);
    let took = started.elapsed();
    // The batch waits its 1s delay, then leaves; not the 20s timeout.
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "answered after {took:?}"
    );
    assert_eq!(probe.records("probe"), ["record d-0"]);
    assert!(service.finish().await.is_clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merged_batch_answers_every_request_it_came_from() {
    let probe = Probe::new();
    let (http, grpc) = (free_port(), free_port());
    let service = start(&pipeline(http, grpc, "adaptive_batch"), &probe).await;
    listening(format!("127.0.0.1:{http}").parse().unwrap()).await;
    let client = http_client();

    let send_five = |tag: &'static str| {
        (0..5)
            .map(|i| {
                let client = client.clone();
                tokio::spawn(async move { post(&client, http, &format!("{tag}{i}"), 2).await })
            })
            .collect::<Vec<_>>()
    };
    let mut statuses = Vec::new();
    for answer in send_five("ok") {
        statuses.push(answer.await.unwrap());
    }
    assert_eq!(statuses, [200; 5]);
    let batches = probe.batches("probe");
    assert_eq!(batches.concat().len(), 10);
    assert!(
        batches.len() < 5,
        "requests were merged: {} batches",
        batches.len()
    );

    // The same when the destination fails the merged batch: all hear it.
    probe.fail_permanently();
    let mut statuses = Vec::new();
    for answer in send_five("bad") {
        statuses.push(answer.await.unwrap());
    }
    assert_eq!(statuses, [503; 5]);
    service.finish().await;
}
