//! Self-telemetry: Prometheus exposition, process metrics, the HTTP endpoint.

pub mod process;
pub mod prometheus;
pub mod server;
