//! JSON answers. The generic endpoint says `{"error": reason, ...}`; the
//! Ledger routes answer like Ledger (FastAPI): `{"detail": ...}`.

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::Full;
use serde_json::json;

/// How long a client refused for a full pipeline is asked to wait. Short:
/// the request already waited `backpressure_timeout`; clients back off more.
pub(crate) const RETRY_AFTER_SECS: u64 = 1;

/// The answer type of every route.
pub(crate) type Answer = Response<Full<Bytes>>;

/// `status` with `body` as JSON.
pub(crate) fn json(status: StatusCode, body: Vec<u8>) -> Answer {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// The generic endpoint's error: `{"error": reason}` plus `extra` fields.
pub(crate) fn error(status: StatusCode, reason: &str, extra: Option<(&str, usize)>) -> Answer {
    let mut body = json!({ "error": reason });
    if let Some((k, v)) = extra {
        body[k] = json!(v);
    }
    json(status, body.to_string().into_bytes())
}

/// A Ledger-style error: `{"detail": reason}`.
pub(crate) fn detail(status: StatusCode, reason: &str) -> Answer {
    json(status, json!({ "detail": reason }).to_string().into_bytes())
}

/// Adds `WWW-Authenticate: Bearer` (401 answers).
pub(crate) fn challenge(mut r: Answer) -> Answer {
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

/// Adds `Retry-After: 1` (503 answers).
pub(crate) fn retry_after(r: Answer) -> Answer {
    retry_after_secs(r, RETRY_AFTER_SECS)
}

/// Adds `Retry-After: secs`.
pub(crate) fn retry_after_secs(mut r: Answer, secs: u64) -> Answer {
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    r
}

/// Adds the `X-RateLimit-*` headers of the Ledger routes.
pub(crate) fn rate_limit_headers(mut r: Answer, h: &weir_ledger::ratelimit::RateHeaders) -> Answer {
    for (name, value) in h.pairs() {
        r.headers_mut().insert(
            header::HeaderName::from_static(name),
            HeaderValue::from(value),
        );
    }
    r
}

/// Adds `Allow` (405 answers).
pub(crate) fn allow(mut r: Answer, methods: &'static str) -> Answer {
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(methods));
    r
}
