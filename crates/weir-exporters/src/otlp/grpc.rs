//! OTLP/gRPC: a lazily connected tonic `Channel` carrying requests we frame
//! ourselves, and statuses mapped per the OTLP/gRPC specification.
//!
//! tonic's client compresses with fixed levels (gzip 6, zstd 3; gzip 6 costs
//! about 7 times the CPU of gzip 1) and cannot send bytes that are compressed
//! already. So the unary call is done by hand over the `Channel` (a
//! `tower::Service` of HTTP/2 requests): a POST to the method path with the
//! gRPC headers, a body of one length-prefixed message (compressed flag, 4-byte
//! big-endian length, payload), then the status from the trailers (or from the
//! headers of a trailers-only answer). The payload is our fast-level
//! compression, or the bytes a receiver got compressed with the same encoding,
//! sent as they came.

use std::sync::OnceLock;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::header::{CONTENT_TYPE, HeaderMap, HeaderValue, TE};
use http::{Method, Request};
use http_body_util::{BodyExt, Full, Limited};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::{Code, Status};
use tower::{Service, ServiceExt};
use weir_core::{ConfigError, ExportError, Signal};
use weir_otlp::compression::{self, Encoding};
use weir_otlp::grpc::export_path;
use weir_otlp::response::{self, PartialSuccess};
use weir_otlp::status::{grpc_retryable, retry_info};

use super::config::{OtlpExporterConfig, Resolved};

/// The most of an answer read: an export response is a few bytes plus a message.
const RESPONSE_LIMIT: usize = 4 * 1024 * 1024;

/// Sends export requests over OTLP/gRPC.
#[derive(Debug)]
pub(crate) struct GrpcTransport {
    endpoint: Endpoint,
    /// Made on first use: creating a `Channel` spawns its worker task, which
    /// needs the runtime, and `build` runs outside it (`weir validate`).
    channel: OnceLock<Channel>,
    /// User headers plus the fixed gRPC ones, built once.
    headers: HeaderMap,
    encoding: Encoding,
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
        let encoding = config.compression.encoding();
        let mut headers = resolved.headers.clone();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        headers.insert(TE, HeaderValue::from_static("trailers"));
        if encoding != Encoding::Identity {
            headers.insert("grpc-encoding", HeaderValue::from_static(encoding.as_str()));
        }
        headers.insert(
            "grpc-accept-encoding",
            HeaderValue::from_static("gzip,zstd"),
        );
        // Tells the server our deadline, so it stops work we gave up on.
        headers.insert("grpc-timeout", grpc_timeout(config.timeout));
        Ok(GrpcTransport {
            endpoint,
            channel: OnceLock::new(),
            headers,
            encoding,
        })
    }

    /// The encoding requests are sent with.
    pub(crate) fn encoding(&self) -> Encoding {
        self.encoding
    }

    fn channel(&self) -> Channel {
        self.channel
            .get_or_init(|| self.endpoint.connect_lazy())
            .clone()
    }

    /// Sends one export request: `body` is uncompressed OTLP protobuf;
    /// `precompressed`, when given, is that body already compressed with this
    /// transport's encoding (as a receiver got it), and is sent instead.
    pub(crate) async fn send(
        &self,
        signal: Signal,
        body: Bytes,
        precompressed: Option<Bytes>,
    ) -> Result<Option<PartialSuccess>, ExportError> {
        let (flag, payload) = match (self.encoding, precompressed) {
            (Encoding::Identity, _) => (0u8, body),
            (_, Some(wire)) => (1, wire),
            (enc, None) => (1, Bytes::from(compression::compress(enc, &body, None))),
        };
        let len = u32::try_from(payload.len()).map_err(|_| {
            ExportError::permanent("too_large", "a gRPC message cannot exceed 4 GiB")
        })?;
        let mut frame = BytesMut::with_capacity(5 + payload.len());
        frame.put_u8(flag);
        frame.put_u32(len);
        frame.extend_from_slice(&payload);
        drop(payload);

        let mut request = Request::new(tonic::body::Body::new(Full::new(frame.freeze())));
        *request.method_mut() = Method::POST;
        // The channel adds scheme and authority from the endpoint.
        *request.uri_mut() = http::Uri::from_static(export_path(signal));
        *request.headers_mut() = self.headers.clone();

        let mut channel = self.channel();
        channel.ready().await.map_err(|e| transport_error(&e))?;
        let response = channel
            .call(request)
            .await
            .map_err(|e| transport_error(&e))?;
        let (parts, body) = response.into_parts();
        // A trailers-only answer (every error tonic servers send) has the
        // status in the headers.
        if let Some(status) = Status::from_header_map(&parts.headers) {
            return check(&status).map(|()| None);
        }
        if parts.status != http::StatusCode::OK {
            let code = http_to_grpc(parts.status);
            return Err(status_error(&Status::new(
                code,
                format!("HTTP {} without a gRPC status", parts.status),
            )));
        }
        let collected = Limited::new(body, RESPONSE_LIMIT)
            .collect()
            .await
            .map_err(|e| {
                ExportError::retryable("transport", format!("reading the gRPC answer: {e}"))
            })?;
        let status = collected
            .trailers()
            .and_then(Status::from_header_map)
            .unwrap_or_else(|| Status::unknown("the server sent no grpc-status"));
        check(&status)?;
        let message = match response_message(&parts.headers, collected.to_bytes()) {
            Ok(m) => m,
            Err(e) => {
                // Delivered whatever the body says; resending would duplicate.
                tracing::debug!(error = %e, "otlp exporter: unreadable gRPC response");
                return Ok(None);
            }
        };
        Ok(
            response::decode_protobuf(signal, &message).unwrap_or_else(|e| {
                tracing::debug!(error = %e, "otlp exporter: unreadable gRPC response");
                None
            }),
        )
    }
}

