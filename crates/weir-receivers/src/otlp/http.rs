//! OTLP/HTTP: `POST /v1/logs`, `/v1/traces`, `/v1/metrics` with protobuf or
//! OTLP/JSON bodies, answered per the OTLP/HTTP specification (errors carry a
//! `google.rpc.Status` in the request's encoding).

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use weir_core::Signal;
use weir_otlp::response::{self, PartialSuccess};

use super::config::CorsConfig;
use super::ingest::{Format, Ingest, RETRY_AFTER, Refusal};
use crate::net::body::{ReadError, content_encoding, content_length, read_body};

/// What the HTTP listener shares across connections.
pub(crate) struct HttpState {
    pub(crate) ingest: Arc<Ingest>,
    pub(crate) cors: Option<Cors>,
}

/// Answers one HTTP request.
pub(crate) async fn handle(
    state: Arc<HttpState>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let mut response = route(&state, peer, req).await;
    if let (Some(cors), Some(origin)) = (&state.cors, origin) {
        cors.allow(&origin, response.headers_mut());
    }
    response
}

async fn route(
    state: &HttpState,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let format = content_format(req.headers());
    // Errors found before the body's format is known are answered in JSON:
    // readable by a person with curl, and by any client.
    let answer_in = format.unwrap_or(Format::Json);
    let signal = match req.uri().path() {
        "/v1/logs" => Signal::Logs,
        "/v1/traces" => Signal::Traces,
        "/v1/metrics" => Signal::Metrics,
        other => {
            let msg = format!("unknown path {other}: use /v1/logs, /v1/traces or /v1/metrics");
            return error(StatusCode::NOT_FOUND, answer_in, &msg);
        }
    };
    if req.method() == Method::OPTIONS && state.cors.is_some() {
        return preflight(req.headers());
    }
    if req.method() != Method::POST {
        let msg = format!("method {} not allowed: OTLP/HTTP takes POST", req.method());
        let mut r = error(StatusCode::METHOD_NOT_ALLOWED, answer_in, &msg);
        let allow = if state.cors.is_some() {
            "POST, OPTIONS"
        } else {
            "POST"
        };
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(allow));
        return r;
    }
    let ingest = &state.ingest;
    if !ingest.accepts(signal) {
        let msg = Refusal::NoRoute(signal).to_string();
        return error(StatusCode::NOT_FOUND, answer_in, &msg);
    }
    let client = match ingest.client(peer, req.headers()) {
        Ok(c) => c,
        Err(e) => {
            let mut r = error(StatusCode::UNAUTHORIZED, answer_in, e.message());
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return r;
        }
    };
    let Some(format) = format else {
        let got = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_else(|| "none".into());
        let msg = format!(
            "unsupported content type `{got}`: use application/x-protobuf or application/json"
        );
        return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, answer_in, &msg);
    };
    let encoding = match content_encoding(req.headers()) {
        Ok(e) => e,
        Err(got) => {
            let msg = format!("unsupported content encoding `{got}`: use gzip, zstd or identity");
            return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, format, &msg);
        }
    };
    let limit = ingest.max_request_bytes();
    let too_large = || {
        // Counted like an invalid request: its items are unknown (see Ingest).
        ingest.count_invalid(signal);
        let msg = format!("request body exceeds {limit} bytes");
        error(StatusCode::PAYLOAD_TOO_LARGE, format, &msg)
    };
    let declared = content_length(req.headers());
    if declared.is_some_and(|n| n > limit as u64) {
        // Refused before reading: hyper closes the connection rather than drain.
        return too_large();
    }
    if let Err(refusal) = ingest.check_memory(signal) {
        return refused(&refusal, format);
    }
    let body = match read_body(req.into_body(), declared.unwrap_or(0), limit).await {
        Ok(b) => b,
        Err(ReadError::TooLarge) => return too_large(),
        Err(ReadError::Body(e)) => {
            let msg = format!("cannot read the request body: {e}");
            return error(StatusCode::BAD_REQUEST, format, &msg);
        }
    };
    match ingest.export(signal, format, encoding, body, client).await {
        Ok(partial) => success(signal, format, partial.as_ref()),
        Err(refusal) => refused(&refusal, format),
    }
}

