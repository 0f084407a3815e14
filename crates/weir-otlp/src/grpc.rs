//! OTLP over gRPC without decoding: a tonic codec that passes message bytes
//! through, and the method paths of the three OTLP services.

use bytes::{Buf, BufMut, Bytes};
use tonic::Status;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use weir_core::Signal;

use crate::compression::Encoding;

const LOGS_PATH: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
const TRACES_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
const METRICS_PATH: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

/// The gRPC method path of `signal`'s Export call,
/// e.g. `/opentelemetry.proto.collector.logs.v1.LogsService/Export`.
pub fn export_path(signal: Signal) -> &'static str {
    match signal {
        Signal::Logs => LOGS_PATH,
        Signal::Traces => TRACES_PATH,
        Signal::Metrics => METRICS_PATH,
    }
}

/// The signal whose Export call `path` is.
pub fn signal_of_path(path: &str) -> Option<Signal> {
    Signal::ALL.into_iter().find(|s| export_path(*s) == path)
}

/// tonic's name for `encoding` (`None` for identity), for `send_compressed` and
/// `accept_compressed` on tonic's `Grpc` objects.
pub fn tonic_encoding(encoding: Encoding) -> Option<CompressionEncoding> {
    match encoding {
        Encoding::Identity => None,
        Encoding::Gzip => Some(CompressionEncoding::Gzip),
        Encoding::Zstd => Some(CompressionEncoding::Zstd),
    }
}

/// A tonic codec whose messages are raw protobuf bytes both ways, so a receiver
/// can validate with [`crate::wire::inspect`] and forward as received, and an
/// exporter can send [`weir_core::Batch::to_protobuf`] without re-encoding.
#[derive(Debug, Clone, Copy, Default)]
pub struct BytesCodec;

impl Codec for BytesCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = BytesCodec;
    type Decoder = BytesCodec;

    fn encoder(&mut self) -> Self::Encoder {
        BytesCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        BytesCodec
    }
}

impl Encoder for BytesCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.reserve(item.len());
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for BytesCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        // The buffer holds exactly one message; taking it as `Bytes` avoids a copy
        // when it sits in one chunk.
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

#[cfg(test)]
#[path = "grpc_tests.rs"]
mod tests;
