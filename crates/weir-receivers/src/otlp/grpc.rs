//! OTLP/gRPC: the three Export methods, served with tonic's unary machinery over
//! [`BytesCodec`], so a request's message stays the bytes the client sent.
//!
//! Tonic applies `max_decoding_message_size` to the compressed frame and again to
//! the decompressed output (through a size-limited buffer), so a decompression
//! bomb stops at the limit with RESOURCE_EXHAUSTED and is never held whole.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use hyper::body::Incoming;
use tonic::body::Body;
use tonic::codec::CompressionEncoding;
use tonic::server::{Grpc, UnaryService};
use tonic::{Code, Status};
use weir_core::{ClientInfo, Signal};
use weir_otlp::compression::Encoding;
use weir_otlp::grpc::{BytesCodec, signal_of_path};
use weir_otlp::{response, status};

use super::ingest::{Format, Ingest, RETRY_AFTER, Refusal};

/// Answers one gRPC request.
pub(crate) async fn handle(
    ingest: Arc<Ingest>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Body> {
    let path = req.uri().path();
    let Some(signal) = signal_of_path(path) else {
        return Status::unimplemented(format!(
            "unknown method {path}: this server has the OTLP logs, traces and metrics Export methods"
        ))
        .into_http();
    };
    if !ingest.accepts(signal) {
        return Status::unimplemented(Refusal::NoRoute(signal).to_string()).into_http();
    }
    let client = match ingest.client(peer, req.headers()) {
        Ok(c) => c,
        Err(e) => return Status::unauthenticated(e.message()).into_http(),
    };
    // Before tonic reads the message: over the memory budget, read nothing.
    if let Err(refusal) = ingest.check_memory(signal) {
        return to_status(refusal).into_http();
    }
    let mut grpc = Grpc::new(BytesCodec)
        .accept_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Zstd)
        .max_decoding_message_size(ingest.max_request_bytes());
    let export = Export {
        ingest: ingest.clone(),
        signal,
        client,
    };
    let mut response = grpc.unary(export, req).await;
    if remap_decode_errors(&mut response) {
        // Refusals from the Export call itself were counted by `Ingest`.
        ingest.count_invalid(signal);
    }
    response
}

/// One Export call, answered once the batch is in the pipeline.
struct Export {
    ingest: Arc<Ingest>,
    signal: Signal,
    client: Arc<ClientInfo>,
}

type ExportFuture = Pin<Box<dyn Future<Output = Result<tonic::Response<Bytes>, Status>> + Send>>;

impl UnaryService<Bytes> for Export {
    type Response = Bytes;
    type Future = ExportFuture;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let (ingest, signal, client) = (self.ingest.clone(), self.signal, self.client.clone());
        Box::pin(async move {
            // tonic already decompressed the message under the size limit.
            let partial = ingest
                .export(
                    signal,
                    Format::Protobuf,
                    Encoding::Identity,
                    request.into_inner(),
                    client,
                )
                .await
                .map_err(to_status)?;
            Ok(tonic::Response::new(Bytes::from(
                response::encode_protobuf(signal, partial.as_ref()),
            )))
        })
    }
}

/// The gRPC status of a refusal; the retryable ones carry RetryInfo.
fn to_status(refusal: Refusal) -> Status {
    let message = refusal.to_string();
    match refusal {
        Refusal::Invalid(_) => Status::invalid_argument(message),
        Refusal::TooLarge(_) => Status::resource_exhausted(message),
        Refusal::NoRoute(_) => Status::unimplemented(message),
        Refusal::Full | Refusal::Closed | Refusal::NotDelivered(_) | Refusal::AckTimeout(_) => {
            status::status_with_retry_info(Code::Unavailable, &message, RETRY_AFTER)
        }
        // RESOURCE_EXHAUSTED names the cause; with RetryInfo it is retryable
        // under OTLP.
        Refusal::MemoryLimit => {
            status::status_with_retry_info(Code::ResourceExhausted, &message, RETRY_AFTER)
        }
    }
}

/// Rewrites two codes tonic gives for requests it could not decode:
/// OUT_OF_RANGE (a frame over the size limit) is retryable under OTLP, yet the
/// same request would fail forever, so it becomes RESOURCE_EXHAUSTED without
/// RetryInfo (not retryable; what grpc-go answers); INTERNAL for corrupt
/// compressed data becomes INVALID_ARGUMENT, since the client sent bad data.
/// Only tonic's own trailers-only error answers carry these codes. Returns
/// whether the answer refused an undecodable request, so it can be counted.
fn remap_decode_errors(response: &mut Response<Body>) -> bool {
    let Some(status) = Status::from_header_map(response.headers()) else {
        return false;
    };
    let decompressing = status.message().starts_with("Error decompressing");
    let code = match status.code() {
        Code::OutOfRange => Code::ResourceExhausted,
        Code::Internal if decompressing => Code::InvalidArgument,
        // The decompressed size limit: already the right code.
        Code::ResourceExhausted if decompressing => return true,
        _ => return false,
    };
    let remapped = Status::new(code, status.message());
    if remapped.add_header(response.headers_mut()).is_err() {
        tracing::debug!("cannot rewrite a gRPC status header");
    }
    true
}
