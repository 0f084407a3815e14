//! Faults on cue: 5xx bursts, timed failures, slowness, dropped
//! connections, a dead listener, and which routes they hit.

mod support;

use std::time::{Duration, Instant};

use support::*;
use weir_ledger_standin::{FaultScope, Standin, StandinConfig};

async fn standin() -> Standin {
    Standin::start(StandinConfig::default()).await.unwrap()
}

#[tokio::test]
async fn a_503_burst_with_and_without_retry_after() {
    let s = standin().await;
    let c = s.control();
    c.fail_next(2, 503, Some(60));
    c.fail_next(1, 503, None);
    for expected in [Some("60"), Some("60"), None] {
        let r = post(s.addr(), BATCH, &batch("f", 2)).await;
        assert_eq!(r.status, 503);
        assert_eq!(r.header("retry-after"), expected);
        assert!(r.json()["detail"].is_string());
    }
    assert_eq!(post(s.addr(), BATCH, &batch("ok", 2)).await.status, 202);
    let stats = s.stats();
    assert_eq!((stats.status(503), stats.status(202)), (3, 1));
    assert_eq!(stats.accepted_logs, 2, "failed requests keep nothing");
    assert_eq!(s.entries()[0].request, 3);
}

#[tokio::test]
async fn failures_for_a_while_then_healthy_and_500s() {
    let s = standin().await;
    let c = s.control();
    c.fail_for(Duration::from_millis(1500), 500, None);
    let r = post(s.addr(), BATCH, &batch("t", 1)).await;
    assert_eq!((r.status, r.header("retry-after")), (500, None));
    assert_eq!(post(s.addr(), BATCH, &batch("t", 1)).await.status, 500);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(post(s.addr(), BATCH, &batch("t", 1)).await.status, 202);
    // clear() ends a timed failure early.
    c.fail_for(Duration::from_secs(60), 503, Some(60));
    assert_eq!(post(s.addr(), BATCH, &batch("t", 1)).await.status, 503);
    c.clear();
    assert_eq!(post(s.addr(), BATCH, &batch("t", 1)).await.status, 202);
}

#[tokio::test]
async fn faults_hit_ingest_routes_unless_scoped_otherwise() {
    let s = standin().await;
    let c = s.control();
    c.fail_next(1, 503, Some(60));
    assert_eq!(
        get(s.addr(), SETTINGS).await.status,
        200,
        "settings untouched"
    );
    assert_eq!(post(s.addr(), BATCH, &batch("s", 1)).await.status, 503);

    c.set_fault_scope(FaultScope::Settings);
    c.fail_next(1, 500, None);
    assert_eq!(post(s.addr(), BATCH, &batch("s", 1)).await.status, 202);
    assert_eq!(get(s.addr(), SETTINGS).await.status, 500);

    c.set_fault_scope(FaultScope::All);
    c.fail_next(2, 502, None);
    assert_eq!(get(s.addr(), SETTINGS).await.status, 502);
    assert_eq!(post(s.addr(), BATCH, &batch("s", 1)).await.status, 502);
}

#[tokio::test]
async fn a_slow_server_answers_late_but_keeps_what_it_got() {
    let s = standin().await;
    let c = s.control();
    let delay = Duration::from_millis(1000);
    c.set_delay(delay);
    let started = Instant::now();
    let r = post(s.addr(), BATCH, &batch("slow", 2)).await;
    assert_eq!(r.status, 202);
    assert!(started.elapsed() >= delay);

    // A client that gives up early gets nothing, yet the logs were kept.
    let body = serde_json::to_vec(&batch("gave-up", 1)).unwrap();
    let auth = bearer();
    let timed_out = tokio::time::timeout(
        Duration::from_millis(100),
        send(s.addr(), "POST", BATCH, &[("authorization", &auth)], body),
    )
    .await;
    assert!(timed_out.is_err());
    assert!(c.wait_for_logs(3, Duration::from_secs(5)).await);

    c.set_delay(Duration::ZERO);
    let started = Instant::now();
    assert_eq!(post(s.addr(), BATCH, &batch("fast", 1)).await.status, 202);
    assert!(started.elapsed() < delay);
}

#[tokio::test]
async fn dropped_connections_get_no_answer() {
    let s = standin().await;
    let c = s.control();
    c.drop_next(2);
    let auth = bearer();
    let body = serde_json::to_vec(&batch("d", 3)).unwrap();
    for _ in 0..2 {
        let r = send(
            s.addr(),
            "POST",
            BATCH,
            &[("authorization", &auth)],
            body.clone(),
        )
        .await;
        match r {
            Err(NoAnswer::Http(e)) => assert!(
                e.is_incomplete_message() || e.is_closed() || e.is_canceled(),
                "{e:?}"
            ),
            other => panic!("expected no answer, got {other:?}"),
        }
    }
    assert_eq!(post(s.addr(), BATCH, &batch("d", 3)).await.status, 202);
    let stats = s.stats();
    assert_eq!(
        (stats.dropped, stats.requests, stats.accepted_logs),
        (2, 3, 3)
    );
    assert_eq!(stats.by_status.values().sum::<u64>(), 1);
}

#[tokio::test]
async fn a_dead_server_comes_back_on_the_same_port() {
    let s = standin().await;
    let c = s.control();
    let addr = s.addr();
    assert_eq!(post(addr, BATCH, &batch("up", 1)).await.status, 202);
    c.stop_listening().await;
    assert!(!c.is_listening().await);
    let r = send(addr, "GET", SETTINGS, &[], Vec::new()).await;
    assert!(matches!(r, Err(NoAnswer::Connect(_))), "{r:?}");
    c.start_listening().await.unwrap();
    assert!(c.is_listening().await);
    assert_eq!(post(addr, BATCH, &batch("back", 1)).await.status, 202);
    assert_eq!(s.entries().len(), 2);
    s.stop().await;
    assert!(send(addr, "GET", SETTINGS, &[], Vec::new()).await.is_err());
}

#[tokio::test]
async fn stopping_closes_open_connections() {
    let s = standin().await;
    let c = s.control();
    c.set_delay(Duration::from_secs(30));
    let addr = s.addr();
    let pending = tokio::spawn(async move { post_raw(addr).await });
    // Let the request arrive, then kill the server under it.
    assert!(c.wait_for_logs(1, Duration::from_secs(5)).await);
    c.stop_listening().await;
    let r = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .expect("the client is not left hanging")
        .unwrap();
    assert!(r.is_err());
}

async fn post_raw(addr: std::net::SocketAddr) -> Result<Reply, NoAnswer> {
    let auth = bearer();
    let body = serde_json::to_vec(&batch("p", 1)).unwrap();
    send(addr, "POST", BATCH, &[("authorization", &auth)], body).await
}
