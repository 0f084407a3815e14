//! Drop and failure reasons used by the runtime and built-in components.

/// The downstream stayed full past the receiver's deadline.
pub const BACKPRESSURE: &str = "backpressure";
/// The pipeline was shutting down.
pub const SHUTDOWN: &str = "shutdown";
/// The input could not be parsed or was invalid.
pub const INVALID: &str = "invalid";
/// The destination refused the data for good.
pub const PERMANENT: &str = "permanent";
/// The destination accepted only part of a request.
pub const PARTIAL: &str = "partial_rejected";
/// Retries ran out.
pub const RETRIES_EXHAUSTED: &str = "retries_exhausted";
/// Shutdown deadline passed before delivery.
pub const ABANDONED: &str = "abandoned_at_shutdown";
/// A component failed while handling the data.
pub const COMPONENT_ERROR: &str = "component_error";
/// A record was longer than allowed and was cut.
pub const TRUNCATED: &str = "truncated";
/// A sampler did not keep the item (by its ratio or a `drop` rule).
pub const SAMPLED_OUT: &str = "sampled_out";
/// Over a rate limit with `on_excess: drop`.
pub const RATE_LIMITED: &str = "rate_limited";
/// A full exporter queue with `when_full: drop_oldest` or `drop_newest`
/// dropped the batch.
pub const QUEUE_FULL: &str = "queue_full";
/// The process was over `service.memory_limit`: the receiver refused before
/// reading the request.
pub const MEMORY_LIMIT: &str = "memory_limit";
/// With `acknowledgements: true`, the data was taken but not delivered (an
/// exporter failed it for good, a queue dropped it, shutdown); the client was
/// told to retry.
pub const NOT_DELIVERED: &str = "not_delivered";
/// With `acknowledgements: true`, delivery was not confirmed within
/// `acknowledgement_timeout`; the client was told to retry.
pub const ACK_TIMEOUT: &str = "ack_timeout";
