//! The protocol-independent data path: request bytes in, a [`Batch`] into the
//! pipeline out, or a [`Refusal`] saying why not.
//!
//! Protobuf bodies are validated and counted by the wire walk and forwarded as
//! they came (DESIGN.md §3: no decode, no re-encode, no per-record allocation);
//! only OTLP/JSON is decoded into structs.
//!
//! Items that are well-formed but invalid (ids of impossible lengths, see
//! `weir_otlp::validate`; in JSON also items whose fields do not decode) are
//! refused one by one: the rest of the request goes on, the client gets
//! `partial_success` with the refused count, and they are counted on
//! `weir_receiver_refused_items_total{reason="invalid"}`. The walk counts them
//! without decoding, so only a protobuf request that has some is decoded.
//!
//! With `acknowledgements: true`, each request's batch carries an
//! acknowledgement token ([`weir_core::ack`]) and the client is answered
//! when it settles: success once the data is delivered, a retryable refusal
//! when an exporter gave it up or `acknowledgement_timeout` passed (counted
//! as refused for `not_delivered` or `ack_timeout`; its items were counted
//! as accepted when they entered the pipeline).
//!
//! Under `service.memory_limit`, a request that arrives while the process is
//! over its budget is refused before its body is read (`memory_limit`), and
//! the bodies being handled are leased from the budget until their batch is
//! in the pipeline.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use weir_core::ack::AckWaiter;
use weir_core::telemetry::{ComponentTelemetry, Counter, reasons};
use weir_core::{
    Batch, BatchMeta, ClientInfo, ContentEncoding, Output, SendError, Signal, SignalData,
};
use weir_otlp::compression::{self, DecompressError, Encoding};
use weir_otlp::response::PartialSuccess;
use weir_otlp::validate::{self, Rejections};
use weir_otlp::{json, wire};

use crate::net::admission::{Admission, Unacknowledged};
use crate::net::auth::{Auth, AuthError};

/// How long a refused client is asked to wait (HTTP `Retry-After`, gRPC
/// RetryInfo). Short, because the request already waited `backpressure_timeout`
/// for room; the client's own backoff grows from here.
pub(crate) const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Bodies at least this large are decompressed, walked or decoded on the
/// blocking pool, so one big request does not stall every connection served by
/// the same worker thread. Smaller ones are cheaper to handle in place than to
/// hand over (a 1000-record request walks in ~0.3 ms).
const OFFLOAD_BYTES: usize = 1 << 20;

/// How a request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `application/x-protobuf` (and gRPC).
    Protobuf,
    /// `application/json` (OTLP/JSON).
    Json,
}

/// Why a request was not taken. Each maps to one HTTP status and one gRPC code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The body is not a valid request: 400 / INVALID_ARGUMENT.
    Invalid(String),
    /// Over `max_request_bytes`: 413 / RESOURCE_EXHAUSTED.
    TooLarge(String),
    /// No pipeline takes the signal: 404 / UNIMPLEMENTED.
    NoRoute(Signal),
    /// The pipeline stayed full: 503 / UNAVAILABLE, retryable.
    Full,
    /// The pipeline is shutting down: 503 / UNAVAILABLE, retryable.
    Closed,
    /// Taken, but an exporter gave the data up (the reason): 503 /
    /// UNAVAILABLE, retryable.
    NotDelivered(&'static str),
    /// Taken, but not delivered within `acknowledgement_timeout`: 503 /
    /// UNAVAILABLE, retryable.
    AckTimeout(Duration),
    /// The process is over `service.memory_limit`: 503 / RESOURCE_EXHAUSTED
    /// with RetryInfo, retryable.
    MemoryLimit,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Invalid(m) | Refusal::TooLarge(m) => f.write_str(m),
            Refusal::NoRoute(s) => write!(f, "no pipeline takes {s} from this receiver"),
            Refusal::Full => f.write_str("pipeline full, retry later"),
            Refusal::Closed => f.write_str("shutting down, retry later"),
            Refusal::NotDelivered(reason) => {
                write!(f, "data not delivered ({reason}), retry later")
            }
            Refusal::AckTimeout(t) => {
                write!(f, "delivery not confirmed within {t:?}, retry later")
            }
            Refusal::MemoryLimit => f.write_str("over the memory limit, retry later"),
        }
    }
}

