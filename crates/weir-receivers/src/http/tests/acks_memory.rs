//! `acknowledgements: true` (the answer waits for the records' fate) and
//! the memory budget (over it, 503 before reading), on both the generic and
//! the Ledger routes. The collecting sink stands in for the pipeline:
//! dropping a batch is delivery, failing its tokens an exporter giving up.

use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;
use weir_core::ByteSize;
use weir_core::memory::MemoryBudget;
use weir_core::telemetry::reasons;

use super::*;

const LEDGER_BATCH: &str = "/api/v1/ingest/batch";

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

fn ledger_batch() -> Vec<u8> {
    let ts = weir_ledger::Timestamp::from_unix_nano(weir_otlp::civil::now_unix_nano()).to_string();
    let entry = json!({ "timestamp": ts, "level": "info", "message": "hi" });
    serde_json::to_vec(&json!({ "logs": [entry, entry] })).unwrap()
}

#[tokio::test]
async fn answers_wait_for_delivery_and_say_503_when_records_are_not_kept() {
    let server = start("acknowledgements: true\n").await;
    let addr = server.addr;
    let generic = move || {
        tokio::spawn(post(
            addr,
            "/v1/json",
            &[NDJSON],
            Bytes::from("{\"m\":1}\n{\"m\":2}\n"),
        ))
    };

    let answer = generic();
    let batches = arrived(&server).await;
    assert_eq!(batches[0].meta().acks.len(), 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!answer.is_finished(), "answered before delivery");
    drop(batches);
    let reply = answer.await.unwrap();
    assert_eq!(
        (reply.status, reply.json()["accepted"].as_u64()),
        (200, Some(2))
    );

    let answer = generic();
    let mut batches = arrived(&server).await;
    batches[0].meta_mut().acks.fail(reasons::QUEUE_FULL);
    drop(batches);
    let reply = answer.await.unwrap();
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header("retry-after"), Some("1"));
    let error = reply.json()["error"].as_str().unwrap().to_string();
    assert!(error.contains("queue_full"), "{error}");
    assert_eq!(server.refused(Signal::Logs, reasons::NOT_DELIVERED), 2);

    // The Ledger routes answer the same way, in Ledger's shape.
    let answer = tokio::spawn(post(addr, LEDGER_BATCH, &[JSON], ledger_batch().into()));
    let mut batches = arrived(&server).await;
    batches[0].meta_mut().acks.fail(reasons::PERMANENT);
    drop(batches);
    let reply = answer.await.unwrap();
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert!(
        reply.json()["detail"]
            .as_str()
            .unwrap()
            .contains("permanent")
    );
    assert_eq!(server.refused(Signal::Logs, reasons::NOT_DELIVERED), 4);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn no_confirmation_within_the_timeout_is_503() {
    let server = start("acknowledgements: true\nacknowledgement_timeout: 150ms\n").await;
    let reply = server.post("/v1/json", &[NDJSON], "{\"m\":1}\n").await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert_eq!(server.refused(Signal::Logs, reasons::ACK_TIMEOUT), 1);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn over_the_memory_budget_requests_are_refused_unread_until_under() {
    let build = BuildContext::for_test("http", Kind::Receiver, &[Signal::Logs]);
    let config = HttpConfig::from_component(&ComponentConfig::from_yaml(BASE).unwrap()).unwrap();
    let receiver = HttpReceiver::new(config, &build).unwrap();
    let (cx, trigger, sink) = wire(&build, None, &[Signal::Logs]);
    let budget = MemoryBudget::new(ByteSize::mib(64));
    let bound_to = receiver.bound();
    let task = tokio::spawn(Box::new(receiver).run(cx.with_memory(budget.clone())));
    let server = Server {
        addr: bound(bound_to).await,
        sink,
        telemetry: build.telemetry,
        trigger,
        task,
    };

    budget.record_resident(60 << 20); // over 90% of 64 MiB
    let reply = server.post("/v1/json", &[NDJSON], "{\"m\":1}\n").await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert!(reply.json()["error"].as_str().unwrap().contains("memory"));
    let reply = server.post(LEDGER_BATCH, &[JSON], ledger_batch()).await;
    assert_eq!(reply.status, 503);
    assert!(reply.json()["detail"].as_str().unwrap().contains("memory"));
    assert!(server.batches().is_empty());
    assert_eq!(server.refused(Signal::Logs, reasons::MEMORY_LIMIT), 2);

    budget.record_resident(20 << 20);
    let reply = server.post("/v1/json", &[NDJSON], "{\"m\":1}\n").await;
    assert_eq!(reply.status, 200);
    assert_eq!(server.batches().len(), 1);
    assert_eq!(budget.used(), 20 << 20, "every lease given back");
    server.stop().await.unwrap();
}
