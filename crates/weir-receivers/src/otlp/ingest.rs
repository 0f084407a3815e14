//! The protocol-independent data path: request bytes in, a [`Batch`] into the
//! pipeline out, or a [`Refusal`] saying why not.
//!
//! Protobuf bodies are validated and counted by the wire walk and forwarded as
//! they came (DESIGN.md §3: no decode, no re-encode, no per-record allocation);
//! only OTLP/JSON is decoded into structs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use weir_core::telemetry::{ComponentTelemetry, Counter, reasons};
use weir_core::{Batch, BatchMeta, ClientInfo, Output, SendError, Signal, SignalData};
use weir_otlp::compression::{self, DecompressError, Encoding};
use weir_otlp::{json, wire};

use super::auth::{Auth, AuthError};

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
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Invalid(m) | Refusal::TooLarge(m) => f.write_str(m),
            Refusal::NoRoute(s) => write!(f, "no pipeline takes {s} from this receiver"),
            Refusal::Full => f.write_str("pipeline full, retry later"),
            Refusal::Closed => f.write_str("shutting down, retry later"),
        }
    }
}

/// A request ready to send: bytes as received, or decoded OTLP/JSON.
enum Prepared {
    Encoded { bytes: Bytes, items: usize },
    Data(SignalData),
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
        }
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
        let mut client = ClientInfo::from_addr(peer);
        if let Some(auth) = &self.auth {
            client.subject = Some(auth.check(headers)?);
        }
        Ok(Arc::new(client))
    }

    /// Decompresses, validates and sends one request body.
    pub(crate) async fn export(
        &self,
        signal: Signal,
        format: Format,
        encoding: Encoding,
        body: Bytes,
        client: Arc<ClientInfo>,
    ) -> Result<(), Refusal> {
        let limit = self.max_request_bytes;
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
        let meta = BatchMeta::from_receiver(self.id.clone()).with_client(client);
        let batch = match prepared {
            // An empty request is a valid export: answer success, send nothing.
            Prepared::Encoded { items: 0, .. } => return Ok(()),
            Prepared::Encoded { bytes, items } => Batch::from_encoded(signal, bytes, items, meta),
            Prepared::Data(data) if data.is_empty() => return Ok(()),
            Prepared::Data(data) => Batch::from_data(data, meta),
        };
        match self
            .output
            .send_timeout(batch, self.backpressure_timeout)
            .await
        {
            Ok(()) => Ok(()),
            Err(SendError::Full(_)) => Err(Refusal::Full),
            Err(SendError::Closed(_)) => Err(Refusal::Closed),
            Err(SendError::NoRoute(_)) => Err(Refusal::NoRoute(signal)),
        }
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
            Ok(Prepared::Encoded {
                bytes,
                items: summary.items,
            })
        }
        Format::Json => json::decode(signal, &bytes)
            .map(Prepared::Data)
            .map_err(|e| Refusal::Invalid(format!("invalid OTLP/JSON {signal} request: {e}"))),
    }
}
