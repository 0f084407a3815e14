//! weir's runtime: turns a pipeline file into running tasks joined by bounded
//! channels, runs the exporter harness, handles lifecycle and serves
//! self-telemetry.
#![forbid(unsafe_code)]

pub mod config;