/// A request ready to send: bytes as received, or decoded data (OTLP/JSON, or
/// protobuf with invalid items taken out) with the items refused.
enum Prepared {
    /// `compressed`: the body as it came, when it came compressed, so that an
    /// exporter of the same encoding sends it without compressing again.
    Encoded {
        bytes: Bytes,
        items: usize,
        compressed: Option<(ContentEncoding, Bytes)>,
    },
    Data(SignalData, Rejections),
}

/// What both protocol servers share.
pub(crate) struct Ingest {
    id: Arc<str>,
    output: Output,
    backpressure_timeout: Duration,
    max_request_bytes: usize,
    auth: Option<Auth>,
    /// By signal index. Items of an invalid request are unknown (garbage cannot
    /// be counted), so each refused-as-invalid request adds 1: the series then
    /// counts bad requests, still a non-zero signal that something is refused.
    invalid: [Counter; 3],
    admission: Admission,
}

impl Ingest {
    pub(crate) fn new(
        id: Arc<str>,
        output: Output,
        telemetry: &ComponentTelemetry,
        backpressure_timeout: Duration,
        max_request_bytes: usize,
        auth: Option<Auth>,
    ) -> Self {
        Ingest {
            id,
            output,
            backpressure_timeout,
            max_request_bytes,
            auth,
            invalid: Signal::ALL.map(|s| telemetry.refused_items(s, reasons::INVALID)),
            admission: Admission::new(),
        }
    }

    /// Takes requests under `admission`: the memory budget and, with
    /// `acknowledgements: true`, the wait for delivery.
    pub(crate) fn with_admission(mut self, admission: Admission) -> Self {
        self.admission = admission;
        self
    }

    /// How long an in-flight request may take at most before it is answered:
    /// the wait for room, plus the wait for its acknowledgement.
    pub(crate) fn longest_wait(&self) -> Duration {
        self.backpressure_timeout + self.admission.ack_timeout()
    }

    /// `Err(MemoryLimit)` (counted) when the process is over its memory
    /// budget: checked before a body is read. One atomic load or two.
    pub(crate) fn check_memory(&self, signal: Signal) -> Result<(), Refusal> {
        if self.admission.over_memory(signal) {
            return Err(Refusal::MemoryLimit);
        }
        Ok(())
    }

    /// The decompressed size limit in bytes.
    pub(crate) fn max_request_bytes(&self) -> usize {
        self.max_request_bytes
    }

    /// Whether some pipeline takes `signal`.
    pub(crate) fn accepts(&self, signal: Signal) -> bool {
        self.output.accepts(signal)
    }

    /// Authenticates a request (when auth is on) and says who sent it: one
    /// small allocation per request, shared by the batch it becomes.
    pub(crate) fn client(
        &self,
        peer: SocketAddr,
        headers: &HeaderMap,
    ) -> Result<Arc<ClientInfo>, AuthError> {
        crate::net::auth::client_info(self.auth.as_ref(), peer, headers)
    }

    /// Decompresses, validates and sends one request body. `Ok(Some(_))` when
    /// some items were refused as invalid and the rest sent: the client gets
    /// a success with `partial_success`.
    pub(crate) async fn export(
        &self,
        signal: Signal,
        format: Format,
        encoding: Encoding,
        body: Bytes,
        client: Arc<ClientInfo>,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        let limit = self.max_request_bytes;
        // Counted against the memory budget until the batch is in the pipeline.
        let mut lease = self.admission.lease(body.len());
        let compressed = encoding != Encoding::Identity;
        let prepared = if body.len() < OFFLOAD_BYTES {
            prepare(signal, format, encoding, body, limit)
        } else {
            tokio::task::spawn_blocking(move || prepare(signal, format, encoding, body, limit))
                .await
                .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
        };
        let prepared = prepared.inspect_err(|r| {
            if matches!(r, Refusal::Invalid(_) | Refusal::TooLarge(_)) {
                self.invalid[signal.index()].inc();
            }
        })?;
        if compressed && let Prepared::Encoded { bytes, .. } = &prepared {
            lease.grow(bytes.len());
        }
        let mut meta = BatchMeta::from_receiver(self.id.clone()).with_client(client);
        let mut waiter = None;
        if let Some((token, w)) = self.admission.ack_pair() {
            meta = meta.with_ack(token);
            waiter = Some(w);
        }
        let (batch, rejected) = match prepared {
            // An empty request is a valid export: answer success, send nothing.
            Prepared::Encoded { items: 0, .. } => return Ok(None),
            Prepared::Encoded {
                bytes,
                items,
                compressed,
            } => {
                let mut batch = Batch::from_encoded(signal, bytes, items, meta);
                if let Some((encoding, body)) = compressed {
                    batch = batch.with_compressed(encoding, body);
                }
                (Some(batch), Rejections::default())
            }
            Prepared::Data(data, rejected) if data.is_empty() => (None, rejected),
            Prepared::Data(data, rejected) => (Some(Batch::from_data(data, meta)), rejected),
        };
        if let Some(batch) = batch {
            let items = batch.items() as u64;
            match self
                .output
                .send_timeout(batch, self.backpressure_timeout)
                .await
            {
                Ok(()) => {}
                // The client resends the whole request, so its invalid items are
                // counted when it is taken, not now.
                Err(SendError::Full(_)) => return Err(Refusal::Full),
                Err(SendError::Closed(_)) => return Err(Refusal::Closed),
                Err(SendError::NoRoute(_)) => return Err(Refusal::NoRoute(signal)),
            }
            // The pipeline's byte budgets hold the data now.
            drop(lease);
            if let Some(w) = waiter {
                self.acknowledged(signal, items, w).await?;
            }
        }
        Ok(self.partial(signal, &rejected))
    }

