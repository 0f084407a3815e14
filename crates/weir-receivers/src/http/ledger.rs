//! Ledger's ingest API (`shared/ledger-api.md`), so an app using the Ledger
//! SDK can point its base URL at weir and change nothing else.
//!
//! Requests are validated by `weir_ledger` exactly as Ledger does: schema
//! errors refuse the whole request with FastAPI's 422 `{"detail": [...]}`,
//! and the per-log checks of Ledger's ingestion service (timestamps at most
//! 5 minutes ahead, exception and endpoint fields, attribute size) reject
//! single logs inside a 202 `{accepted, rejected, message, errors}`. Accepted
//! entries become OTLP log records by `weir_ledger::otlp` (the inverse of
//! the `ledger` exporter's mapping), spans become OTLP spans.
//!
//! The ingest routes keep the request limits `GET /api/v1/settings`
//! advertises, per key, as Ledger does (`weir_ledger::ratelimit`): over
//! them, 429 with `Retry-After`; every ingest answer carries the
//! `X-RateLimit-*` headers.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Instant;

use http::{Request, StatusCode};
use hyper::body::Incoming;
use weir_core::otlp::common::v1::InstrumentationScope;
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_core::{Batch, Signal};
use weir_ledger::gateway;
use weir_ledger::ingest::{self, IngestResponse, SpanIngestResponse};
use weir_ledger::ratelimit::{RateConfig, RateLimiter};
use weir_ledger::settings::Settings;

use super::respond::{self, Answer};
use super::state::{BodyRefusal, OVER_MEMORY, SendRefusal, State, no_route};
use weir_otlp::civil::now_unix_nano;

/// Scope name of the records made from Ledger entries (spans get the same).
pub(crate) const SCOPE: &str = "ledger";

/// The Ledger routes and what `GET /api/v1/settings` answers.
pub(crate) struct Ledger {
    settings: Vec<u8>,
    rate: RateConfig,
    /// Keyed by the key's alias (one entry a configured key, or one for all
    /// when no keys are configured): bounded.
    limiter: Mutex<RateLimiter>,
}

/// One of the routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Batch,
    Single,
    Spans,
    Settings,
}

impl Ledger {
    pub(crate) fn new(settings: Settings) -> Self {
        Ledger {
            rate: RateConfig::from_settings(&settings.rate_limits),
            settings: serde_json::to_vec(&settings).expect("settings serialize"),
            limiter: Mutex::new(RateLimiter::default()),
        }
    }

    /// Answers a request under `/api/v1/`.
    pub(crate) async fn handle(
        &self,
        state: &State,
        peer: SocketAddr,
        req: Request<Incoming>,
    ) -> Answer {
        let (route, method) = match req.uri().path() {
            "/api/v1/ingest/batch" => (Route::Batch, "POST"),
            "/api/v1/ingest/single" => (Route::Single, "POST"),
            "/api/v1/ingest/spans/batch" => (Route::Spans, "POST"),
            "/api/v1/settings" => (Route::Settings, "GET"),
            // FastAPI's own answers, word for word.
            _ => return respond::detail(StatusCode::NOT_FOUND, "Not Found"),
        };
        if req.method().as_str() != method {
            let r = respond::detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
            return respond::allow(r, method);
        }
        let client = match state.client(peer, req.headers()) {
            Ok(c) => c,
            Err(_) => {
                // The key itself is never echoed or logged.
                let r = respond::detail(StatusCode::UNAUTHORIZED, "Invalid or missing API key");
                return respond::challenge(r);
            }
        };
        if route == Route::Settings {
            return respond::json(StatusCode::OK, self.settings.clone());
        }
        let signal = if route == Route::Spans {
            Signal::Traces
        } else {
            Signal::Logs
        };
        if !state.accepts(signal) {
            return respond::detail(StatusCode::NOT_FOUND, &no_route(signal));
        }
        let key = client.subject.as_deref().unwrap_or("");
        let (verdict, limits) = self
            .limiter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .admit(key, Instant::now(), self.rate);
        let answer = match verdict {
            Ok(()) => self.ingest(state, route, signal, client, req).await,
            Err(which) => {
                let reason = self.rate.refusal(which);
                let r = respond::detail(StatusCode::TOO_MANY_REQUESTS, &reason);
                respond::retry_after_secs(r, self.rate.retry_after_secs(which))
            }
        };
        respond::rate_limit_headers(answer, &limits)
    }

