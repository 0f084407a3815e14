//! The `adaptive_batch` processor's configuration.

use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use weir_core::{ByteSize, ComponentConfig, ConfigError};

/// Merges incoming batches by resource and scope into compact ones, and sends
/// them when they reach `max_items` or `max_bytes` or have waited long enough,
/// where "long enough" adapts to the arrival rate and to the exporters' latency,
/// queue fill and throttling. Put it last in a pipeline, in front of exporters
/// that pay per request.
///
/// ```yaml
/// processors:
///   adaptive_batch:
///     max_items: 8192
///     max_bytes: 4MB
///     min_delay: 5ms
///     target_latency: 100ms
///     max_delay: 500ms
/// ```
///
/// How the delay adapts, the metrics it adds and tuning: [processors/adaptive_batch.md](processors/adaptive_batch.md).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdaptiveBatchConfig {
    /// Most items (log records, spans, metric data points) in one emitted
    /// batch; a batch reaching it leaves at once. At least 1. Default: `8192`.
    #[serde(default = "default_max_items")]
    pub max_items: usize,
    /// Largest encoded size (the OTLP export request in protobuf) of one
    /// emitted batch. A single item larger than this is emitted alone. At least
    /// 1 byte. Default: `4000000` (`4MB`: under the common 4 MiB gRPC
    /// message limit, with room for framing).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: ByteSize,
    /// Shortest time a batch waits for more data: the delay under light
    /// traffic. More than 0. Default: `5ms`.
    #[serde(default = "default_min_delay", with = "humantime_serde")]
    #[schemars(with = "weir_core::schema::HumanDuration")]
    pub min_delay: Duration,
    /// The latency the controller aims at when traffic is heavy and the
    /// downstream keeps up. Between `min_delay` and `max_delay`.
    /// Default: `100ms`.
    #[serde(default = "default_target_latency", with = "humantime_serde")]
    #[schemars(with = "weir_core::schema::HumanDuration")]
    pub target_latency: Duration,
    /// Longest time a batch waits for more data, reached when the downstream
    /// pushes back. At least `min_delay`. Default: `500ms`.
    #[serde(default = "default_max_delay", with = "humantime_serde")]
    #[schemars(with = "weir_core::schema::HumanDuration")]
    pub max_delay: Duration,
}

fn default_max_items() -> usize {
    8192
}

fn default_max_bytes() -> ByteSize {
    ByteSize::b(4_000_000)
}

fn default_min_delay() -> Duration {
    Duration::from_millis(5)
}

fn default_target_latency() -> Duration {
    Duration::from_millis(100)
}

fn default_max_delay() -> Duration {
    Duration::from_millis(500)
}

impl Default for AdaptiveBatchConfig {
    fn default() -> Self {
        AdaptiveBatchConfig {
            max_items: default_max_items(),
            max_bytes: default_max_bytes(),
            min_delay: default_min_delay(),
            target_latency: default_target_latency(),
            max_delay: default_max_delay(),
        }
    }
}

impl AdaptiveBatchConfig {
    /// Parses and checks a component config.
    pub fn from_component(cfg: &ComponentConfig) -> Result<Self, ConfigError> {
        let config: AdaptiveBatchConfig = cfg.parse()?;
        config.check()?;
        Ok(config)
    }

    /// Checks the values together; the error names the field at fault.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.max_items == 0 {
            return Err(ConfigError::at("max_items", "must be at least 1"));
        }
        if self.max_bytes.bytes() == 0 {
            return Err(ConfigError::at("max_bytes", "must be at least 1 byte"));
        }
        if self.min_delay.is_zero() {
            return Err(ConfigError::at("min_delay", "must be more than 0"));
        }
        if self.max_delay < self.min_delay {
            return Err(ConfigError::at(
                "max_delay",
                format!("must be at least min_delay ({:?})", self.min_delay),
            ));
        }
        if self.target_latency < self.min_delay || self.target_latency > self.max_delay {
            return Err(ConfigError::at(
                "target_latency",
                format!(
                    "must be between min_delay ({:?}) and max_delay ({:?})",
                    self.min_delay, self.max_delay
                ),
            ));
        }
        Ok(())
    }
}
