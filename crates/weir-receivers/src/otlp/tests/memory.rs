//! `service.memory_limit`: over the budget, requests are refused before they
//! are read, with a retryable answer; under it again, taken.

use std::time::Duration;

use tonic::Code;
use weir_core::ByteSize;
use weir_core::memory::MemoryBudget;
use weir_core::telemetry::reasons;
use weir_otlp::grpc::export_path;
use weir_otlp::status::retry_info;

use super::grpc::{call, channel};
use super::*;

/// A receiver of `BASE` under `budget`.
async fn start_under(budget: MemoryBudget) -> Server {
    let (receiver, cx, trigger, sink, telemetry) = build(BASE, None, &Signal::ALL);
    let bound_to = receiver.bound();
    let task = tokio::spawn(Box::new(receiver).run(cx.with_memory(budget)));
    let addrs: BoundAddrs = bound(bound_to).await;
    Server {
        grpc: addrs.grpc.unwrap(),
        http: addrs.http.unwrap(),
        sink,
        telemetry,
        trigger,
        task,
    }
}

#[tokio::test]
async fn over_the_budget_requests_are_refused_unread_and_taken_once_under() {
    let budget = MemoryBudget::new(ByteSize::mib(100));
    let server = start_under(budget.clone()).await;
    let ch = channel(server.grpc).await;
    let grpc = |n| {
        call(
            &ch,
            export_path(Signal::Logs),
            request(Signal::Logs, n),
            None,
            None,
        )
    };

    budget.record_resident(95 << 20); // over 90% of the limit
    let reply = post(
        server.http,
        "/v1/logs",
        &[PROTOBUF],
        request(Signal::Logs, 3),
    )
    .await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert!(text(&reply).contains("memory"), "{reply:?}");
    let status = grpc(3).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(retry_info(&status), Some(Duration::from_secs(1)));
    assert!(
        server.batches().is_empty(),
        "nothing read into the pipeline"
    );
    // Their items are unknown: each refused request counts 1.
    assert_eq!(server.refused(Signal::Logs, reasons::MEMORY_LIMIT), 2);

    budget.record_resident(50 << 20);
    let reply = post(
        server.http,
        "/v1/logs",
        &[PROTOBUF],
        request(Signal::Logs, 3),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(grpc(2).await.is_ok());
    let items: usize = server.batches().iter().map(Batch::items).sum();
    assert_eq!(items, 5);
    assert_eq!(server.refused(Signal::Logs, reasons::MEMORY_LIMIT), 2);
    assert_eq!(budget.used(), 50 << 20, "every lease given back");
    server.stop().await.unwrap();
}

/// The body as text (a protobuf `google.rpc.Status` holds its message as is).
fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}