    /// Waits for the data of a request to be delivered.
    async fn acknowledged(&self, signal: Signal, items: u64, w: AckWaiter) -> Result<(), Refusal> {
        let refusal = match self.admission.acknowledged(signal, items, w).await {
            Ok(()) => return Ok(()),
            Err(Unacknowledged::NotDelivered(reason)) => Refusal::NotDelivered(reason),
            Err(Unacknowledged::TimedOut(timeout)) => Refusal::AckTimeout(timeout),
        };
        tracing::debug!(receiver = %self.id, %signal, items, %refusal, "OTLP request not acknowledged");
        Err(refusal)
    }

    /// Counts refused items and says so for the answer.
    fn partial(&self, signal: Signal, rejected: &Rejections) -> Option<PartialSuccess> {
        if rejected.is_empty() {
            return None;
        }
        self.invalid[signal.index()].add(rejected.items as u64);
        let message = rejected.message();
        tracing::debug!(receiver = %self.id, %signal, rejected = rejected.items, %message,
            "OTLP request taken in part");
        Some(PartialSuccess {
            rejected: i64::try_from(rejected.items).unwrap_or(i64::MAX),
            message,
        })
    }

    /// Counts a request refused as invalid before [`Ingest::export`] saw it
    /// (e.g. a body over the limit while it was being read).
    pub(crate) fn count_invalid(&self, signal: Signal) {
        self.invalid[signal.index()].inc();
    }
}

/// The CPU part of a request: decompress under the limit, then walk (protobuf)
/// or decode (JSON).
fn prepare(
    signal: Signal,
    format: Format,
    encoding: Encoding,
    body: Bytes,
    limit: usize,
) -> Result<Prepared, Refusal> {
    let compressed = encoding.content_encoding().map(|e| (e, body.clone()));
    let bytes = match encoding {
        Encoding::Identity => body,
        enc => compression::decompress(enc, &body, limit).map_err(|e| match e {
            DecompressError::TooLarge { .. } => Refusal::TooLarge(format!(
                "request body exceeds {limit} bytes once decompressed"
            )),
            DecompressError::Invalid { .. } => Refusal::Invalid(e.to_string()),
        })?,
    };
    match format {
        Format::Protobuf => {
            let summary = wire::inspect(signal, &bytes)
                .map_err(|e| Refusal::Invalid(format!("invalid OTLP {signal} protobuf: {e}")))?;
            if summary.invalid_items == 0 {
                return Ok(Prepared::Encoded {
                    bytes,
                    items: summary.items,
                    compressed,
                });
            }
            // The rare case: decode, take the invalid items out, send the rest.
            // The walk accepted the bytes, and prost accepts what it accepts.
            let mut data = SignalData::decode(signal, &bytes)
                .map_err(|e| Refusal::Invalid(format!("invalid OTLP {signal} protobuf: {e}")))?;
            let rejected = validate::remove_invalid(&mut data);
            debug_assert_eq!(rejected.items, summary.invalid_items);
            Ok(Prepared::Data(data, rejected))
        }
        Format::Json => json::decode_partial(signal, &bytes)
            .map(|p| Prepared::Data(p.data, p.rejected))
            .map_err(|e| Refusal::Invalid(format!("invalid OTLP/JSON {signal} request: {e}"))),
    }
}
