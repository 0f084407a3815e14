//! The edges, their drop policies and the fan-out.

use super::*;
use std::time::Duration;
use weir_core::ack::{AckFailure, AckWaiter, ack_pair};
use weir_core::otlp::logs::v1::{LogRecord, ScopeLogs};
use weir_core::telemetry::{Kind, names};
use weir_core::{BatchMeta, otlp::logs::v1::ResourceLogs};

fn batch() -> Batch {
    Batch::logs(vec![ResourceLogs::default()], BatchMeta::default())
}

#[tokio::test]
async fn full_edge_refuses_after_deadline_and_returns_the_batch() {
    let (tx, mut rx) = edge(1, 1 << 20, Gauge::detached());
    tx.send(batch(), None).await.unwrap();
    let deadline = Instant::now() + Duration::from_millis(20);
    assert!(matches!(
        tx.send(batch(), Some(deadline)).await,
        Err(SendError::Full(_))
    ));
    assert!(rx.recv().await.is_some());
    tx.send(batch(), Some(Instant::now() + Duration::from_millis(20)))
        .await
        .unwrap();
}

#[tokio::test]
async fn byte_budget_limits_what_waits() {
    let data = weir_core::SignalData::Logs(vec![ResourceLogs {
        schema_url: "x".repeat(1000),
        ..Default::default()
    }]);
    let big = || Batch::from_data(data.clone(), BatchMeta::default());
    let (tx, mut rx) = edge(100, 1500, Gauge::detached());
    tx.send(big(), None).await.unwrap();
    let short = Some(Instant::now() + Duration::from_millis(20));
    assert!(tx.send(big(), short).await.is_err(), "budget is spent");
    rx.recv().await.unwrap();
    tx.send(big(), None).await.unwrap();
}

#[tokio::test]
async fn fan_out_is_all_or_nothing() {
    let (a, mut ra) = edge(1, 1 << 20, Gauge::detached());
    let (b, mut rb) = edge(1, 1 << 20, Gauge::detached());
    let fan = FanOut::new(vec![a, b.clone()]);
    b.send(batch(), None).await.unwrap(); // b is now full
    let short = Some(Instant::now() + Duration::from_millis(20));
    assert!(fan.send(batch(), short).await.is_err());
    assert!(ra.try_recv().is_none(), "nothing reached a");
    rb.recv().await.unwrap();
    fan.send(batch(), None).await.unwrap();
    assert!(ra.try_recv().is_some() && rb.try_recv().is_some());
}

#[tokio::test]
async fn fill_follows_slots_and_bytes() {
    let (tx, mut rx) = edge(4, 1 << 20, Gauge::detached());
    assert_eq!(rx.fill(), 0.0);
    tx.send(batch(), None).await.unwrap();
    assert_eq!(rx.fill(), 0.25);
    let data = weir_core::SignalData::Logs(vec![ResourceLogs {
        schema_url: "x".repeat(1 << 19),
        ..Default::default()
    }]);
    tx.send(Batch::from_data(data, BatchMeta::default()), None)
        .await
        .unwrap();
    assert!(rx.fill() > 0.5 && rx.fill() < 0.51, "{}", rx.fill());
    rx.recv().await.unwrap();
    rx.recv().await.unwrap();
    assert_eq!(rx.fill(), 0.0);
}

#[tokio::test]
async fn a_reporting_edge_keeps_the_load_current_while_nobody_takes() {
    let load = ExporterLoad::new();
    let (tx, mut rx) = edge_reporting(2, 1 << 20, Gauge::detached(), Some(load.clone()));
    tx.send(batch(), None).await.unwrap();
    assert_eq!(load.queue_fill(), 0.5);
    tx.send(batch(), None).await.unwrap();
    assert_eq!(
        load.queue_fill(),
        1.0,
        "full, and the receiver never polled"
    );
    rx.recv().await.unwrap();
    assert_eq!(load.queue_fill(), 0.5);
    rx.recv().await.unwrap();
    assert_eq!(load.queue_fill(), 0.0);
}

#[tokio::test]
async fn closed_when_receiver_dropped() {
    let gauge = Gauge::detached();
    let (tx, rx) = edge(2, 1 << 20, gauge.clone());
    drop(rx);
    assert!(matches!(
        tx.send(batch(), None).await,
        Err(SendError::Closed(_))
    ));
    assert_eq!(gauge.get(), 0);
}

/// A batch of `items` log records marked `name`, carrying a request's
/// token; the waiter says what became of it.
fn marked(name: &str, items: usize, pad: usize) -> (Batch, AckWaiter) {
    let (token, waiter) = ack_pair();
    let batch = Batch::logs(
        vec![ResourceLogs {
            schema_url: format!("{name}{}", " ".repeat(pad)),
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord::default(); items],
                ..Default::default()
            }],
            ..Default::default()
        }],
        BatchMeta::default().with_ack(token),
    );
    (batch, waiter)
}

