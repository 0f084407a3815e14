//! Keys (401), the per-key rate limits (429) and the daily quota (402).

mod support;

use std::time::Duration;

use serde_json::json;
use support::*;
use weir_ledger_standin::{Standin, StandinConfig};

#[tokio::test]
async fn missing_or_unknown_keys_get_401_until_the_key_is_fixed() {
    let s = Standin::start(StandinConfig::default()).await.unwrap();
    let body = serde_json::to_vec(&batch("k", 1)).unwrap();
    let r = send(s.addr(), "POST", BATCH, &[], body.clone())
        .await
        .unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert!(r.json()["detail"].is_string());
    let wrong = "Bearer ledger_wrong";
    let r = send(
        s.addr(),
        "POST",
        BATCH,
        &[("authorization", wrong)],
        body.clone(),
    )
    .await
    .unwrap();
    assert_eq!(
        (r.status, r.header("www-authenticate")),
        (401, Some("Bearer"))
    );
    assert!(
        !String::from_utf8_lossy(&r.body).contains("ledger_wrong"),
        "never echoed"
    );
    assert!(r.header("x-ratelimit-limit-minute").is_none());

    // The operator fixes the key on the server's side: the new one works,
    // the old one no longer does.
    let c = s.control();
    c.set_api_key("ledger_wrong");
    let r = send(
        s.addr(),
        "POST",
        BATCH,
        &[("authorization", wrong)],
        body.clone(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 202);
    assert_eq!(post(s.addr(), BATCH, &batch("k", 1)).await.status, 401);

    // A second key, recorded under its alias.
    c.add_key("team-b", "ledger_team_b");
    let r = send(
        s.addr(),
        "POST",
        BATCH,
        &[("x-api-key", "ledger_team_b")],
        body.clone(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 202);
    let keys: Vec<_> = s.entries().iter().map(|e| e.key.to_string()).collect();
    assert_eq!(keys, ["default", "team-b"]);

    // A revoked key: 401 on every route until cleared.
    c.reject_all_keys(true);
    let r = send(
        s.addr(),
        "POST",
        BATCH,
        &[("x-api-key", "ledger_team_b")],
        body.clone(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 401);
    let r = send(
        s.addr(),
        "GET",
        SETTINGS,
        &[("authorization", wrong)],
        Vec::new(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 401);
    c.clear();
    let r = send(
        s.addr(),
        "GET",
        SETTINGS,
        &[("authorization", wrong)],
        Vec::new(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(s.stats().status(401), 5);
}

#[tokio::test]
async fn the_minute_limit_answers_429_with_retry_after_and_headers() {
    // Long enough that three requests fit in it on a loaded machine.
    let window = Duration::from_millis(1500);
    let s = Standin::start(StandinConfig {
        requests_per_minute: 3,
        minute_window: window,
        ..StandinConfig::default()
    })
    .await
    .unwrap();
    for left in [2, 1, 0] {
        let r = post(s.addr(), BATCH, &batch("r", 1)).await;
        assert_eq!(r.status, 202);
        assert_eq!(
            r.header("x-ratelimit-remaining-minute"),
            Some(&*left.to_string())
        );
    }
    let r = post(s.addr(), BATCH, &batch("r", 1)).await;
    assert_eq!(r.status, 429);
    assert_eq!(
        r.header("retry-after"),
        Some("2"),
        "the window rounded up to seconds"
    );
    assert_eq!(r.header("x-ratelimit-limit-minute"), Some("3"));
    assert_eq!(r.header("x-ratelimit-remaining-minute"), Some("0"));
    assert_eq!(r.header("x-ratelimit-limit-hour"), Some("50000"));
    assert_eq!(r.header("x-ratelimit-remaining-hour"), Some("49997"));
    assert!(r.json()["detail"].as_str().unwrap().contains("per minute"));
    // Another key has its own budget; settings are not limited.
    s.control().add_key("other", "ledger_other");
    let body = serde_json::to_vec(&batch("o", 1)).unwrap();
    let r = send(
        s.addr(),
        "POST",
        BATCH,
        &[("x-api-key", "ledger_other")],
        body,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 202);
    assert_eq!(get(s.addr(), SETTINGS).await.status, 200);

    // Sliding: once the window has passed, the key is let in again.
    tokio::time::sleep(window).await;
    assert_eq!(post(s.addr(), BATCH, &batch("r", 1)).await.status, 202);
    let stats = s.stats();
    assert_eq!((stats.status(202), stats.status(429)), (5, 1));
    // The 429 proves the first four came within one window; the fifth (the
    // other key's) did too unless the machine is very slow.
    let most = stats.max_requests_in_any_minute;
    assert!(
        (4..=5).contains(&most),
        "every ingest request counts: {most}"
    );
    assert_eq!(stats.max_requests_in(Duration::from_secs(3600)), 6);
}

#[tokio::test]
async fn the_hour_limit_says_3600_by_default() {
    let s = Standin::start(StandinConfig {
        requests_per_hour: 1,
        ..StandinConfig::default()
    })
    .await
    .unwrap();
    assert_eq!(post(s.addr(), BATCH, &batch("h", 1)).await.status, 202);
    let r = post(s.addr(), BATCH, &batch("h", 1)).await;
    assert_eq!((r.status, r.header("retry-after")), (429, Some("3600")));
    assert_eq!(r.header("x-ratelimit-remaining-hour"), Some("0"));
    // With the real minute, a minute 429 says 60.
    s.control().set_rate_limits(1, 100);
    s.control().reset_rate_limits();
    post(s.addr(), BATCH, &batch("h", 1)).await;
    let r = post(s.addr(), BATCH, &batch("h", 1)).await;
    assert_eq!((r.status, r.header("retry-after")), (429, Some("60")));
    let settings = get(s.addr(), SETTINGS).await.json();
    assert_eq!(
        settings["rate_limits"],
        json!({"requests_per_minute": 1, "requests_per_hour": 100})
    );
}

#[tokio::test]
async fn the_quota_answers_402_until_reset() {
    let s = Standin::start(StandinConfig {
        daily_quota: 5,
        ..StandinConfig::default()
    })
    .await
    .unwrap();
    assert_eq!(post(s.addr(), BATCH, &batch("q", 3)).await.status, 202);
    // Three more would pass the quota: the whole request is refused.
    let r = post(s.addr(), BATCH, &batch("q", 3)).await;
    assert_eq!(r.status, 402);
    assert_eq!(r.json(), json!({"detail": "Daily quota exceeded: 3/5"}));
    assert_eq!(r.header("x-ratelimit-limit-minute"), Some("1000"));
    assert_eq!(post(s.addr(), BATCH, &batch("q", 2)).await.status, 202);
    let r = post(s.addr(), SINGLE, &entry("one more")).await;
    assert_eq!(
        (r.status, r.json()["detail"].clone()),
        (402, json!("Daily quota exceeded: 5/5"))
    );

    let quotas = get(s.addr(), SETTINGS).await.json()["quotas"].clone();
    assert_eq!(quotas["daily_quota"], 5);
    assert_eq!(quotas["daily_usage"], 5);
    assert_eq!(quotas["quota_remaining"], 0);
    assert!(
        quotas["quota_reset_at"]
            .as_str()
            .unwrap()
            .ends_with("T00:00:00Z")
    );

    s.control().reset_quota();
    assert_eq!(
        post(s.addr(), SINGLE, &entry("after reset")).await.status,
        202
    );
    let stats = s.stats();
    assert_eq!(
        (stats.status(402), stats.accepted_logs, stats.quota_usage),
        (2, 6, 1)
    );
    assert_eq!(s.entries().len(), 6);
}

#[tokio::test]
async fn a_timed_quota_period_resets_by_itself() {
    let s = Standin::start(StandinConfig {
        daily_quota: 1,
        quota_period: Some(Duration::from_millis(1500)),
        ..StandinConfig::default()
    })
    .await
    .unwrap();
    assert_eq!(post(s.addr(), SINGLE, &entry("a")).await.status, 202);
    assert_eq!(post(s.addr(), SINGLE, &entry("b")).await.status, 402);
    let quotas = get(s.addr(), SETTINGS).await.json()["quotas"].clone();
    let reset = weir_ledger::Timestamp::parse(quotas["quota_reset_at"].as_str().unwrap()).unwrap();
    let now = weir_ledger::Timestamp::parse(&at(0)).unwrap();
    assert!(reset > now && reset.unix_micros() - now.unix_micros() <= 1_500_000);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(post(s.addr(), SINGLE, &entry("c")).await.status, 202);
}
