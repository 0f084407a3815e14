//! weir's built-in exporters, one folder each.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use weir_core::Registry;

pub mod blackhole;
pub mod debug;
pub mod file;
pub mod ledger;
pub mod otlp;
mod utc;

/// Adds every built-in exporter to `registry`.
pub fn register(registry: &mut Registry) {
    registry.add_exporter(file::FileExporterFactory);
    registry.add_exporter(debug::DebugExporterFactory);
    registry.add_exporter(blackhole::BlackholeExporterFactory);
    registry.add_exporter(otlp::OtlpExporterFactory);
    registry.add_exporter(ledger::LedgerExporterFactory);
}
