//! The three ingest routes once the request is authenticated and admitted:
//! body (gzip), the gateway's schema (422), the ingestion service's per-item
//! rules (rejections inside the 202), the quota (402), and the record.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http::header::CONTENT_ENCODING;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde::Serialize;
use serde_json::json;
use tokio::time::Instant;
use weir_ledger::gateway::{self, Unprocessable};
use weir_ledger::ingest::{self, IngestResponse, SpanIngestResponse};
use weir_ledger::{LogEntry, SpanIn};
use weir_otlp::compression::{self, DecompressError, Encoding};

use crate::records::{Received, ReceivedSpan};
use crate::respond::{self, Answer};
use crate::state::{Shared, lock};

/// Which ingest route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Batch,
    Single,
    Spans,
}

/// A request body as it arrived, decoded.
pub(crate) struct Body {
    pub(crate) bytes: Bytes,
    pub(crate) gzip: bool,
}

/// Reads the body whole, never holding more than `limit` bytes, and
/// gunzips it when `Content-Encoding: gzip` says so. Other codings are not
/// Ledger's business: the body is then read as it is (and fails as JSON).
pub(crate) async fn read_body(
    shared: &Shared,
    headers: &HeaderMap,
    mut body: Incoming,
) -> Result<Body, Answer> {
    let limit = shared.max_body_bytes;
    let too_large = || respond::detail(413, "Request body too large");
    let mut raw = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| respond::detail(400, "Could not read the request body"))?;
        if let Ok(data) = frame.into_data() {
            if raw.len() + data.len() > limit {
                return Err(too_large());
            }
            raw.extend_from_slice(&data);
        }
    }
    let gzip = headers
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let v = v.trim();
            v.eq_ignore_ascii_case("gzip") || v.eq_ignore_ascii_case("x-gzip")
        });
    let wire = raw.len();
    let bytes = if gzip {
        // Multi-member gzip too, as Python's gzip.decompress reads it; the
        // limit holds while inflating.
        match compression::decompress(Encoding::Gzip, &raw, limit) {
            Ok(b) => b,
            Err(DecompressError::TooLarge { .. }) => {
                count_body(shared, wire, 0, true);
                return Err(too_large());
            }
            Err(DecompressError::Invalid { .. }) => {
                count_body(shared, wire, 0, true);
                return Err(respond::detail(400, "Invalid gzip-compressed request body"));
            }
        }
    } else {
        raw.freeze()
    };
    count_body(shared, wire, bytes.len(), gzip);
    Ok(Body { bytes, gzip })
}

fn count_body(shared: &Shared, wire: usize, decoded: usize, gzip: bool) {
    let mut r = lock(&shared.records);
    r.stats.bytes_received += wire as u64;
    r.stats.bytes_decoded += decoded as u64;
    r.stats.gzip_requests += u64::from(gzip);
}

/// The 422 of a refused request, as the gateway words it.
fn refused(r: &Unprocessable) -> Answer {
    respond::json(r.status(), r.to_json())
}

/// pydantic's `too_long` for a list over `max_batch_size` when the settings
/// bound it below the gateway's own 1000 (same shape as the gateway's).
fn too_long(field: &'static str, max: usize, actual: usize) -> Answer {
    #[derive(Serialize)]
    struct TooLong {
        #[serde(rename = "type")]
        kind: &'static str,
        loc: [&'static str; 2],
        msg: String,
        ctx: serde_json::Value,
    }
    let e = TooLong {
        kind: "too_long",
        loc: ["body", field],
        msg: format!("List should have at most {max} items after validation, not {actual}"),
        ctx: json!({"field_type": "List", "max_length": max, "actual_length": actual}),
    };
    let body = serde_json::to_vec(&json!({ "detail": [e] })).expect("serializes");
    respond::json(422, body)
}

/// Who sent the request, for the record.
pub(crate) struct Sender {
    pub(crate) request: u64,
    pub(crate) key: Arc<str>,
}

/// Answers an admitted ingest request whose body was read.
pub(crate) fn answer(
    shared: &Shared,
    kind: Kind,
    max_batch: usize,
    body: Body,
    sender: Sender,
) -> Answer {
    match kind {
        Kind::Batch | Kind::Single => {
            let parsed = if kind == Kind::Batch {
                gateway::parse_batch(&body.bytes)
            } else {
                gateway::parse_single(&body.bytes).map(|e| vec![e])
            };
            match parsed {
                Err(r) => refused(&r),
                Ok(e) if kind == Kind::Batch && e.len() > max_batch => {
                    too_long("logs", max_batch, e.len())
                }
                Ok(entries) => logs(shared, entries, kind == Kind::Single, body.gzip, sender),
            }
        }
        Kind::Spans => match gateway::parse_spans(&body.bytes) {
            Err(r) => refused(&r),
            Ok(s) if s.len() > max_batch => too_long("spans", max_batch, s.len()),
            Ok(s) => spans(shared, s, body.gzip, sender),
        },
    }
}

/// Per-log rules, then the quota on the logs that passed them, then the record.
///
/// The quota refuses the whole request (402) when its accepted logs would
/// take usage past the quota: nothing of it is kept, so a client that keeps
/// the batch loses nothing.
fn logs(
    shared: &Shared,
    entries: Vec<LogEntry>,
    single: bool,
    gzip: bool,
    sender: Sender,
) -> Answer {
    let now = weir_otlp::civil::now_unix_nano();
    let mut kept = Vec::with_capacity(entries.len());
    let mut errors = Vec::new();
    for (idx, entry) in entries.into_iter().enumerate() {
        match ingest::check(&entry, now) {
            Ok(()) => kept.push(entry),
            Err(reason) => errors.push(format!("Log {idx}: {reason}")),
        }
    }
    let accepted = kept.len() as u64;
    if let Err((usage, quota)) = lock(&shared.quota).take(accepted, Instant::now()) {
        return respond::detail(402, &format!("Daily quota exceeded: {usage}/{quota}"));
    }
    let response = IngestResponse::from_outcomes(accepted, errors, single);
    {
        let mut r = lock(&shared.records);
        r.stats.accepted_logs += accepted;
        r.stats.rejected_logs += response.rejected;
        if shared.record_entries {
            r.entries.extend(kept.into_iter().map(|entry| Received {
                entry,
                request: sender.request,
                key: sender.key.clone(),
                gzip,
            }));
        }
    }
    if accepted > 0 {
        shared.arrived.notify_waiters();
    }
    respond::json(
        202,
        serde_json::to_vec(&response).expect("response serializes"),
    )
}

/// Per-span rules, then the record (spans do not count against the log quota).
fn spans(shared: &Shared, spans: Vec<SpanIn>, gzip: bool, sender: Sender) -> Answer {
    let now = weir_otlp::civil::now_unix_nano();
    let (kept, response) = SpanIngestResponse::split(spans, now);
    {
        let mut r = lock(&shared.records);
        r.stats.accepted_spans += response.accepted;
        r.stats.rejected_spans += response.rejected;
        if shared.record_entries {
            r.spans.extend(kept.into_iter().map(|span| ReceivedSpan {
                span,
                request: sender.request,
                key: sender.key.clone(),
                gzip,
            }));
        }
    }
    if response.accepted > 0 {
        shared.arrived.notify_waiters();
    }
    respond::json(
        202,
        serde_json::to_vec(&response).expect("response serializes"),
    )
}
