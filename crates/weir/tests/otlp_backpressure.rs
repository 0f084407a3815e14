//! Backpressure on the `otlp` receiver, on the real binary: with a stalled
//! exporter and one-batch buffers, concurrent OTLP/HTTP (protobuf) and OTLP/gRPC
//! requests that find no room within `backpressure_timeout` are refused with a
//! retryable answer (HTTP 503 + `Retry-After`, gRPC UNAVAILABLE + RetryInfo),
//! and every request answered with success is delivered, exactly once.
//!
//! The pipeline fans out to a slow `blackhole` (the stall) and a `file`
//! exporter, whose output shows which record ids were delivered.

mod otlp_support;
mod support;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use prost::Message;

use otlp_support::{http_client, logs_request, runtime, wait_exit, write_pipeline};
use support::{Weir, attr, metric, read_records, wait_metrics};

const RECORDS: usize = 10;
const HTTP_REQUESTS: usize = 12;
const GRPC_REQUESTS: usize = 12;

/// `google.rpc.Status`, the body of an OTLP/HTTP error answer.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

fn start(dir: &Path) -> (Weir, std::path::PathBuf) {
    let out = dir.join("delivered.jsonl");
    let yaml = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: 127.0.0.1:0 }}
      http: {{ endpoint: 127.0.0.1:0 }}
    backpressure_timeout: 200ms
exporters:
  blackhole: {{ delay: 2s, queue: {{ capacity: 1, max_bytes: 1KiB }} }}
  file: {{ path: {out}, flush_interval: 100ms }}
service:
  shutdown_timeout: 25s
  telemetry: {{ metrics: {{ address: 127.0.0.1:0 }} }}
  pipelines:
    logs: {{ receivers: [otlp], exporters: [blackhole, file], channel_capacity: 1 }}
"#,
        out = out.display()
    );
    let pipeline = write_pipeline(dir, "pipeline.yaml", &yaml);
    (Weir::start(&pipeline, &[]), out)
}

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Accepted,
    Refused,
}

/// Fires every request at once; returns each request's id prefix and outcome.
/// Panics on any answer other than success or a well-formed retryable refusal.
fn fire(weir: &Weir) -> HashMap<String, Outcome> {
    let (grpc, http) = weir.otlp_addrs();
    let rt = runtime();
    let client = http_client();
    rt.block_on(async {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{grpc}"))
            .unwrap()
            .connect()
            .await
            .expect("connect to the gRPC receiver");
        let mut tasks = Vec::new();
        for i in 0..HTTP_REQUESTS {
            let prefix = format!("http{i}");
            let body = logs_request(&prefix, RECORDS).encode_to_vec();
            let req = client
                .post(format!("http://{http}/v1/logs"))
                .header("content-type", "application/x-protobuf")
                .body(body);
            tasks.push(tokio::spawn(async move {
                let resp = req.send().await.expect("POST /v1/logs");
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_string());
                let body = resp.bytes().await.unwrap();
                let outcome = match status {
                    200 => {
                        ExportLogsServiceResponse::decode(body).expect("an export response");
                        Outcome::Accepted
                    }
                    503 => {
                        let secs: u64 = retry_after
                            .as_deref()
                            .expect("503 carries Retry-After")
                            .parse()
                            .expect("Retry-After in seconds");
                        assert!(secs >= 1, "Retry-After: {secs}");
                        let st = RpcStatus::decode(body).expect("a google.rpc.Status body");
                        assert_eq!(st.code, tonic::Code::Unavailable as i32, "{st:?}");
                        Outcome::Refused
                    }
                    other => panic!("{prefix}: unexpected HTTP {other}"),
                };
                (prefix, outcome)
            }));
        }
        for i in 0..GRPC_REQUESTS {
            let prefix = format!("grpc{i}");
            let request = logs_request(&prefix, RECORDS);
            let mut client = LogsServiceClient::new(channel.clone());
            tasks.push(tokio::spawn(async move {
                let outcome = match client.export(request).await {
                    Ok(_) => Outcome::Accepted,
                    Err(st) if st.code() == tonic::Code::Unavailable => {
                        // The details are a google.rpc.Status whose Any holds RetryInfo.
                        let details = String::from_utf8_lossy(st.details()).into_owned();
                        assert!(
                            details.contains("type.googleapis.com/google.rpc.RetryInfo"),
                            "{prefix}: UNAVAILABLE without RetryInfo: {st:?}"
                        );
                        Outcome::Refused
                    }
                    Err(st) => panic!("{prefix}: unexpected gRPC status {st:?}"),
                };
                (prefix, outcome)
            }));
        }
        let mut outcomes = HashMap::new();
        for t in tasks {
            let (prefix, outcome) = tokio::time::timeout(otlp_support::DEADLINE, t)
                .await
                .expect("every request is answered in time")
                .unwrap();
            outcomes.insert(prefix, outcome);
        }
        outcomes
    })
}

