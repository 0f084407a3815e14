//! The `rate_limit` processor's configuration.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use weir_core::{ComponentConfig, ConfigError};

/// Limits how much data passes per second with token buckets, counted in items,
/// bytes or batches, for everything or per key (a resource attribute, a record
/// attribute or the client's authenticated subject), in a bounded key table with
/// idle eviction. Over the limit, data is dropped (and counted) or delayed (held
/// until it may pass, so backpressure reaches the receivers and nothing is lost).
///
/// ```yaml
/// processors:
///   rate_limit/tenants:
///     rate: 5000            # tokens per second
///     burst: 10000          # bucket size; default: one second of `rate`
///     unit: items           # items | bytes | batches
///     key: { record_attribute: tenant }
///     max_keys: 10000
///     idle_timeout: 5m
///     on_excess: drop       # drop | delay
/// ```
///
/// How keys and buckets behave, and the metrics it adds: [processors/rate_limit.md](processors/rate_limit.md).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Tokens added per second, in `unit`s; above 0.
    pub rate: f64,
    /// Bucket size: the most tokens a bucket holds, so the largest burst admitted
    /// at once. Default: `rate` (one second of traffic).
    #[serde(default)]
    pub burst: Option<f64>,
    /// What a token stands for. Default: `items`.
    #[serde(default)]
    pub unit: Unit,
    /// One bucket per value of this key: exactly one of `resource_attribute`,
    /// `record_attribute` or `client`. Default: none, one bucket for
    /// everything.
    #[serde(default)]
    pub key: Option<KeySpec>,
    /// Most keys tracked at once; when full, a key not used recently is evicted
    /// (CLOCK, an approximation of least recently used). Default: `10000`.
    #[serde(default = "default_max_keys")]
    pub max_keys: usize,
    /// A key unused for this long whose bucket has refilled is forgotten.
    /// Default: `5m`.
    #[serde(default = "default_idle_timeout", with = "humantime_serde")]
    #[schemars(with = "weir_core::schema::HumanDuration")]
    pub idle_timeout: Duration,
    /// What happens to data over the limit. Default: `drop`.
    #[serde(default)]
    pub on_excess: OnExcess,
}

/// What a token stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// One log record, span or metric data point.
    #[default]
    Items,
    /// One byte of the OTLP protobuf encoding.
    Bytes,
    /// One batch (one per key part when a batch is split by key).
    Batches,
}

/// What the buckets are keyed on: exactly one of `resource_attribute`,
/// `record_attribute` or `client`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(try_from = "KeyFields")]
pub enum KeySpec {
    /// An attribute of the resource, e.g. `service.name`.
    ResourceAttribute(String),
    /// An attribute of each log record or span, e.g. `tenant`.
    RecordAttribute(String),
    /// Client metadata the receiver saw.
    Client(ClientField),
}

/// The YAML shape of [`KeySpec`].
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("minProperties" = 1, "maxProperties" = 1))]
struct KeyFields {
    /// A resource attribute, e.g. `service.name`.
    #[serde(default)]
    resource_attribute: Option<String>,
    /// An attribute of each log record or span, e.g. `tenant`.
    #[serde(default)]
    record_attribute: Option<String>,
    /// Client metadata the receiver saw: `subject`, the authenticated
    /// subject (the API-key alias of the `http` and `otlp` receivers).
    #[serde(default)]
    client: Option<ClientField>,
}

impl TryFrom<KeyFields> for KeySpec {
    type Error = String;
    fn try_from(f: KeyFields) -> Result<Self, String> {
        match (f.resource_attribute, f.record_attribute, f.client) {
            (Some(a), None, None) => Ok(KeySpec::ResourceAttribute(a)),
            (None, Some(a), None) => Ok(KeySpec::RecordAttribute(a)),
            (None, None, Some(c)) => Ok(KeySpec::Client(c)),
            _ => Err(
                "expected exactly one of `resource_attribute`, `record_attribute` \
                      or `client`"
                    .to_string(),
            ),
        }
    }
}

/// Which client metadata a key uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientField {
    /// The authenticated subject (the API-key alias).
    Subject,
}

/// What happens to data over the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnExcess {
    /// Drop it, counted as `weir_processor_dropped_items_total{reason="rate_limited"}`.
    #[default]
    Drop,
    /// Hold it until its tokens are there: the pipeline slows down and upstream
    /// feels backpressure; nothing is lost.
    Delay,
}

fn default_max_keys() -> usize {
    10_000
}

fn default_idle_timeout() -> Duration {
    Duration::from_secs(300)
}

impl RateLimitConfig {
    /// Parses and checks a component config.
    pub fn from_component(cfg: &ComponentConfig) -> Result<Self, ConfigError> {
        let config: RateLimitConfig = cfg.parse()?;
        if !(config.rate.is_finite() && config.rate > 0.0) {
            return Err(ConfigError::at("rate", "must be a number above 0"));
        }
        if let Some(b) = config.burst
            && !(b.is_finite() && b > 0.0)
        {
            return Err(ConfigError::at("burst", "must be a number above 0"));
        }
        if config.max_keys == 0 {
            return Err(ConfigError::at("max_keys", "must be at least 1"));
        }
        if config.idle_timeout.is_zero() {
            return Err(ConfigError::at("idle_timeout", "must be above 0"));
        }
        match &config.key {
            Some(KeySpec::ResourceAttribute(a)) if a.is_empty() => Err(ConfigError::at(
                "key.resource_attribute",
                "must name an attribute",
            )),
            Some(KeySpec::RecordAttribute(a)) if a.is_empty() => Err(ConfigError::at(
                "key.record_attribute",
                "must name an attribute",
            )),
            _ => Ok(config),
        }
    }

    /// The bucket size in effect.
    pub fn burst(&self) -> f64 {
        self.burst.unwrap_or(self.rate)
    }
}
