//! The `stdin` receiver's configuration.

use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use weir_core::{ByteSize, ComponentConfig, ConfigError};
use weir_otlp::logline::LineFormat;

/// Reads standard input; each line is one log record. At EOF the run drains and
/// ends, so `cat app.log | weir run ...` is a batch job.
///
/// ```yaml
/// receivers:
///   stdin:
///     format: auto
///     max_line_bytes: 1MiB
///     max_batch: 1000
///     max_delay: 200ms
/// ```
///
/// JSON lines map onto OTLP log records:
///
/// | JSON field | OTLP |
/// |---|---|
/// | `message`, `msg`, `body` (first present) | body (strings stay strings; objects, arrays, numbers keep their type) |
/// | `level`, `severity` | severity text as given, severity number (trace 1, debug 5, info 9, warn 13, error 17, fatal/critical 21; numbers 1-24 taken as OTLP numbers) |
/// | `timestamp`, `time`, `ts` | time: RFC 3339 with `Z` or an offset, or epoch seconds, milliseconds, microseconds or nanoseconds (decided by magnitude) |
/// | `trace_id`/`traceId`, `span_id`/`spanId` | the record's ids when valid hex |
/// | anything else | attributes, typed; nested objects stay nested (kvlist), arrays stay arrays |
///
/// Every record gets `observed_time_unix_nano`; the scope is `weir.stdin`.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StdinConfig {
    /// How each line is read: `auto` (a line holding a JSON object is structured,
    /// any other is text), `text` (the line is the body) or `json` (a line that
    /// is not a JSON object is kept as text with a `weir.parse_error` attribute).
    /// Default: `auto`.
    #[serde(default)]
    #[schemars(with = "LineFormatSchema")]
    pub format: LineFormat,
    /// Longest line kept whole; longer lines are cut to this many bytes (at a
    /// UTF-8 boundary), marked `weir.truncated = true` and
    /// `weir.original_bytes`, and counted on
    /// `weir_receiver_truncated_items_total`. Default: `1MiB`.
    #[serde(default = "default_max_line_bytes")]
    pub max_line_bytes: ByteSize,
    /// Most lines in one batch (at least 1). Default: `1000`.
    #[serde(default = "default_max_batch")]
    pub max_batch: usize,
    /// How long a partial batch waits for more lines: it is sent this long
    /// after its first line. Default: `200ms`.
    #[serde(default = "default_max_delay", with = "humantime_serde")]
    #[schemars(with = "weir_core::schema::HumanDuration")]
    pub max_delay: Duration,
}

/// The schema of [`LineFormat`] (defined in `weir-otlp`, which has no schema
/// support): the same values.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // only described, never built
enum LineFormatSchema {
    /// A line holding a JSON object is structured, any other is text.
    Auto,
    /// The line is the body.
    Text,
    /// A line that is not a JSON object is kept as text with a
    /// `weir.parse_error` attribute.
    Json,
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
