//! The routes' answers for good and bad bodies, and what gets recorded.

mod support;

use serde_json::json;
use support::*;
use weir_ledger_standin::{DEFAULT_API_KEY, DEFAULT_KEY_ALIAS, Standin, StandinConfig};

async fn standin() -> Standin {
    Standin::start(StandinConfig::default()).await.unwrap()
}

#[tokio::test]
async fn an_accepted_batch_is_answered_and_recorded_in_order() {
    let s = standin().await;
    assert!(s.base_url().starts_with("http://127.0.0.1:"));
    let r = post(s.addr(), BATCH, &batch("a", 3)).await;
    assert_eq!(r.status, 202);
    assert_eq!(
        r.json(),
        json!({"accepted": 3, "rejected": 0, "message": "Batch accepted", "errors": null})
    );
    assert_eq!(r.header("x-ratelimit-limit-minute"), Some("1000"));
    assert_eq!(r.header("x-ratelimit-remaining-minute"), Some("999"));
    assert_eq!(r.header("x-ratelimit-limit-hour"), Some("50000"));
    assert_eq!(r.header("x-ratelimit-remaining-hour"), Some("49999"));

    // A second request, the single route, with X-API-Key.
    let body = serde_json::to_vec(&entry("one")).unwrap();
    let r = send(
        s.addr(),
        "POST",
        SINGLE,
        &[("x-api-key", DEFAULT_API_KEY)],
        body,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 202);
    assert_eq!(r.json()["message"], "Log accepted");

    let got = s.entries();
    let messages: Vec<_> = got
        .iter()
        .map(|e| e.entry.message.clone().unwrap())
        .collect();
    assert_eq!(messages, ["a-0", "a-1", "a-2", "one"]);
    assert_eq!(got[0].request, 0);
    assert_eq!(got[2].request, 0);
    assert_eq!(got[3].request, 1);
    assert!(got.iter().all(|e| &*e.key == DEFAULT_KEY_ALIAS && !e.gzip));
    let stats = s.stats();
    assert_eq!((stats.requests, stats.status(202)), (2, 2));
    assert_eq!((stats.accepted_logs, stats.rejected_logs), (4, 0));
    assert_eq!(stats.request_times.len(), 2);
    assert!(stats.bytes_received > 0);
    assert_eq!(stats.bytes_received, stats.bytes_decoded);
    s.stop().await;
}

#[tokio::test]
async fn a_bad_batch_gets_the_gateways_422_and_nothing_is_kept() {
    let s = standin().await;
    let body = json!({"logs": [entry("fine"), {"timestamp": at(-1), "level": "loud"}]});
    let r = post(s.addr(), BATCH, &body).await;
    assert_eq!(r.status, 422);
    let detail = &r.json()["detail"];
    assert_eq!(detail.as_array().unwrap().len(), 1, "{detail}");
    assert_eq!(detail[0]["type"], "literal_error");
    assert_eq!(detail[0]["loc"], json!(["body", "logs", 1, "level"]));
    assert!(detail[0]["msg"].is_string());
    assert_eq!(r.header("x-ratelimit-limit-minute"), Some("1000"));

    // Empty list, and not JSON at all: the same shapes as weir-ledger says.
    let r = post(s.addr(), BATCH, &json!({"logs": []})).await;
    assert_eq!(
        (r.status, r.json()["detail"][0]["type"].clone()),
        (422, json!("too_short"))
    );
    let auth = bearer();
    let r = send(
        s.addr(),
        "POST",
        BATCH,
        &[("authorization", &auth)],
        b"{".to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(
        (r.status, r.json()["detail"][0]["type"].clone()),
        (422, json!("json_invalid"))
    );

    assert!(s.entries().is_empty());
    let stats = s.stats();
    assert_eq!(
        (stats.status(422), stats.accepted_logs, stats.rejected_logs),
        (3, 0, 0)
    );
}

#[tokio::test]
async fn a_configured_max_batch_size_is_a_422_too_long() {
    let s = Standin::start(StandinConfig {
        max_batch_size: 2,
        ..StandinConfig::default()
    })
    .await
    .unwrap();
    let r = post(s.addr(), BATCH, &batch("x", 3)).await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.json(),
        json!({"detail": [{"type": "too_long", "loc": ["body", "logs"],
            "msg": "List should have at most 2 items after validation, not 3",
            "ctx": {"field_type": "List", "max_length": 2, "actual_length": 3}}]})
    );
    assert_eq!(post(s.addr(), BATCH, &batch("x", 2)).await.status, 202);
    // The same shape as the gateway's own bound.
    let over = serde_json::to_vec(&batch("x", 1001)).unwrap();
    let gateway: serde_json::Value = serde_json::from_slice(
        &weir_ledger::gateway::parse_batch(&over)
            .unwrap_err()
            .to_json(),
    )
    .unwrap();
    let mut ours = r.json();
    ours["detail"][0]["msg"] = gateway["detail"][0]["msg"].clone();
    ours["detail"][0]["ctx"] = gateway["detail"][0]["ctx"].clone();
    assert_eq!(ours, gateway);
    assert_eq!(
        get(s.addr(), SETTINGS).await.json()["constraints"]["max_batch_size"],
        2
    );
}

