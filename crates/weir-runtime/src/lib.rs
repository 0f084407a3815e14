//! weir's runtime: turns a pipeline file into running tasks joined by bounded
//! channels, runs the exporter harness, handles lifecycle and serves
//! self-telemetry.
//!
//! `config::load_file` → [`build::build`] → [`service::start`] →
//! [`service::RunningService::wait`].
#![forbid(unsafe_code)]

pub mod build;
pub mod channel;
pub mod config;
pub mod exporter;
pub mod memory;
pub mod processor_task;
pub mod service;
pub mod spool;
pub mod telemetry;
pub mod timer;
