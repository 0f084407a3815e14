//! weir's built-in processors, one folder each.
#![forbid(unsafe_code)]

pub mod adaptive_batch;
pub mod enrich;
pub mod rate_limit;
pub mod sample;
#[cfg(test)]
mod test_support;

use weir_core::Registry;

/// Adds every built-in processor to `registry`.
pub fn register(registry: &mut Registry) {
    registry.add_processor(adaptive_batch::AdaptiveBatchProcessorFactory);
    registry.add_processor(enrich::EnrichProcessorFactory);
    registry.add_processor(rate_limit::RateLimitProcessorFactory);
    registry.add_processor(sample::SampleProcessorFactory);
}
