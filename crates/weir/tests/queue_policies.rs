//! `queue.when_full` end to end: an OTLP receiver in front of a slow
//! destination (a `probe` exporter taking 400ms a batch, one at a time, with
//! a queue of 2). With `drop_newest` or `drop_oldest` every request is taken
//! at once and what does not fit is dropped and counted; with `block` the
//! receiver feels the wait and refuses with 503 after its
//! `backpressure_timeout`.

mod inproc;
mod otlp_support;
mod support;

use std::time::Duration;

use prost::Message;
use tokio::time::Instant;

use inproc::{Probe, free_port, listening, start};
use otlp_support::{http_client, logs_request};
use support::metric;

const REQUESTS: usize = 12;

fn pipeline(http: u16, when_full: &str) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols: {{ http: {{ endpoint: 127.0.0.1:{http} }} }}
    backpressure_timeout: 200ms
exporters:
  probe:
    delay: 400ms
    queue: {{ capacity: 2, when_full: {when_full} }}
service:
  shutdown_timeout: 10s
  telemetry: {{ metrics: {{ address: 127.0.0.1:0 }} }}
  pipelines:
    logs: {{ receivers: [otlp], exporters: [probe] }}
"#
    )
}

struct Outcome {
    statuses: Vec<u16>,
    /// How long the client took to send every request.
    took: Duration,
    /// `weir_exporter_failed_items_total{reason="queue_full"}`.
    dropped: f64,
    /// The records the destination got, in order (`r0`, `r1`, ...).
    delivered: Vec<String>,
}

/// Sends `REQUESTS` one-record requests `r0`.. one after the other, then
/// lets the service drain and stop.
async fn run(when_full: &str) -> Outcome {
    let probe = Probe::new();
    let http = free_port();
    let service = start(&pipeline(http, when_full), &probe).await;
    listening(format!("127.0.0.1:{http}").parse().unwrap()).await;
    let client = http_client();
    let started = Instant::now();
    let mut statuses = Vec::new();
    for i in 0..REQUESTS {
        let status = client
            .post(format!("http://127.0.0.1:{http}/v1/logs"))
            .header("content-type", "application/x-protobuf")
            .body(logs_request(&format!("r{i}"), 1).encode_to_vec())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        statuses.push(status);
    }
    let took = started.elapsed();
    let text = service.metrics_text().await;
    let dropped = metric(
        &text,
        "weir_exporter_failed_items_total",
        &[("component", "probe"), ("reason", "queue_full")],
    );
    let summary = service.finish().await;
    assert!(summary.is_clean(), "{summary:?}");
    let delivered = probe
        .records("probe")
        .into_iter()
        .map(|r| {
            r.trim_start_matches("record ")
                .trim_end_matches("-0")
                .to_string()
        })
        .collect();
    Outcome {
        statuses,
        took,
        dropped,
        delivered,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_newest_takes_every_request_and_drops_the_late_ones() {
    let o = run("drop_newest").await;
    assert_eq!(o.statuses, [200; REQUESTS], "never refused");
    assert!(
        o.took < Duration::from_secs(2),
        "the receiver waited: {:?}",
        o.took
    );
    assert!(o.dropped > 0.0);
    assert_eq!(
        o.delivered.len() + o.dropped as usize,
        REQUESTS,
        "{:?}",
        o.delivered
    );
    // What got in is the first few; the last request found the queue full.
    assert_eq!(o.delivered[0], "r0");
    assert!(
        !o.delivered.contains(&format!("r{}", REQUESTS - 1)),
        "{:?}",
        o.delivered
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_oldest_takes_every_request_and_keeps_the_freshest() {
    let o = run("drop_oldest").await;
    assert_eq!(o.statuses, [200; REQUESTS], "never refused");
    assert!(
        o.took < Duration::from_secs(2),
        "the receiver waited: {:?}",
        o.took
    );
    assert!(o.dropped > 0.0);
    assert_eq!(
        o.delivered.len() + o.dropped as usize,
        REQUESTS,
        "{:?}",
        o.delivered
    );
    // The queue ends holding the last two requests.
    let last_two = [format!("r{}", REQUESTS - 2), format!("r{}", REQUESTS - 1)];
    assert_eq!(
        o.delivered[o.delivered.len() - 2..],
        last_two,
        "{:?}",
        o.delivered
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_pushes_back_on_the_receiver_instead() {
    let o = run("block").await;
    assert_eq!(o.dropped, 0.0);
    assert!(o.statuses.contains(&503), "{:?}", o.statuses);
    let taken = o.statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(o.delivered.len(), taken, "whatever was taken is delivered");
}