/// `Ok` for an OK status, else its mapping.
fn check(status: &Status) -> Result<(), ExportError> {
    if status.code() == Code::Ok {
        Ok(())
    } else {
        Err(status_error(status))
    }
}

/// The message of a unary answer: empty when there is none, decompressed per
/// the answer's `grpc-encoding` when its flag says so.
fn response_message(headers: &HeaderMap, mut body: Bytes) -> Result<Bytes, String> {
    if body.is_empty() {
        return Ok(body);
    }
    if body.len() < 5 {
        return Err("truncated gRPC message prefix".into());
    }
    let flag = body.get_u8();
    let len = body.get_u32() as usize;
    if body.len() < len {
        return Err("truncated gRPC message".into());
    }
    let message = body.split_to(len);
    if flag == 0 {
        return Ok(message);
    }
    let encoding = headers
        .get("grpc-encoding")
        .and_then(|v| v.to_str().ok())
        .and_then(Encoding::from_header)
        .filter(|e| *e != Encoding::Identity)
        .ok_or("a compressed gRPC message without a known grpc-encoding")?;
    compression::decompress(encoding, &message, RESPONSE_LIMIT).map_err(|e| e.to_string())
}

/// `grpc-timeout`: at most 8 digits and a unit.
fn grpc_timeout(timeout: Duration) -> HeaderValue {
    let ms = timeout.as_millis();
    let value = if ms < 100_000_000 {
        format!("{ms}m")
    } else {
        format!("{}S", timeout.as_secs().min(99_999_999))
    };
    HeaderValue::from_str(&value).expect("digits and a letter")
}

/// The gRPC code of an HTTP error without a gRPC status (per the gRPC spec's
/// HTTP-to-gRPC mapping, as tonic does).
fn http_to_grpc(status: http::StatusCode) -> Code {
    match status.as_u16() {
        400 => Code::Internal,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::Unimplemented,
        429 | 502 | 503 | 504 => Code::Unavailable,
        _ => Code::Unknown,
    }
}

/// A request that got no gRPC answer: always worth retrying.
fn transport_error(e: &(dyn std::error::Error + 'static)) -> ExportError {
    let message = error_chain(e);
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<tonic::TimeoutExpired>() {
            return ExportError::retryable("timeout", message);
        }
        if s.is::<tonic::ConnectError>() {
            return ExportError::retryable("connect", message);
        }
        source = s.source();
    }
    ExportError::retryable("transport", message)
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
