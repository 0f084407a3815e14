//! What every route of the receiver shares: authentication, the body limit,
//! and the way into the pipelines with its answers when that fails.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use hyper::body::Incoming;
use weir_core::telemetry::{ComponentTelemetry, Counter, reasons};
use weir_core::{Batch, BatchMeta, ClientInfo, Output, SendError, Signal};
use weir_otlp::compression::{self, DecompressError, Encoding};

use crate::net::auth::{Auth, AuthError};
use crate::net::body::{ReadError, content_encoding, content_length, read_body};

/// Why a body could not be had.
pub(crate) enum BodyRefusal {
    /// 413: over the limit, before or after decompression.
    TooLarge(String),
    /// 400: unreadable, or not valid compressed data.
    Invalid(String),
    /// 415: a content coding weir does not take.
    Encoding(String),
}

/// Why a batch did not get into the pipeline.
pub(crate) enum SendRefusal {
    /// 503 + Retry-After: the pipeline stayed full or is shutting down.
    Unavailable(&'static str),
    /// 404: no pipeline takes this signal from this receiver.
    NoRoute(Signal),
}

/// Shared by every connection.
pub(crate) struct State {
    pub(crate) id: Arc<str>,
    output: Output,
    auth: Option<Auth>,
    limit: usize,
    backpressure_timeout: Duration,
    /// Requests refused as invalid or too large, by signal (their items are
    /// unknown, so each counts 1, as in the otlp receiver).
    invalid: [Counter; 3],
}

impl State {
    pub(crate) fn new(
        id: Arc<str>,
        output: Output,
        telemetry: &ComponentTelemetry,
        api_keys: &[String],
        limit: usize,
        backpressure_timeout: Duration,
    ) -> Self {
        State {
            id,
            output,
            auth: (!api_keys.is_empty()).then(|| Auth::new(api_keys, true)),
            limit,
            backpressure_timeout,
            invalid: Signal::ALL.map(|s| telemetry.refused_items(s, reasons::INVALID)),
        }
    }

    /// Authenticates (when keys are configured) and says who sent the request.
    pub(crate) fn client(
        &self,
        peer: SocketAddr,
        headers: &HeaderMap,
    ) -> Result<Arc<ClientInfo>, AuthError> {
        crate::net::auth::client_info(self.auth.as_ref(), peer, headers)
    }

    /// Whether some pipeline takes `signal`.
    pub(crate) fn accepts(&self, signal: Signal) -> bool {
        self.output.accepts(signal)
    }

    /// Reads and decompresses a body, never holding more than the limit.
    pub(crate) async fn body(
        &self,
        headers: &HeaderMap,
        body: Incoming,
        signal: Signal,
    ) -> Result<Bytes, BodyRefusal> {
        let limit = self.limit;
        let refuse = |r: BodyRefusal| {
            if !matches!(r, BodyRefusal::Encoding(_)) {
                self.count_invalid(signal, 1);
            }
            r
        };
        let encoding = content_encoding(headers).map_err(|got| {
            refuse(BodyRefusal::Encoding(format!(
                "unsupported content encoding `{got}`: use gzip, zstd or identity"
            )))
        })?;
        let too_large =
            |what: &str| BodyRefusal::TooLarge(format!("request body exceeds {limit} bytes{what}"));
        let declared = content_length(headers);
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(refuse(too_large("")));
        }
        let raw = read_body(body, declared.unwrap_or(0), limit)
            .await
            .map_err(|e| match e {
                ReadError::TooLarge => refuse(too_large("")),
                ReadError::Body(e) => refuse(BodyRefusal::Invalid(format!(
                    "cannot read the request body: {e}"
                ))),
            })?;
        match encoding {
            Encoding::Identity => Ok(raw),
            enc => compression::decompress(enc, &raw, limit).map_err(|e| match e {
                DecompressError::TooLarge { .. } => refuse(too_large(" once decompressed")),
                DecompressError::Invalid { .. } => refuse(BodyRefusal::Invalid(e.to_string())),
            }),
        }
    }

    /// Counts `n` items (or requests) refused as invalid.
    pub(crate) fn count_invalid(&self, signal: Signal, n: u64) {
        self.invalid[signal.index()].add(n);
    }

    /// Metadata for a batch from `client`.
    pub(crate) fn meta(&self, client: Arc<ClientInfo>) -> BatchMeta {
        BatchMeta::from_receiver(self.id.clone()).with_client(client)
    }

    /// Sends a batch, waiting at most `backpressure_timeout` for room.
    pub(crate) async fn send(&self, batch: Batch) -> Result<(), SendRefusal> {
        let signal = batch.signal();
        match self
            .output
            .send_timeout(batch, self.backpressure_timeout)
            .await
        {
            Ok(()) => Ok(()),
            Err(SendError::Full(_)) => Err(SendRefusal::Unavailable("pipeline full, retry later")),
            Err(SendError::Closed(_)) => {
                Err(SendRefusal::Unavailable("shutting down, retry later"))
            }
            Err(SendError::NoRoute(_)) => Err(SendRefusal::NoRoute(signal)),
        }
    }
}

/// What a route says when no pipeline takes `signal`.
pub(crate) fn no_route(signal: Signal) -> String {
    format!("no pipeline takes {signal} from this receiver")
}
