//! What every route of the receiver shares: authentication, the body limit,
//! the memory budget, and the way into the pipelines with its answers when
//! that fails.
//!
//! With `acknowledgements: true` a request's batch carries an
//! acknowledgement token ([`weir_core::ack`]) and [`State::send`] returns
//! once its records are delivered, or refuses (503) when an exporter gave
//! them up or `acknowledgement_timeout` passed, counted as refused for
//! `not_delivered` or `ack_timeout`. Under `service.memory_limit` a request
//! that arrives while the process is over budget is refused before its body
//! is read (`memory_limit`, each request counting 1 as its items are
//! unknown), and bodies are leased from the budget until their batch is in
//! the pipeline.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use hyper::body::Incoming;
use weir_core::memory::MemoryLease;
use weir_core::telemetry::{ComponentTelemetry, Counter, reasons};
use weir_core::{Batch, BatchMeta, ClientInfo, Output, SendError, Signal};
use weir_otlp::compression::{self, DecompressError, Encoding};

use crate::net::admission::{Admission, Unacknowledged};
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
    /// 503 + Retry-After: the process is over its memory limit.
    MemoryLimit,
}

/// What a refused-over-memory client is told.
pub(crate) const OVER_MEMORY: &str = "over the memory limit, retry later";

/// Why a batch did not get into the pipeline.
pub(crate) enum SendRefusal {
    /// 503 + Retry-After: the pipeline stayed full or is shutting down, or
    /// (with acknowledgements) the records were not delivered.
    Unavailable(String),
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
    admission: Admission,
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

    /// Reads and decompresses a body, never holding more than the limit,
    /// and leases it from the memory budget (hand the lease to
    /// [`State::send`]). Over the budget, nothing is read.
    pub(crate) async fn body(
        &self,
        headers: &HeaderMap,
        body: Incoming,
        signal: Signal,
    ) -> Result<(Bytes, MemoryLease), BodyRefusal> {
        if self.admission.over_memory(signal) {
            return Err(BodyRefusal::MemoryLimit);
        }
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
        let mut lease = self.admission.lease(raw.len());
        match encoding {
            Encoding::Identity => Ok((raw, lease)),
            enc => {
                let plain = compression::decompress(enc, &raw, limit).map_err(|e| match e {
                    DecompressError::TooLarge { .. } => refuse(too_large(" once decompressed")),
                    DecompressError::Invalid { .. } => refuse(BodyRefusal::Invalid(e.to_string())),
                })?;
                lease.grow(plain.len());
                Ok((plain, lease))
            }
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

    /// Sends a batch, waiting at most `backpressure_timeout` for room; then,
    /// with acknowledgements, at most `acknowledgement_timeout` for its
    /// delivery. `lease` (the body's) ends once the batch is in the pipeline.
    pub(crate) async fn send(
        &self,
        mut batch: Batch,
        lease: MemoryLease,
    ) -> Result<(), SendRefusal> {
        let signal = batch.signal();
        let items = batch.items() as u64;
        let waiter = self.admission.ack_pair().map(|(token, waiter)| {
            batch.meta_mut().acks.push(token);
            waiter
        });
        let sent = self
            .output
            .send_timeout(batch, self.backpressure_timeout)
            .await;
        drop(lease);
        match sent {
            Ok(()) => {}
            Err(SendError::Full(_)) => {
                return Err(SendRefusal::Unavailable(
                    "pipeline full, retry later".into(),
                ));
            }
            Err(SendError::Closed(_)) => {
                return Err(SendRefusal::Unavailable(
                    "shutting down, retry later".into(),
                ));
            }
            Err(SendError::NoRoute(_)) => return Err(SendRefusal::NoRoute(signal)),
        }
        let Some(waiter) = waiter else {
            return Ok(());
        };
        let message = match self.admission.acknowledged(signal, items, waiter).await {
            Ok(()) => return Ok(()),
            Err(Unacknowledged::NotDelivered(reason)) => {
                format!("records not delivered ({reason}), retry later")
            }
            Err(Unacknowledged::TimedOut(timeout)) => {
                format!("delivery not confirmed within {timeout:?}, retry later")
            }
        };
        tracing::debug!(receiver = %self.id, %signal, items, %message, "HTTP request not acknowledged");
        Err(SendRefusal::Unavailable(message))
    }
}

/// What a route says when no pipeline takes `signal`.
pub(crate) fn no_route(signal: Signal) -> String {
    format!("no pipeline takes {signal} from this receiver")
}
