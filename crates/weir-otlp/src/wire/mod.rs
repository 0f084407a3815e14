//! The validating walk over OTLP protobuf: checks every field of an export
//! request (wire types, lengths, nesting, UTF-8 of strings) and counts its items
//! without decoding into structs (~0.34 µs a record instead of 1.56 µs).
//!
//! The walk accepts exactly what prost accepts when decoding into the
//! `opentelemetry-proto` types: unknown fields are skipped by wire type (groups
//! included), a known field with the wrong wire type is an error, repeated scalars
//! may be packed or not, and messages nest at most 100 deep (prost's recursion
//! limit). Items are counted as prost would see them, so a metric whose `data`
//! oneof appears twice with different cases counts only the last one. It never
//! allocates unless it fails.

mod cursor;
mod metrics;
mod schema;

use weir_core::Signal;

/// What the walk learned about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct WireSummary {
    /// Log records, spans or metric data points.
    pub items: usize,
    /// `Resource*` entries.
    pub resources: usize,
    /// Items (counted in `items` too) that are well-formed protobuf but invalid
    /// by [`crate::validate`]: log records and spans with ids of impossible
    /// lengths. A receiver takes the others and refuses these.
    pub invalid_items: usize,
    /// Why the first invalid item is invalid, e.g.
    /// `span trace_id is not 16 bytes` (`None` when `invalid_items` is 0).
    pub first_invalid: Option<&'static str>,
}

/// Why bytes are not a valid export request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid protobuf at byte {offset}: {message}")]
pub struct WireError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What is wrong, e.g. `string field 1 of KeyValue is not valid UTF-8`.
    pub message: String,
}

/// Validates `bytes` as an `Export{Logs,Trace,Metrics}ServiceRequest` of `signal`
/// and counts its items, and among them the invalid ones (see
/// [`WireSummary::invalid_items`]), still without allocating.
pub fn inspect(signal: Signal, bytes: &[u8]) -> Result<WireSummary, WireError> {
    schema::request(signal, bytes)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod tests_gen;
