//! OTLP wire for weir: the protobuf validating walk, the OTLP/JSON encoding and
//! decoding, compression with size limits, export responses and status mapping,
//! the raw-bytes gRPC codec, item-level validity, and the mapping of foreign log lines (text or JSON
//! objects) onto OTLP log records. Shared by receivers and exporters.
#![forbid(unsafe_code)]

pub mod civil;
pub mod compression;
pub mod grpc;
pub mod json;
pub mod logline;
pub mod response;
pub mod splice;
pub mod status;
pub mod validate;
pub mod wire;
