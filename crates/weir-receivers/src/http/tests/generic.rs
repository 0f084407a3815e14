//! The generic JSON endpoint: every accepted form, every refusal.

use std::sync::Arc;

use weir_core::Signal;
use weir_core::otlp::common::v1::any_value::Value;
use weir_core::telemetry::reasons;

use super::*;
use crate::test_support::Stalled;

#[tokio::test]
async fn each_form_becomes_records_mapped_like_stdin_lines() {
    let s = start("").await;
    let one = s
        .post(
            "/v1/json",
            &[JSON],
            r#"{"msg":"one","level":"warn","user":"ada","n":3}"#,
        )
        .await;
    assert_eq!(
        (one.status, one.json()["accepted"].as_u64()),
        (200, Some(1))
    );
    let array = s
        .post(
            "/v1/json",
            &[JSON],
            r#"[{"msg":"a1"},{"message":"a2","severity":"error"}]"#,
        )
        .await;
    assert_eq!(array.json()["accepted"], 2);
    let ndjson = s
        .post("/v1/json", &[NDJSON], "{\"msg\":\"n1\"}\n{\"msg\":\"n2\",\"trace_id\":\"5b8efff798038103d269b633813fc60c\"}\n")
        .await;
    assert_eq!(ndjson.json()["accepted"], 2);
    let zipped = gzip(b"{\"msg\":\"z1\"}\n{\"msg\":\"z2\"}");
    let gz = s
        .post("/v1/json", &[NDJSON, ("content-encoding", "gzip")], zipped)
        .await;
    assert_eq!((gz.status, gz.json()["accepted"].as_u64()), (200, Some(2)));

    let records = s.records();
    let bodies: Vec<&str> = records.iter().map(|r| str_of(r.body.as_ref())).collect();
    assert_eq!(bodies, ["one", "a1", "a2", "n1", "n2", "z1", "z2"]);
    assert_eq!(
        (
            records[0].severity_number,
            records[0].severity_text.as_str()
        ),
        (13, "warn")
    );
    assert_eq!(
        attr(&records[0].attributes, "user"),
        Some(&Value::StringValue("ada".into()))
    );
    assert_eq!(attr(&records[0].attributes, "n"), Some(&Value::IntValue(3)));
    assert_eq!(records[2].severity_number, 17);
    assert_eq!(
        hex(&records[4].trace_id),
        "5b8efff798038103d269b633813fc60c"
    );
    assert!(records.iter().all(|r| r.observed_time_unix_nano > 0));
    s.stop().await.unwrap();
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[tokio::test]
async fn the_wrapper_gives_the_batch_its_resource() {
    let s = start("").await;
    let r = s
        .post(
            "/v1/json",
            &[JSON],
            r#"{"resource":{"service.name":"billing","host.name":"h1"},"logs":[{"msg":"x"},{"msg":"y"}]}"#,
        )
        .await;
    assert_eq!(r.json()["accepted"], 2);
    let batches = s.batches();
    assert_eq!(batches.len(), 1);
    let SignalData::Logs(logs) = batches[0].data().unwrap() else {
        panic!("logs")
    };
    let resource = logs[0].resource.as_ref().unwrap();
    assert_eq!(
        attr(&resource.attributes, "service.name"),
        Some(&Value::StringValue("billing".into()))
    );
    assert_eq!(logs[0].scope_logs[0].log_records.len(), 2);
}

#[tokio::test]
async fn bad_records_are_named_and_the_server_stays_up() {
    let s = start("").await;
    let r = s
        .post("/v1/json", &[JSON], r#"[{"msg":"ok"},{"msg":"ok"},"nope"]"#)
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["index"], 2, "{:?}", r.json());
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("record 2: ")
    );
    let r = s
        .post("/v1/json", &[NDJSON], "{\"msg\":1}\n{broken\n")
        .await;
    assert_eq!((r.status, r.json()["line"].as_u64()), (400, Some(2)));
    let r = s.post("/v1/json", &[JSON], "17").await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("expected a JSON object")
    );
    assert!(s.records().is_empty(), "a refused body sends nothing");
    assert_eq!(s.refused(Signal::Logs, reasons::INVALID), 3);
    // Still serving.
    let r = s.post("/v1/json", &[JSON], r#"{"msg":"after"}"#).await;
    assert_eq!(r.status, 200);
    assert_eq!(s.records().len(), 1);
    s.stop().await.unwrap();
}