#[tokio::test]
async fn broken_logs_are_rejected_one_by_one_inside_a_202() {
    let s = standin().await;
    let body = json!({"logs": [
        entry("kept"),
        {"timestamp": at(600), "level": "info", "message": "future"},
        {"timestamp": at(-1), "level": "error", "log_type": "exception", "message": "no type"},
        entry("kept too"),
    ]});
    let r = post(s.addr(), BATCH, &body).await;
    assert_eq!(r.status, 202);
    assert_eq!(
        r.json(),
        json!({"accepted": 2, "rejected": 2, "message": "Batch partially accepted", "errors": [
            "Log 1: Timestamp cannot be more than 5 minutes in the future",
            "Log 2: error_type is required when log_type is 'exception'"]})
    );
    let kept: Vec<_> = s
        .entries()
        .into_iter()
        .map(|e| e.entry.message.unwrap())
        .collect();
    assert_eq!(kept, ["kept", "kept too"]);
    let stats = s.stats();
    assert_eq!((stats.accepted_logs, stats.rejected_logs), (2, 2));
    assert_eq!(stats.quota_usage, 2, "only accepted logs use the quota");
}

#[tokio::test]
async fn gzip_bodies_are_taken_and_bad_gzip_is_a_400() {
    let s = standin().await;
    let auth = bearer();
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
        ("content-encoding", "gzip"),
    ];
    let plain = serde_json::to_vec(&batch("z", 50)).unwrap();
    let packed = gzip(&plain);
    let r = send(s.addr(), "POST", BATCH, &headers, packed.clone())
        .await
        .unwrap();
    assert_eq!((r.status, r.json()["accepted"].clone()), (202, json!(50)));
    assert!(s.entries().iter().all(|e| e.gzip));

    let mut broken = packed.clone();
    broken.truncate(broken.len() / 2);
    let r = send(s.addr(), "POST", BATCH, &headers, broken)
        .await
        .unwrap();
    assert_eq!(r.status, 400);
    assert!(r.json()["detail"].is_string());
    assert_eq!(r.header("x-ratelimit-limit-hour"), Some("50000"));
    let r = send(s.addr(), "POST", BATCH, &headers, plain.clone())
        .await
        .unwrap();
    assert_eq!(r.status, 400, "plain JSON labelled gzip");

    let stats = s.stats();
    assert_eq!(stats.gzip_requests, 3);
    assert_eq!(stats.accepted_logs, 50);
    assert_eq!(stats.bytes_decoded, plain.len() as u64);
    assert_eq!(
        stats.bytes_received,
        (packed.len() + packed.len() / 2 + plain.len()) as u64
    );
}

#[tokio::test]
async fn spans_are_checked_and_recorded() {
    let s = standin().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    let span = |span_id: &str| {
        json!({"trace_id": "5b8efff798038103d269b633813fc60c", "span_id": span_id,
            "parent_span_id": "", "name": "op", "kind": 2, "start_unix_nano": now - 1000,
            "end_unix_nano": now, "status": 0, "status_message": "", "attributes": {},
            "events": [], "service_name": "svc"})
    };
    let body = json!({"spans": [span("eee19b7ec3c1b174"), span("short")]});
    let r = post(s.addr(), SPANS, &body).await;
    assert_eq!(
        (r.status, r.json()),
        (202, json!({"accepted": 1, "rejected": 1}))
    );
    let spans = s.spans();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].span.span_id, "eee19b7ec3c1b174");
    let stats = s.stats();
    assert_eq!((stats.accepted_spans, stats.rejected_spans), (1, 1));
    assert_eq!(stats.quota_usage, 0, "spans are not logs");
}

#[tokio::test]
async fn settings_queue_depth_and_unknown_routes() {
    let s = standin().await;
    s.control().set_queue_depth(7);
    post(s.addr(), BATCH, &batch("q", 4)).await;
    let r = get(s.addr(), SETTINGS).await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("x-ratelimit-limit-minute").is_none(),
        "not an ingest answer"
    );
    let v = r.json();
    let settings: weir_ledger::settings::Settings = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(settings.project_id, 1);
    assert_eq!(settings.project_slug, "ledger-stand-in");
    assert_eq!(settings.rate_limits.requests_per_minute, 1000);
    assert_eq!(settings.rate_limits.requests_per_hour, 50_000);
    assert_eq!(settings.quotas.daily_quota, 100_000);
    assert_eq!(settings.quotas.daily_usage, 4);
    assert_eq!(settings.quotas.quota_remaining, 99_996);
    let reset = settings.quotas.reset_at().expect("quota_reset_at parses");
    assert_eq!(reset.unix_micros() % 86_400_000_000, 0, "next UTC midnight");
    assert!(!settings.features.compression, "as the real server says");
    assert_eq!(settings.constraints, Default::default());
    assert!(v["server_info"]["timestamp"].is_string());

    let r = get(s.addr(), "/api/v1/queue/depth").await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!({"project_id": 1, "queue_depth": 7}))
    );

    let r = get(s.addr(), "/api/v1/nothing").await;
    assert_eq!((r.status, r.json()), (404, json!({"detail": "Not Found"})));
    let r = get(s.addr(), BATCH).await;
    assert_eq!((r.status, r.header("allow")), (405, Some("POST")));
    let stats = s.stats();
    assert_eq!(
        stats.request_times.len(),
        1,
        "only ingest requests are timed"
    );
    assert_eq!((stats.status(404), stats.status(405)), (1, 1));
}
