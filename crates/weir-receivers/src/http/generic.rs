//! The generic JSON endpoint: `POST <path>` with one JSON object, an array
//! of objects, the wrapper `{"resource": {...}, "logs": [...]}`, or NDJSON.
//! Each object maps as a stdin line does (`weir_otlp::logline`, the same
//! code). A body with a bad record is refused whole with the record's index
//! or line, so a client's retry never duplicates the good ones.

use std::net::SocketAddr;

use http::header::{self, HeaderMap};
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use serde_json::json;
use weir_core::otlp::logs::v1::{ResourceLogs, ScopeLogs};
use weir_core::otlp::resource::v1::Resource;
use weir_core::{Batch, Signal};
use weir_otlp::logline::{self, BodyError, BodyRecords};

use super::respond::{self, Answer};
use super::state::{BodyRefusal, OVER_MEMORY, SendRefusal, State, no_route};
use weir_otlp::civil::now_unix_nano;

/// Bodies at least this large are parsed on the blocking pool, so one big
/// request does not stall the connections sharing its worker thread.
const OFFLOAD_BYTES: usize = 1 << 20;

/// How a body holds its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `application/json`: an object, an array or the wrapper.
    Json,
    /// `application/x-ndjson` (and its aliases): one object a line.
    Ndjson,
}

/// Answers one request on the generic path.
pub(crate) async fn handle(state: &State, peer: SocketAddr, req: Request<Incoming>) -> Answer {
    if req.method() != Method::POST {
        let msg = format!(
            "method {} not allowed: send records with POST",
            req.method()
        );
        return respond::allow(
            respond::error(StatusCode::METHOD_NOT_ALLOWED, &msg, None),
            "POST",
        );
    }
    let client = match state.client(peer, req.headers()) {
        Ok(c) => c,
        Err(e) => {
            let msg = format!(
                "{}; send a configured key as `Authorization: Bearer <key>` or `X-API-Key: <key>`",
                e.message()
            );
            return respond::challenge(respond::error(StatusCode::UNAUTHORIZED, &msg, None));
        }
    };
    if !state.accepts(Signal::Logs) {
        return respond::error(StatusCode::NOT_FOUND, &no_route(Signal::Logs), None);
    }
    let format = match format_of(req.headers()) {
        Ok(f) => f,
        Err(got) => {
            let msg = format!(
                "unsupported content type `{got}`: use application/json or application/x-ndjson"
            );
            return respond::error(StatusCode::UNSUPPORTED_MEDIA_TYPE, &msg, None);
        }
    };
    let (parts, body) = req.into_parts();
    let (body, lease) = match state.body(&parts.headers, body, Signal::Logs).await {
        Ok(b) => b,
        Err(BodyRefusal::MemoryLimit) => {
            return respond::retry_after(respond::error(
                StatusCode::SERVICE_UNAVAILABLE,
                OVER_MEMORY,
                None,
            ));
        }
        Err(BodyRefusal::TooLarge(m)) => {
            return respond::error(StatusCode::PAYLOAD_TOO_LARGE, &m, None);
        }
        Err(BodyRefusal::Invalid(m)) => return respond::error(StatusCode::BAD_REQUEST, &m, None),
        Err(BodyRefusal::Encoding(m)) => {
            return respond::error(StatusCode::UNSUPPORTED_MEDIA_TYPE, &m, None);
        }
    };
    let observed = now_unix_nano();
    let parsed = if body.len() < OFFLOAD_BYTES {
        parse(format, &body, observed)
    } else {
        tokio::task::spawn_blocking(move || parse(format, &body, observed))
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    };
    let BodyRecords { resource, records } = match parsed {
        Ok(r) => r,
        Err(e) => {
            state.count_invalid(Signal::Logs, 1);
            let at = match &e {
                BodyError::Record { index, .. } => Some(("index", *index)),
                BodyError::Line { line, .. } => Some(("line", *line)),
                BodyError::Body(_) => None,
            };
            return respond::error(StatusCode::BAD_REQUEST, &e.to_string(), at);
        }
    };
    let accepted = records.len();
    if accepted > 0 {
        let logs = vec![ResourceLogs {
            resource: (!resource.is_empty()).then(|| Resource {
                attributes: resource,
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }];
        if let Err(refusal) = state
            .send(Batch::logs(logs, state.meta(client)), lease)
            .await
        {
            return refused(refusal);
        }
    }
    let body = json!({ "accepted": accepted }).to_string().into_bytes();
    respond::json(StatusCode::OK, body)
}

fn parse(format: Format, body: &[u8], observed: u64) -> Result<BodyRecords, BodyError> {
    match format {
        Format::Json => logline::records_from_json_body(body, observed),
        Format::Ndjson => {
            let mut records = Vec::new();
            logline::records_from_ndjson(body, observed, &mut records)?;
            Ok(BodyRecords {
                resource: Vec::new(),
                records,
            })
        }
    }
}

pub(crate) fn refused(refusal: SendRefusal) -> Answer {
    match refusal {
        SendRefusal::Unavailable(m) => {
            respond::retry_after(respond::error(StatusCode::SERVICE_UNAVAILABLE, &m, None))
        }
        SendRefusal::NoRoute(s) => respond::error(StatusCode::NOT_FOUND, &no_route(s), None),
    }
}

/// The body format from `Content-Type` (parameters such as `charset`
/// ignored); what was sent when it is not one weir takes.
fn format_of(headers: &HeaderMap) -> Result<Format, String> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err("none".into());
    };
    let text = value.to_str().map_err(|_| "(not ASCII)".to_string())?;
    let essence = text.split(';').next().unwrap_or_default().trim();
    let is = |t: &str| essence.eq_ignore_ascii_case(t);
    if is("application/json") {
        Ok(Format::Json)
    } else if is("application/x-ndjson")
        || is("application/ndjson")
        || is("application/jsonl")
        || is("application/x-jsonlines")
    {
        Ok(Format::Ndjson)
    } else {
        Err(text.to_string())
    }
}
