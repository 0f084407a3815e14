//! The `stdin` receiver's configuration.

use std::time::Duration;

use serde::Deserialize;
use weir_core::{ByteSize, ComponentConfig, ConfigError};
use weir_otlp::logline::LineFormat;

/// Configuration of the `stdin` receiver.
///
/// ```yaml
/// receivers:
///   stdin:
///     format: auto
///     max_line_bytes: 1MiB
///     max_batch: 1000
///     max_delay: 200ms
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdinConfig {
    /// How each line is read: `auto` (a line holding a JSON object is structured,
    /// any other is text), `text` (the line is the body) or `json` (a line that
    /// is not a JSON object is kept as text with a `weir.parse_error` attribute).
    /// Default: `auto`.
    #[serde(default)]
    pub format: LineFormat,
    /// Longest line kept whole; longer lines are cut to this many bytes (at a
    /// UTF-8 boundary), marked `weir.truncated` and counted. Default: `1MiB`.
    #[serde(default = "default_max_line_bytes")]
    pub max_line_bytes: ByteSize,
    /// Most lines in one batch; at least 1. Default: `1000`.
    #[serde(default = "default_max_batch")]
    pub max_batch: usize,
    /// How long a partial batch waits for more lines after its first one.
    /// Default: `200ms`.
    #[serde(default = "default_max_delay", with = "humantime_serde")]
    pub max_delay: Duration,
}

fn default_max_line_bytes() -> ByteSize {
    ByteSize::mib(1)
}

fn default_max_batch() -> usize {
    1000
}

fn default_max_delay() -> Duration {
    Duration::from_millis(200)
}

impl Default for StdinConfig {
    fn default() -> Self {
        StdinConfig {
            format: LineFormat::default(),
            max_line_bytes: default_max_line_bytes(),
            max_batch: default_max_batch(),
            max_delay: default_max_delay(),
        }
    }
}

impl StdinConfig {
    /// Parses and checks a component config.
    pub fn from_component(cfg: &ComponentConfig) -> Result<Self, ConfigError> {
        let config: StdinConfig = cfg.parse()?;
        if config.max_batch == 0 {
            return Err(ConfigError::at("max_batch", "must be at least 1"));
        }
        if config.max_line_bytes.bytes() == 0 {
            return Err(ConfigError::at("max_line_bytes", "must be at least 1 byte"));
        }
        Ok(config)
    }
}
