//! The `otlp` exporter: sends batches to any OTLP endpoint over gRPC,
//! HTTP/protobuf or HTTP/JSON.
//!
//! **Data path.** A batch that still holds the protobuf bytes it was received as,
//! and fits `max_request_bytes`, is sent as those bytes (a reference-counted
//! `Bytes`, no decode, no copy); a changed batch is encoded once; `http/json`
//! decodes and writes OTLP/JSON. A batch over the limit is decoded once and
//! split (see `split`) into requests under it, sent one after another in order.
//!
//! **Outcomes** follow the OTLP specification: HTTP 429/502/503/504 and the
//! retryable gRPC codes are [`ExportError::Retryable`] with the server's
//! `Retry-After` or RetryInfo delay; transport failures (refused, reset, timed
//! out) are retryable too; anything else is permanent. `partial_success` with
//! rejected items becomes [`ExportOutcome::partial`]. Queueing, retries with
//! backoff and concurrency belong to the runtime's harness, not to this exporter.
//!
//! **Compression** is per request, at fast levels (gzip 1, zstd 1) through
//! `weir_otlp::compression::compress`, with `Content-Encoding` on HTTP and
//! `grpc-encoding` on gRPC (whose framing we do ourselves, see `grpc`, since
//! tonic's compresses at gzip 6). An unchanged batch that a receiver got
//! compressed with the same encoding is sent as the compressed bytes it came
//! as, with no compression at all. The limit applies before compression.
//!
//! **Split batches that fail midway** (the choice is at-least-once):
//! - a retryable failure returns the error, and the harness's retry resends the
//!   whole batch, parts already delivered included, so the destination may see
//!   them twice. Tracking progress across calls would need a key for "the same
//!   batch", which the `Exporter` API does not give;
//! - a permanent failure returns a partial outcome: the delivered parts count as
//!   sent, the rest as rejected, with the failure as the message.
//!
//! Splitting decodes and copies records on the calling task: it is the slow path
//! for batches larger than the destination takes, not the usual one.

mod config;
mod grpc;
pub(crate) mod http;
mod split;

#[cfg(test)]
mod tests;

use async_trait::async_trait;
use bytes::Bytes;
use weir_core::{
    Batch, BuildContext, ComponentConfig, ConfigError, ExportError, ExportOutcome, Exporter,
    ExporterFactory, Signal, SignalData,
};
use weir_otlp::compression::Encoding;
use weir_otlp::response::PartialSuccess;

use self::http::HttpTransport;
pub use config::{Compression, OtlpExporterConfig, Protocol, TlsConfig};
use grpc::GrpcTransport;

/// Builds `otlp` exporters.
#[derive(Debug, Clone, Copy, Default)]
pub struct OtlpExporterFactory;

impl ExporterFactory for OtlpExporterFactory {
    fn type_name(&self) -> &'static str {
        "otlp"
    }

    fn description(&self) -> &'static str {
        "sends OTLP over gRPC, HTTP/protobuf or HTTP/JSON, splitting batches over a size limit"
    }

    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }

    fn config_schema(&self) -> Option<weir_core::schema::Schema> {
        Some(weir_core::schema::for_config::<OtlpExporterConfig>())
    }
    fn build(
        &self,
        cfg: &ComponentConfig,
        _cx: &BuildContext,
    ) -> Result<Box<dyn Exporter>, ConfigError> {
        let config: OtlpExporterConfig = cfg.parse()?;
        Ok(Box::new(OtlpExporter::new(&config)?))
    }
}

/// Sends batches to one OTLP endpoint. Cheap to build: connections open on
/// first export, and one client (with its connection pool) serves every
/// concurrent export.
#[derive(Debug)]
pub struct OtlpExporter {
    transport: Transport,
    json: bool,
    limit: usize,
}

#[derive(Debug)]
enum Transport {
    // Boxed (one per exporter, so it costs nothing): the two differ a lot in size.
    Grpc(Box<GrpcTransport>),
    Http(Box<HttpTransport>),
}

/// One request of a batch: an uncompressed body and the items it carries,
/// and the body already compressed with the exporter's encoding when the batch
/// came with it (sent as it is, DESIGN.md §3).
struct Part {
    body: Bytes,
    items: usize,
    precompressed: Option<Bytes>,
}

impl OtlpExporter {
    /// An exporter for `config`, validated here (URL, headers, TLS files).
    pub fn new(config: &OtlpExporterConfig) -> Result<Self, ConfigError> {
        let resolved = config.resolve()?;
        ensure_crypto_provider();
        let json = config.protocol == Protocol::HttpJson;
        let transport = match config.protocol {
            Protocol::Grpc => Transport::Grpc(Box::new(GrpcTransport::new(config, &resolved)?)),
            Protocol::HttpProtobuf | Protocol::HttpJson => {
                Transport::Http(Box::new(HttpTransport::new(config, &resolved, json)?))
            }
        };
        Ok(OtlpExporter {
            transport,
            json,
            limit: config.max_request_bytes.as_usize(),
        })
    }