#[tokio::test]
async fn content_types_encodings_sizes_methods_and_paths_are_checked() {
    let s = start("").await;
    let r = s
        .post("/v1/json", &[("content-type", "text/plain")], "{}")
        .await;
    assert_eq!(r.status, 415);
    assert!(r.json()["error"].as_str().unwrap().contains("text/plain"));
    let r = s.post("/v1/json", &[], "{}").await;
    assert_eq!(r.status, 415);
    let r = s
        .post("/v1/json", &[JSON, ("content-encoding", "br")], "{}")
        .await;
    assert_eq!(r.status, 415);
    let r = s
        .post(
            "/v1/json",
            &[JSON, ("content-encoding", "gzip")],
            "not gzip",
        )
        .await;
    assert_eq!(r.status, 400);
    // 64 KiB limit: a big body, and a small gzip that inflates past it.
    let big = format!(
        "[{}]",
        vec![r#"{"msg":"xxxxxxxxxxxxxxxx"}"#; 4000].join(",")
    );
    let r = s.post("/v1/json", &[JSON], big.clone()).await;
    assert_eq!(r.status, 413);
    let bomb = gzip(big.as_bytes());
    assert!(bomb.len() < 64 * 1024);
    let r = s
        .post("/v1/json", &[JSON, ("content-encoding", "gzip")], bomb)
        .await;
    assert_eq!(r.status, 413);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("once decompressed")
    );
    let r = crate::test_support::send(
        &mut crate::test_support::connect(s.addr).await,
        crate::test_support::req("GET", s.addr, "/v1/json", &[], Bytes::new()),
    )
    .await;
    assert_eq!((r.status, r.header("allow")), (405, Some("POST")));
    let r = s.post("/elsewhere", &[JSON], "{}").await;
    assert_eq!(r.status, 404);
    assert!(s.records().is_empty());
    s.stop().await.unwrap();
}

#[tokio::test]
async fn api_keys_guard_the_endpoint_and_the_batch_keeps_an_alias() {
    let s = start("api_keys: ['k-one', 'k-two']\n").await;
    let r = s.post("/v1/json", &[JSON], r#"{"msg":"x"}"#).await;
    assert_eq!(
        (r.status, r.header("www-authenticate")),
        (401, Some("Bearer"))
    );
    let r = s
        .post(
            "/v1/json",
            &[JSON, ("authorization", "Bearer wrong")],
            r#"{"msg":"x"}"#,
        )
        .await;
    assert_eq!(r.status, 401);
    let r = s
        .post(
            "/v1/json",
            &[JSON, ("authorization", "Bearer k-one")],
            r#"{"msg":"a"}"#,
        )
        .await;
    assert_eq!(r.status, 200);
    let r = s
        .post(
            "/v1/json",
            &[JSON, ("x-api-key", "k-two")],
            r#"{"msg":"b"}"#,
        )
        .await;
    assert_eq!(r.status, 200);
    let batches = s.batches();
    let subjects: Vec<String> = batches
        .iter()
        .map(|b| {
            b.meta()
                .client
                .as_ref()
                .unwrap()
                .subject
                .as_deref()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(subjects.len(), 2);
    assert_ne!(subjects[0], subjects[1], "one alias a key");
    assert!(
        subjects
            .iter()
            .all(|a| a.starts_with("tok-") && !a.contains("k-one") && !a.contains("k-two")),
        "{subjects:?}"
    );
    s.stop().await.unwrap();
}

#[tokio::test]
async fn a_full_pipeline_gets_503_with_retry_after() {
    let s = start_with(BASE, Some(Arc::new(Stalled)), &[Signal::Logs]).await;
    let r = s.post("/v1/json", &[JSON], r#"{"msg":"x"}"#).await;
    assert_eq!((r.status, r.header("retry-after")), (503, Some("1")));
    assert!(r.json()["error"].as_str().unwrap().contains("retry"));
    assert_eq!(s.refused(Signal::Logs, reasons::BACKPRESSURE), 1);
    s.stop().await.unwrap();
}