    /// An ingest route whose request the limits admitted.
    async fn ingest(
        &self,
        state: &State,
        route: Route,
        signal: Signal,
        client: std::sync::Arc<weir_core::ClientInfo>,
        req: Request<Incoming>,
    ) -> Answer {
        let (parts, body) = req.into_parts();
        let (body, lease) = match state.body(&parts.headers, body, signal).await {
            Ok(b) => b,
            Err(BodyRefusal::MemoryLimit) => {
                let r = respond::detail(StatusCode::SERVICE_UNAVAILABLE, OVER_MEMORY);
                return respond::retry_after(r);
            }
            Err(BodyRefusal::TooLarge(m)) => {
                return respond::detail(StatusCode::PAYLOAD_TOO_LARGE, &m);
            }
            // Ledger answers bad gzip with 400.
            Err(BodyRefusal::Invalid(m)) => return respond::detail(StatusCode::BAD_REQUEST, &m),
            Err(BodyRefusal::Encoding(m)) => {
                return respond::detail(StatusCode::UNSUPPORTED_MEDIA_TYPE, &m);
            }
        };
        let meta = state.meta(client);
        let now = now_unix_nano();
        let (batch, answer) = match route {
            Route::Batch | Route::Single => {
                let parsed = if route == Route::Batch {
                    gateway::parse_batch(&body)
                } else {
                    gateway::parse_single(&body).map(|e| vec![e])
                };
                let entries = match parsed {
                    Ok(e) => e,
                    Err(refused) => {
                        state.count_invalid(signal, 1);
                        let status = StatusCode::from_u16(refused.status())
                            .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
                        return respond::json(status, refused.to_json());
                    }
                };
                let (records, response) = take_entries(entries, now, route == Route::Single);
                state.count_invalid(signal, response.rejected);
                let batch = (!records.is_empty()).then(|| Batch::logs(logs(records), meta));
                let body = serde_json::to_vec(&response).expect("response serializes");
                (batch, body)
            }
            Route::Spans => {
                let spans = match gateway::parse_spans(&body) {
                    Ok(s) => s,
                    Err(refused) => {
                        state.count_invalid(signal, 1);
                        let status = StatusCode::from_u16(refused.status())
                            .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
                        return respond::json(status, refused.to_json());
                    }
                };
                let (kept, response) = SpanIngestResponse::split(spans, now);
                state.count_invalid(signal, response.rejected);
                let batch = (!kept.is_empty())
                    .then(|| Batch::traces(weir_ledger::otlp::spans_to_otlp(kept), meta));
                let body = serde_json::to_vec(&response).expect("response serializes");
                (batch, body)
            }
            Route::Settings => unreachable!("answered above"),
        };
        if let Some(batch) = batch
            && let Err(refusal) = state.send(batch, lease).await
        {
            return match refusal {
                SendRefusal::Unavailable(m) => {
                    respond::retry_after(respond::detail(StatusCode::SERVICE_UNAVAILABLE, &m))
                }
                SendRefusal::NoRoute(s) => respond::detail(StatusCode::NOT_FOUND, &no_route(s)),
            };
        }
        respond::json(StatusCode::ACCEPTED, answer)
    }
}

/// Runs Ledger's per-log checks: the entries that pass become records, the
/// others are named in the answer.
fn take_entries(
    entries: Vec<weir_ledger::LogEntry>,
    now: u64,
    single: bool,
) -> (Vec<LogRecord>, IngestResponse) {
    let mut records = Vec::with_capacity(entries.len());
    let mut errors = Vec::new();
    for (idx, entry) in entries.into_iter().enumerate() {
        match ingest::check(&entry, now) {
            Ok(()) => records.push(weir_ledger::otlp::entry_to_record(entry, now)),
            Err(reason) => errors.push(format!("Log {idx}: {reason}")),
        }
    }
    let response = IngestResponse::from_outcomes(records.len() as u64, errors, single);
    (records, response)
}

fn logs(records: Vec<LogRecord>) -> Vec<ResourceLogs> {
    vec![ResourceLogs {
        scope_logs: vec![ScopeLogs {
            scope: Some(InstrumentationScope {
                name: SCOPE.into(),
                ..Default::default()
            }),
            log_records: records,
            ..Default::default()
        }],
        ..Default::default()
    }]
}