fn name_of(b: &Batch) -> String {
    match b.data().unwrap() {
        weir_core::SignalData::Logs(v) => v[0].schema_url.trim().to_string(),
        _ => unreachable!(),
    }
}

fn queue_full(t: &ComponentTelemetry) -> u64 {
    t.counter(
        names::EXPORTER_FAILED_ITEMS,
        Some(weir_core::Signal::Logs),
        &[("reason", reasons::QUEUE_FULL)],
    )
    .get()
}

/// Settles every waiter whose batch is gone and says how each ended.
async fn outcomes(waiters: Vec<AckWaiter>) -> Vec<Result<(), AckFailure>> {
    let mut out = Vec::new();
    for w in waiters {
        let r = tokio::time::timeout(Duration::from_secs(5), w.wait())
            .await
            .expect("settled");
        out.push(r);
    }
    out
}

struct Queue {
    tx: EdgeSender,
    rx: EdgeReceiver,
    items: Gauge,
    load: ExporterLoad,
    telemetry: ComponentTelemetry,
}

fn queue(capacity: usize, max_bytes: usize, when_full: WhenFull) -> Queue {
    let telemetry = ComponentTelemetry::detached("file", Kind::Exporter);
    let (items, load) = (Gauge::detached(), ExporterLoad::new());
    let (tx, rx) = exporter_edge(
        capacity,
        max_bytes,
        items.clone(),
        load.clone(),
        when_full,
        &telemetry,
    );
    Queue {
        tx,
        rx,
        items,
        load,
        telemetry,
    }
}

#[tokio::test]
async fn drop_newest_drops_the_arriving_batch_without_waiting() {
    let Queue {
        tx,
        mut rx,
        items,
        load,
        telemetry,
    } = queue(2, 1 << 20, WhenFull::DropNewest);
    let mut waiters = Vec::new();
    for (name, n) in [("a", 1), ("b", 2), ("c", 3)] {
        let (b, w) = marked(name, n, 0);
        waiters.push(w);
        // No deadline: a blocking edge would wait here forever.
        tokio::time::timeout(Duration::from_secs(5), tx.send(b, None))
            .await
            .expect("never waits")
            .unwrap();
    }
    assert_eq!(queue_full(&telemetry), 3, "c's items");
    assert_eq!((items.get(), load.queue_fill()), (3, 1.0));
    let names: Vec<String> = [rx.recv().await.unwrap(), rx.recv().await.unwrap()]
        .iter()
        .map(name_of)
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert!(rx.try_recv().is_none());
    assert_eq!((items.get(), load.queue_fill()), (0, 0.0));
    assert_eq!(
        outcomes(waiters).await,
        [Ok(()), Ok(()), Err(AckFailure(reasons::QUEUE_FULL))]
    );
}

#[tokio::test]
async fn drop_newest_counts_the_byte_budget_too() {
    let Queue {
        tx,
        mut rx,
        telemetry,
        ..
    } = queue(100, 1500, WhenFull::DropNewest);
    let (a, wa) = marked("a", 1, 1000);
    let (b, wb) = marked("b", 1, 1000);
    tx.send(a, None).await.unwrap();
    tx.send(b, None).await.unwrap();
    assert_eq!(queue_full(&telemetry), 1);
    assert_eq!(name_of(&rx.recv().await.unwrap()), "a");
    assert!(rx.try_recv().is_none());
    assert_eq!(
        outcomes(vec![wa, wb]).await,
        [Ok(()), Err(AckFailure(reasons::QUEUE_FULL))]
    );
}

#[tokio::test]
async fn drop_oldest_drops_what_waited_longest_to_make_room() {
    let Queue {
        tx,
        mut rx,
        items,
        load,
        telemetry,
    } = queue(2, 1 << 20, WhenFull::DropOldest);
    let mut waiters = Vec::new();
    for (name, n) in [("a", 1), ("b", 2), ("c", 3), ("d", 4)] {
        let (b, w) = marked(name, n, 0);
        waiters.push(w);
        tokio::time::timeout(Duration::from_secs(5), tx.send(b, None))
            .await
            .expect("never waits")
            .unwrap();
    }
    assert_eq!(queue_full(&telemetry), 1 + 2, "a's and b's items");
    assert_eq!((items.get(), load.queue_fill()), (3 + 4, 1.0));
    assert_eq!(rx.fill(), 1.0);
    assert_eq!(name_of(&rx.recv().await.unwrap()), "c");
    assert_eq!(load.queue_fill(), 0.5);
    assert_eq!(name_of(&rx.try_recv().unwrap()), "d");
    assert!(rx.try_recv().is_none());
    assert_eq!((items.get(), load.queue_fill()), (0, 0.0));
    let full = Err(AckFailure(reasons::QUEUE_FULL));
    assert_eq!(outcomes(waiters).await, [full, full, Ok(()), Ok(())]);
}