    async fn send(
        &self,
        signal: Signal,
        part: Part,
    ) -> Result<Option<PartialSuccess>, ExportError> {
        match &self.transport {
            Transport::Grpc(t) => t.send(signal, part.body, part.precompressed).await,
            Transport::Http(t) => t.send(signal, part.body, part.precompressed).await,
        }
    }

    /// The encoding requests go out with.
    fn encoding(&self) -> Encoding {
        match &self.transport {
            Transport::Grpc(t) => t.encoding(),
            Transport::Http(t) => t.encoding(),
        }
    }

    /// The request bodies for `batch`, in order.
    fn parts(&self, batch: &Batch) -> Result<Vec<Part>, ExportError> {
        if self.json {
            let mut parts = Vec::new();
            push_json(batch.data().map_err(decode_error)?, self.limit, &mut parts);
            return Ok(parts);
        }
        let items = batch.items();
        if let Some(bytes) = batch.received_bytes()
            && bytes.len() <= self.limit
        {
            // Unchanged, so the bytes as they came compressed, if they came in
            // our encoding, are this request's body as it is.
            let precompressed = self
                .encoding()
                .content_encoding()
                .and_then(|e| batch.compressed_bytes(e))
                .cloned();
            return Ok(vec![Part {
                body: bytes.clone(),
                items,
                precompressed,
            }]);
        }
        if batch.size_bytes() <= self.limit {
            return Ok(vec![Part {
                body: batch.to_protobuf(),
                items,
                precompressed: None,
            }]);
        }
        let data = batch.data().map_err(decode_error)?;
        Ok(split::split(data, self.limit)
            .iter()
            .map(|part| {
                let mut buf = Vec::new();
                part.encode_to(&mut buf);
                Part {
                    body: buf.into(),
                    items: part.item_count(),
                    precompressed: None,
                }
            })
            .collect())
    }
}

/// Installs rustls' ring provider unless one is installed: reqwest's
/// `rustls-no-provider` panics when building a client without one. The binary
/// installs it at start; this keeps custom builds and tests from panicking.
pub(crate) fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // An error means another thread installed one first; that one is used.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

fn decode_error(e: weir_core::BatchError) -> ExportError {
    ExportError::permanent("decode", e.to_string())
}

/// Encodes `data` as OTLP/JSON requests under `limit` bytes. JSON runs larger
/// than protobuf by a ratio that depends on the data, so an oversize body is
/// split at the protobuf size scaled by that ratio, and each part checked again.
fn push_json(data: &SignalData, limit: usize, out: &mut Vec<Part>) {
    let mut buf = Vec::new();
    weir_otlp::json::encode(data, &mut buf);
    if buf.len() > limit {
        let ratio = data.encoded_len() as f64 / buf.len() as f64;
        let proto_limit = ((limit as f64 * ratio * 0.9) as usize).max(1);
        let parts = split::split(data, proto_limit);
        // One part means nothing left to split (a single record over the limit).
        if parts.len() > 1 {
            for part in &parts {
                push_json(part, limit, out);
            }
            return;
        }
    }
    out.push(Part {
        body: buf.into(),
        items: data.item_count(),
        precompressed: None,
    });
}

#[async_trait]
impl Exporter for OtlpExporter {
    async fn export(&self, batch: &Batch) -> Result<ExportOutcome, ExportError> {
        if batch.is_empty() {
            return Ok(ExportOutcome::delivered(0));
        }
        let signal = batch.signal();
        let parts = self.parts(batch)?;
        let total = parts.len();
        let (mut sent, mut rejected, mut message) = (0usize, 0usize, None::<String>);
        let mut remaining: usize = parts.iter().map(|p| p.items).sum();
        for (i, part) in parts.into_iter().enumerate() {
            let items = part.items;
            remaining -= items;
            match self.send(signal, part).await {
                Ok(None) => sent += items,
                Ok(Some(p)) => {
                    let r = usize::try_from(p.rejected).unwrap_or(0).min(items);
                    sent += items - r;
                    rejected += r;
                    if r > 0 && message.is_none() {
                        message = Some(p.message);
                    }
                }
                Err(e) if i == 0 => return Err(e),
                Err(ExportError::Retryable {
                    reason,
                    message: m,
                    after,
                }) => {
                    let m = format!(
                        "{m} (request {} of {total} of a split batch; the retry resends \
                         the {i} delivered before it)",
                        i + 1
                    );
                    return Err(ExportError::Retryable {
                        reason,
                        message: m,
                        after,
                    });
                }
                Err(ExportError::Permanent { reason, message: m }) => {
                    return Ok(ExportOutcome {
                        sent,
                        rejected: rejected + items + remaining,
                        message: Some(failed_midway(&reason, &m, i, total)),
                    });
                }
            }
        }
        Ok(match message {
            Some(m) => ExportOutcome::partial(sent, rejected, m),
            None if rejected > 0 => ExportOutcome::partial(sent, rejected, ""),
            None => ExportOutcome::delivered(sent),
        })
    }
}

fn failed_midway(reason: &str, message: &str, i: usize, total: usize) -> String {
    format!(
        "{reason}: {message} (request {} of {total} of a split batch; the {i} before it \
         were delivered)",
        i + 1
    )
}
