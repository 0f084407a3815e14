//! weir's built-in receivers, one folder each.
#![forbid(unsafe_code)]

use weir_core::Registry;

pub mod http;
mod net;
pub mod otlp;
pub mod stdin;
#[cfg(test)]
mod test_support;

/// Adds every built-in receiver to `registry`.
pub fn register(registry: &mut Registry) {
    registry.add_receiver(http::HttpReceiverFactory);
    registry.add_receiver(otlp::OtlpReceiverFactory);
    registry.add_receiver(stdin::StdinReceiverFactory);
}
