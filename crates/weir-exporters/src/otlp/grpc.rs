//! OTLP/gRPC: a lazily connected tonic `Channel`, requests carried as raw
//! protobuf bytes with [`BytesCodec`] (no re-encoding), and statuses mapped per
//! the OTLP/gRPC specification.

use std::sync::OnceLock;

use bytes::Bytes;
use http::uri::PathAndQuery;
use tonic::client::Grpc;
use tonic::codec::CompressionEncoding;
use tonic::metadata::MetadataMap;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::{Code, Status};
use weir_core::{ConfigError, ExportError, Signal};
use weir_otlp::compression::Encoding;
use weir_otlp::grpc::{BytesCodec, export_path};
use weir_otlp::response::{self, PartialSuccess};
use weir_otlp::status::{grpc_retryable, retry_info};

use super::config::{OtlpExporterConfig, Resolved};

/// Sends export requests over OTLP/gRPC.
#[derive(Debug)]
pub(crate) struct GrpcTransport {
    endpoint: Endpoint,
    /// Made on first use: creating a `Channel` spawns its worker task, which
    /// needs the runtime, and `build` runs outside it (`weir validate`).
    client: OnceLock<Grpc<Channel>>,
    metadata: MetadataMap,
    compression: Option<CompressionEncoding>,
    timeout: std::time::Duration,
}

impl GrpcTransport {
    /// A transport for a validated config. Opens no connection.
    pub(crate) fn new(
        config: &OtlpExporterConfig,
        resolved: &Resolved,
    ) -> Result<Self, ConfigError> {
        let url = resolved.endpoint.as_str().trim_end_matches('/').to_string();
        let mut endpoint = Endpoint::from_shared(url)
            .map_err(|e| ConfigError::at("endpoint", format!("not a gRPC endpoint: {e}")))?
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .tcp_nodelay(true);
        if resolved.endpoint.scheme() == "https" {
            let mut tls = ClientTlsConfig::new().with_enabled_roots();
            if let Some(pem) = &resolved.ca_pem {
                tls = tls.ca_certificate(Certificate::from_pem(pem));
            }
            endpoint = endpoint
                .tls_config(tls)
                .map_err(|e| ConfigError::at("tls", format!("cannot set up TLS: {e}")))?;
        }
        let compression = match config.compression.encoding() {
            Encoding::Identity => None,
            Encoding::Gzip => Some(CompressionEncoding::Gzip),
            Encoding::Zstd => Some(CompressionEncoding::Zstd),
        };
        Ok(GrpcTransport {
            endpoint,
            client: OnceLock::new(),
            metadata: MetadataMap::from_headers(resolved.headers.clone()),
            compression,
            timeout: config.timeout,
        })
    }

    fn client(&self) -> Grpc<Channel> {
        self.client
            .get_or_init(|| {
                let mut grpc = Grpc::new(self.endpoint.connect_lazy())
                    .accept_compressed(CompressionEncoding::Gzip)
                    .accept_compressed(CompressionEncoding::Zstd);
                if let Some(enc) = self.compression {
                    grpc = grpc.send_compressed(enc);
                }
                grpc
            })
            .clone()
    }

    /// Sends one export request (uncompressed OTLP protobuf; tonic compresses).
    pub(crate) async fn send(
        &self,
        signal: Signal,
        body: Bytes,
    ) -> Result<Option<PartialSuccess>, ExportError> {
        let mut grpc = self.client();
        grpc.ready()
            .await
            .map_err(|e| ExportError::retryable("connect", error_chain(&e)))?;
        let mut request = tonic::Request::new(body);
        if !self.metadata.is_empty() {
            *request.metadata_mut() = self.metadata.clone();
        }
        // Tells the server our deadline (`grpc-timeout`), so it stops work we gave up on.
        request.set_timeout(self.timeout);
        let path = PathAndQuery::from_static(export_path(signal));
        match grpc.unary(request, path, BytesCodec).await {
            Ok(response) => Ok(response::decode_protobuf(signal, response.get_ref())
                .unwrap_or_else(|e| {
                    // Delivered whatever the body says; resending would duplicate.
                    tracing::debug!(error = %e, "otlp exporter: unreadable gRPC response");
                    None
                })),
            Err(status) => Err(status_error(&status)),
        }
    }
}

/// Maps a failed call. A status that tonic made from a local error (it keeps
/// that error as its source) is a transport failure and always retryable; one
/// the server sent is classified by its code per OTLP.
pub(crate) fn status_error(status: &Status) -> ExportError {
    let message = if status.message().is_empty() {
        format!("gRPC {:?}", status.code())
    } else {
        format!("gRPC {:?}: {}", status.code(), status.message())
    };
    let mut source = std::error::Error::source(status);
    if source.is_some() {
        while let Some(s) = source {
            if s.is::<tonic::TimeoutExpired>() {
                return ExportError::retryable("timeout", message);
            }
            if s.is::<tonic::ConnectError>() {
                return ExportError::retryable("connect", format!("{message}: {}", error_chain(s)));
            }
            source = s.source();
        }
        return ExportError::retryable("transport", format!("{message}: {}", error_chain(status)));
    }
    let reason = code_reason(status.code());
    if !grpc_retryable(status) {
        return ExportError::permanent(reason, message);
    }
    match retry_info(status) {
        Some(after) => ExportError::retry_after(reason, message, after),
        None => ExportError::retryable(reason, message),
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        // tonic often repeats its source's text; print each cause once.
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// The metrics label of a gRPC code: `grpc_` and the code's name.
pub(crate) fn code_reason(code: Code) -> &'static str {
    match code {
        Code::Ok => "grpc_ok",
        Code::Cancelled => "grpc_cancelled",
        Code::Unknown => "grpc_unknown",
        Code::InvalidArgument => "grpc_invalid_argument",
        Code::DeadlineExceeded => "grpc_deadline_exceeded",
        Code::NotFound => "grpc_not_found",
        Code::AlreadyExists => "grpc_already_exists",
        Code::PermissionDenied => "grpc_permission_denied",
        Code::ResourceExhausted => "grpc_resource_exhausted",
        Code::FailedPrecondition => "grpc_failed_precondition",
        Code::Aborted => "grpc_aborted",
        Code::OutOfRange => "grpc_out_of_range",
        Code::Unimplemented => "grpc_unimplemented",
        Code::Internal => "grpc_internal",
        Code::Unavailable => "grpc_unavailable",
        Code::DataLoss => "grpc_data_loss",
        Code::Unauthenticated => "grpc_unauthenticated",
    }
}
