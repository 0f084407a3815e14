//! One request, start to end, in the order Ledger's layers see it:
//! route (404/405), injected faults, key (401), rate limit (429), body (400,
//! 413), schema (422), per-item rules and quota (202/402).
//!
//! Injected faults come before the key check so that "fail the next N
//! requests" means exactly the next N in-scope requests, whatever they
//! carry; they are not counted against the rate limit either.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, Request};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::json;
use tokio::time::Instant;
use weir_ledger::Timestamp;
use weir_ledger::settings::{Quotas, RateLimits, ServerInfo, Settings};

use crate::faults::{Fault, FaultScope};
use crate::ingest::{self, Kind, Sender};
use crate::respond::{self, Answer};
use crate::state::{Shared, lock};
use weir_ledger::ratelimit::Exceeded;

/// The error that makes hyper close the connection without an answer.
#[derive(Debug)]
pub(crate) struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on cue")
    }
}

impl std::error::Error for Dropped {}

/// The known routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Ingest(Kind),
    Settings,
    QueueDepth,
}

impl Route {
    fn of(path: &str) -> Option<(Route, &'static str)> {
        Some(match path {
            "/api/v1/ingest/batch" => (Route::Ingest(Kind::Batch), "POST"),
            "/api/v1/ingest/single" => (Route::Ingest(Kind::Single), "POST"),
            "/api/v1/ingest/spans/batch" => (Route::Ingest(Kind::Spans), "POST"),
            "/api/v1/settings" => (Route::Settings, "GET"),
            "/api/v1/queue/depth" => (Route::QueueDepth, "GET"),
            _ => return None,
        })
    }

    fn in_scope(self, scope: FaultScope) -> bool {
        match scope {
            FaultScope::All => true,
            FaultScope::Ingest => matches!(self, Route::Ingest(_)),
            FaultScope::Settings => self == Route::Settings,
        }
    }
}

/// Serves one request; `Err` drops the connection.
pub(crate) async fn serve(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Answer, Dropped> {
    let request = shared.next_request();
    let arrival = Instant::now();
    let Some((route, method)) = Route::of(req.uri().path()) else {
        return Ok(finish(&shared, respond::detail(404, "Not Found")));
    };
    if req.method().as_str() != method {
        let r = respond::allow(respond::detail(405, "Method Not Allowed"), method);
        return Ok(finish(&shared, r));
    }
    if matches!(route, Route::Ingest(_)) {
        let at = arrival.duration_since(shared.started);
        lock(&shared.records).stats.request_times.push(at);
    }
    let (delay, fault) = {
        let mut live = lock(&shared.live);
        if route.in_scope(live.faults.scope) {
            (live.faults.delay, live.faults.take(arrival))
        } else {
            (Duration::ZERO, None)
        }
    };
    let answer = match fault {
        Some(Fault::Drop) => {
            // Take the whole request first, like a server that died while
            // working on it, so the client sees no answer rather than a
            // refused upload.
            let _ = req.into_body().collect().await;
            lock(&shared.records).stats.dropped += 1;
            sleep(delay).await;
            return Err(Dropped);
        }
        Some(Fault::Fail(f)) => {
            let r = respond::detail(f.status, respond::fault_reason(f.status));
            match f.retry_after {
                Some(secs) => respond::retry_after(r, secs),
                None => r,
            }
        }
        None => answer(&shared, route, request, req).await,
    };
    // The work is done before the delay: a slow server still keeps what it
    // was sent, so a client that gives up and retries sends duplicates
    // (told apart by `Received::request`), as against a real one.
    let answer = finish(&shared, answer);
    sleep(delay).await;
    Ok(answer)
}

async fn sleep(d: Duration) {
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}

/// Counts the answer's status.
fn finish(shared: &Shared, answer: Answer) -> Answer {
    shared.answered(answer.status().as_u16());
    answer
}

/// The key presented, from `Authorization: Bearer` or `X-API-Key`.
fn presented_keys(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    let bearer = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let x_api_key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    bearer.into_iter().chain(x_api_key)
}

/// Everything after the faults.
async fn answer(shared: &Shared, route: Route, request: u64, req: Request<Incoming>) -> Answer {
    let (alias, key, rate, max_batch, retry_after, queue_depth) = {
        let live = lock(&shared.live);
        let mut presented = presented_keys(req.headers()).peekable();
        if presented.peek().is_none() {
            // The key itself is never echoed.
            return respond::unauthorized("Missing API key");
        }
        let Some((alias, key)) = presented.find_map(|k| live.alias_of(k).map(|a| (a, k))) else {
            return respond::unauthorized("Invalid API key");
        };
        let key = key.to_owned();
        let retry_after = [
            live.retry_after(Exceeded::Minute),
            live.retry_after(Exceeded::Hour),
        ];
        let rate = live.rate;
        (
            alias,
            key,
            rate,
            live.max_batch_size,
            retry_after,
            live.queue_depth,
        )
    };
    let kind = match route {
        Route::Settings => return settings(shared),
        Route::QueueDepth => {
            let body = json!({"project_id": shared.project.id, "queue_depth": queue_depth});
            return respond::json(200, body.to_string().into_bytes());
        }
        Route::Ingest(kind) => kind,
    };
    let (verdict, headers) = lock(&shared.limiter).admit(&key, Instant::now().into_std(), rate);
    if let Err(which) = verdict {
        let reason = rate.refusal(which);
        let secs = match which {
            Exceeded::Minute => retry_after[0],
            Exceeded::Hour => retry_after[1],
        };
        let r = respond::retry_after(respond::detail(429, &reason), secs);
        return respond::rate_headers(r, &headers);
    }
    let (parts, body) = req.into_parts();
    let r = match ingest::read_body(shared, &parts.headers, body).await {
        Ok(body) => ingest::answer(
            shared,
            kind,
            max_batch,
            body,
            Sender {
                request,
                key: alias,
            },
        ),
        Err(r) => r,
    };
    respond::rate_headers(r, &headers)
}

/// `GET /api/v1/settings`: the limits in force and the quota's use now.
fn settings(shared: &Shared) -> Answer {
    let (rate, max_batch) = {
        let live = lock(&shared.live);
        (live.rate, live.max_batch_size)
    };
    let now = Instant::now();
    let (limit, usage, reset_at) = {
        let mut q = lock(&shared.quota);
        (q.limit, q.usage(now), q.reset_at_micros(now))
    };
    let mut s = Settings {
        project_id: shared.project.id,
        project_name: shared.project.name.clone(),
        project_slug: slug(&shared.project.name),
        environment: shared.project.environment.clone(),
        rate_limits: RateLimits {
            requests_per_minute: rate.per_minute,
            requests_per_hour: rate.per_hour,
        },
        quotas: Quotas {
            daily_quota: limit,
            daily_usage: usage,
            quota_remaining: limit.saturating_sub(usage),
            quota_reset_at: Some(Timestamp::from_unix_micros(reset_at).to_string()),
        },
        server_info: ServerInfo {
            version: concat!("weir-ledger-standin ", env!("CARGO_PKG_VERSION")).to_owned(),
            timestamp: Some(
                Timestamp::from_unix_micros((weir_otlp::civil::now_unix_nano() / 1_000) as i64)
                    .to_string(),
            ),
        },
        ..Settings::default()
    };
    // `features` stay at their defaults: `compression: false`, as the real
    // server says although it takes gzip.
    s.constraints.max_batch_size = max_batch;
    respond::json(200, serde_json::to_vec(&s).expect("settings serialize"))
}

/// `Ledger Stand-in` → `ledger-stand-in`.
fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}