#[tokio::test]
async fn drop_oldest_makes_room_in_the_byte_budget_too() {
    let Queue {
        tx,
        mut rx,
        telemetry,
        ..
    } = queue(100, 2500, WhenFull::DropOldest);
    let (a, wa) = marked("a", 1, 1000);
    let (b, wb) = marked("b", 1, 1000);
    let (c, wc) = marked("c", 1, 1000);
    for x in [a, b, c] {
        tx.send(x, None).await.unwrap();
    }
    assert_eq!(queue_full(&telemetry), 1);
    assert_eq!(name_of(&rx.recv().await.unwrap()), "b");
    assert_eq!(name_of(&rx.recv().await.unwrap()), "c");
    // One batch over the whole budget waits alone.
    let (big, _) = marked("big", 1, 5000);
    tx.send(big, None).await.unwrap();
    assert!(rx.fill() == 1.0);
    let full = Err(AckFailure(reasons::QUEUE_FULL));
    assert_eq!(outcomes(vec![wa, wb, wc]).await, [full, Ok(()), Ok(())]);
}

#[tokio::test]
async fn drop_oldest_wakes_the_receiver_and_ends_when_the_senders_go() {
    let Queue { tx, mut rx, .. } = queue(4, 1 << 20, WhenFull::DropOldest);
    let taker = tokio::spawn(async move {
        let mut got = Vec::new();
        while let Some(b) = rx.recv().await {
            got.push(name_of(&b));
        }
        got
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = tx.clone();
    tx.send(marked("a", 1, 0).0, None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    second.send(marked("b", 1, 0).0, None).await.unwrap();
    drop(tx);
    drop(second);
    let got = tokio::time::timeout(Duration::from_secs(5), taker)
        .await
        .expect("ended")
        .unwrap();
    assert_eq!(got, ["a", "b"]);
}

#[tokio::test]
async fn a_dropped_receiver_fails_what_waited_and_closes_the_edge() {
    for when_full in [WhenFull::Block, WhenFull::DropNewest, WhenFull::DropOldest] {
        let Queue { tx, rx, items, .. } = queue(4, 1 << 20, when_full);
        let (b, w) = marked("a", 2, 0);
        tx.send(b, None).await.unwrap();
        drop(rx);
        assert_eq!(items.get(), 0, "{when_full:?}");
        assert_eq!(
            outcomes(vec![w]).await,
            [Err(AckFailure(reasons::ABANDONED))],
            "{when_full:?}"
        );
        assert!(tx.is_closed(), "{when_full:?}");
        assert!(matches!(
            tx.send(batch(), None).await,
            Err(SendError::Closed(_))
        ));
    }
}

#[tokio::test]
async fn block_still_waits_and_drops_nothing() {
    let Queue {
        tx,
        mut rx,
        telemetry,
        ..
    } = queue(1, 1 << 20, WhenFull::Block);
    tx.send(batch(), None).await.unwrap();
    let short = Some(Instant::now() + Duration::from_millis(20));
    assert!(matches!(
        tx.send(batch(), short).await,
        Err(SendError::Full(_))
    ));
    assert_eq!(queue_full(&telemetry), 0);
    rx.recv().await.unwrap();
}

#[tokio::test]
async fn a_fan_out_to_a_full_drop_newest_queue_still_reaches_the_others() {
    let Queue {
        tx: dropping,
        rx: mut full,
        telemetry,
        ..
    } = queue(1, 1 << 20, WhenFull::DropNewest);
    let (other, mut ro) = edge(4, 1 << 20, Gauge::detached());
    dropping.send(batch(), None).await.unwrap();
    let fan = FanOut::new(vec![dropping, other]);
    let (b, w) = marked("a", 1, 0);
    fan.send(b, Some(Instant::now() + Duration::from_millis(20)))
        .await
        .unwrap();
    assert_eq!(name_of(&ro.recv().await.unwrap()), "a");
    assert_eq!(queue_full(&telemetry), 1);
    full.recv().await.unwrap();
    drop(fan);
    assert_eq!(
        outcomes(vec![w]).await,
        [Err(AckFailure(reasons::QUEUE_FULL))],
        "one copy dropped fails the request"
    );
}
