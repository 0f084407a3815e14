//! Self-telemetry: Prometheus exposition, process metrics, the HTTP endpoint,
//! and the push of weir's own metrics and traces over OTLP.

pub mod otlp;
pub mod process;
pub mod prometheus;
pub mod server;
