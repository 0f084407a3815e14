//! Building answers the way Ledger (FastAPI) words them.

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::Full;
use serde_json::json;

use weir_ledger::ratelimit::RateHeaders;

/// The answer type of every route.
pub(crate) type Answer = Response<Full<Bytes>>;

/// `status` with a JSON body.
pub(crate) fn json(status: u16, body: Vec<u8>) -> Answer {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// FastAPI's `HTTPException` answer: `{"detail": reason}`.
pub(crate) fn detail(status: u16, reason: &str) -> Answer {
    json(status, json!({ "detail": reason }).to_string().into_bytes())
}

/// Adds `Retry-After: secs`.
pub(crate) fn retry_after(mut r: Answer, secs: u64) -> Answer {
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    r
}

/// A 401 with `WWW-Authenticate: Bearer`.
pub(crate) fn unauthorized(reason: &str) -> Answer {
    let mut r = detail(401, reason);
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

/// Adds `Allow` (405 answers).
pub(crate) fn allow(mut r: Answer, method: &'static str) -> Answer {
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(method));
    r
}

/// Adds the four `X-RateLimit-*` headers every ingest answer carries.
pub(crate) fn rate_headers(mut r: Answer, h: &RateHeaders) -> Answer {
    for (name, value) in h.pairs() {
        r.headers_mut()
            .insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
    r
}

/// The wording of an injected failure's body, by status.
pub(crate) fn fault_reason(status: u16) -> &'static str {
    match status {
        503 => "Service temporarily unavailable: ingestion queue is full",
        500 => "Internal server error",
        502 => "Bad gateway",
        504 => "Gateway timeout",
        401 => "Invalid API key",
        429 => "Rate limit exceeded",
        _ => "Injected failure",
    }
}