fn count(outcomes: &HashMap<String, Outcome>, o: Outcome) -> usize {
    outcomes.values().filter(|x| **x == o).count()
}

/// The ids the file exporter wrote; panics on a duplicate.
fn delivered_ids(path: &Path) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for r in read_records(path) {
        let id = attr(&r, "id").expect("id attribute")["stringValue"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(ids.insert(id.clone()), "{id} delivered twice");
    }
    ids
}

fn expected_ids(outcomes: &HashMap<String, Outcome>) -> BTreeSet<String> {
    outcomes
        .iter()
        .filter(|(_, o)| **o == Outcome::Accepted)
        .flat_map(|(p, _)| (0..RECORDS).map(move |i| format!("{p}-{i}")))
        .collect()
}

fn check_mix(outcomes: &HashMap<String, Outcome>) -> (usize, usize) {
    let accepted = count(outcomes, Outcome::Accepted);
    let refused = count(outcomes, Outcome::Refused);
    eprintln!("{accepted} request(s) accepted, {refused} refused");
    assert_eq!(accepted + refused, HTTP_REQUESTS + GRPC_REQUESTS);
    assert!(accepted >= 1, "nothing accepted: {outcomes:?}");
    assert!(
        refused >= 1,
        "nothing refused, no backpressure: {outcomes:?}"
    );
    let refused_on = |proto: &str| {
        outcomes
            .iter()
            .any(|(p, o)| p.starts_with(proto) && *o == Outcome::Refused)
    };
    assert!(
        refused_on("http") && refused_on("grpc"),
        "both protocols refuse: {outcomes:?}"
    );
    (accepted, refused)
}

#[test]
fn a_stalled_pipeline_refuses_retryably_and_delivers_every_accepted_record() {
    let dir = tempfile::tempdir().unwrap();
    let (mut weir, out) = start(dir.path());
    let metrics_addr = weir.metrics_addr();
    let outcomes = fire(&weir);
    let (accepted, refused) = check_mix(&outcomes);

    // The stall ends: everything accepted reaches both exporters.
    let sent = (RECORDS * accepted) as f64;
    let text = wait_metrics(&metrics_addr, |m| {
        metric(
            m,
            "weir_exporter_sent_items_total",
            &[("component", "blackhole")],
        ) >= sent
            && metric(
                m,
                "weir_exporter_sent_items_total",
                &[("component", "file")],
            ) >= sent
    });
    for component in ["blackhole", "file"] {
        assert_eq!(
            metric(
                &text,
                "weir_exporter_sent_items_total",
                &[("component", component)]
            ),
            sent,
            "{component} sent exactly what was accepted"
        );
        assert_eq!(
            metric(
                &text,
                "weir_exporter_failed_items_total",
                &[("component", component)]
            ),
            0.0
        );
    }
    assert_eq!(
        metric(&text, "weir_receiver_accepted_items_total", &[]),
        sent
    );
    assert_eq!(
        metric(
            &text,
            "weir_receiver_refused_items_total",
            &[("reason", "backpressure")]
        ),
        (RECORDS * refused) as f64,
        "{text}"
    );

    weir.signal("TERM");
    assert_eq!(wait_exit(&mut weir), 0, "{}", weir.stderr());
    assert_eq!(delivered_ids(&out), expected_ids(&outcomes));
}

#[test]
fn sigterm_during_the_stall_still_delivers_every_accepted_record() {
    let dir = tempfile::tempdir().unwrap();
    let (mut weir, out) = start(dir.path());
    let outcomes = fire(&weir);
    check_mix(&outcomes);
    // Accepted batches are still queued behind the blackhole's delay: stopping
    // now must drain them within shutdown_timeout, not drop them.
    weir.signal("TERM");
    assert_eq!(wait_exit(&mut weir), 0, "{}", weir.stderr());
    assert_eq!(delivered_ids(&out), expected_ids(&outcomes));
}