/// The body format named by `Content-Type` (parameters such as `charset` ignored).
fn content_format(headers: &HeaderMap) -> Option<Format> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/x-protobuf") {
        Some(Format::Protobuf)
    } else if essence.eq_ignore_ascii_case("application/json") {
        Some(Format::Json)
    } else {
        None
    }
}

fn content_type(format: Format) -> HeaderValue {
    HeaderValue::from_static(match format {
        Format::Protobuf => "application/x-protobuf",
        Format::Json => "application/json",
    })
}

fn reply(status: StatusCode, format: Format, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, content_type(format));
    r
}

/// 200 with an export response: full success, or `partial_success` with the
/// items refused as invalid.
fn success(
    signal: Signal,
    format: Format,
    partial: Option<&PartialSuccess>,
) -> Response<Full<Bytes>> {
    let body = match format {
        Format::Protobuf => response::encode_protobuf(signal, partial),
        Format::Json => response::encode_json(signal, partial),
    };
    reply(StatusCode::OK, format, body)
}

fn refused(refusal: &Refusal, format: Format) -> Response<Full<Bytes>> {
    let msg = refusal.to_string();
    match refusal {
        Refusal::Invalid(_) => error(StatusCode::BAD_REQUEST, format, &msg),
        Refusal::TooLarge(_) => error(StatusCode::PAYLOAD_TOO_LARGE, format, &msg),
        Refusal::NoRoute(_) => error(StatusCode::NOT_FOUND, format, &msg),
        Refusal::Full
        | Refusal::Closed
        | Refusal::NotDelivered(_)
        | Refusal::AckTimeout(_)
        | Refusal::MemoryLimit => {
            let mut r = error(StatusCode::SERVICE_UNAVAILABLE, format, &msg);
            r.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(RETRY_AFTER.as_secs()),
            );
            r
        }
    }
}

/// An error answer whose body is a `google.rpc.Status` with a readable message.
pub(crate) fn error(status: StatusCode, format: Format, message: &str) -> Response<Full<Bytes>> {
    let code = grpc_code(status);
    let body = match format {
        Format::Protobuf => {
            let mut buf = Vec::with_capacity(message.len() + 8);
            prost::encoding::int32::encode(1, &code, &mut buf);
            prost::encoding::string::encode(2, &message.to_string(), &mut buf);
            buf
        }
        Format::Json => serde_json::json!({ "code": code, "message": message })
            .to_string()
            .into_bytes(),
    };
    reply(status, format, body)
}

/// The gRPC code that best names an HTTP error, for the Status body.
fn grpc_code(status: StatusCode) -> i32 {
    let code = match status {
        StatusCode::BAD_REQUEST | StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            tonic::Code::InvalidArgument
        }
        StatusCode::UNAUTHORIZED => tonic::Code::Unauthenticated,
        StatusCode::NOT_FOUND => tonic::Code::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => tonic::Code::Unimplemented,
        StatusCode::PAYLOAD_TOO_LARGE => tonic::Code::ResourceExhausted,
        StatusCode::SERVICE_UNAVAILABLE => tonic::Code::Unavailable,
        _ => tonic::Code::Unknown,
    };
    code as i32
}

/// CORS for browsers: which origins may post.
pub(crate) struct Cors {
    any: bool,
    origins: Vec<HeaderValue>,
}

impl Cors {
    pub(crate) fn new(config: &CorsConfig) -> Self {
        Cors {
            any: config.allowed_origins.iter().any(|o| o == "*"),
            origins: config
                .allowed_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
                .collect(),
        }
    }

    /// Adds `Access-Control-Allow-Origin` when `origin` may read the answer.
    fn allow(&self, origin: &HeaderValue, headers: &mut HeaderMap) {
        if self.any {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        } else if self.origins.iter().any(|o| o == origin) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            // The answer depends on the origin: caches must keep them apart.
            headers.append(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
}

/// Answers a CORS preflight; [`handle`] adds the origin header if it is allowed.
fn preflight(request: &HeaderMap) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::NO_CONTENT;
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST"),
    );
    // Any request header may come along (content-type, content-encoding,
    // authorization, ...): echo what the browser asks for.
    if let Some(asked) = request.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("7200"),
    );
    r
}
