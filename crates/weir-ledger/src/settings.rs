//! `GET /api/v1/settings`: the project's limits as Ledger reports them.
//!
//! Every field has a default, so a partial or older answer still parses, and
//! [`Settings::default`] is what a client falls back to when the request
//! fails: the contract's documented defaults (1000 requests/min, 50000/h, a
//! daily quota of 100000, 1000 logs per batch, the gateway's field limits).
//! Unknown fields are ignored, so a newer server does not break the parse.

use serde::{Deserialize, Serialize};

use crate::entry::{Importance, Level, LogType, Names, limits};
use crate::timestamp::Timestamp;

/// The whole settings answer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The project the API key belongs to.
    pub project_id: i64,
    /// Its display name.
    pub project_name: String,
    /// Its slug.
    pub project_slug: String,
    /// The project's environment.
    pub environment: String,
    /// Request rate limits per key.
    pub rate_limits: RateLimits,
    /// The daily log quota.
    pub quotas: Quotas,
    /// Batch and field limits.
    pub constraints: Constraints,
    /// Feature flags.
    pub features: Features,
    /// Server version and clock.
    pub server_info: ServerInfo,
}

/// Requests allowed per API key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimits {
    /// Default 1000.
    pub requests_per_minute: u32,
    /// Default 50000.
    pub requests_per_hour: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            requests_per_minute: 1_000,
            requests_per_hour: 50_000,
        }
    }
}

/// The daily log quota and its use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Quotas {
    /// Logs per day; default 100000 (a self-hosted server's default).
    pub daily_quota: u64,
    /// Logs taken today.
    pub daily_usage: u64,
    /// Logs left today.
    pub quota_remaining: u64,
    /// When the quota resets, as the server wrote it (ISO 8601). Kept as text
    /// so an unexpected format cannot fail the whole answer; see
    /// [`Quotas::reset_at`].
    pub quota_reset_at: Option<String>,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            daily_quota: 100_000,
            daily_usage: 0,
            quota_remaining: 100_000,
            quota_reset_at: None,
        }
    }
}

impl Quotas {
    /// `quota_reset_at` parsed (as pydantic would read it), if present and valid.
    pub fn reset_at(&self) -> Option<Timestamp> {
        self.quota_reset_at
            .as_deref()
            .and_then(|s| Timestamp::parse(s).ok())
    }
}

/// Batch and field limits (lengths in characters, attributes in bytes of
/// `json.dumps`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Constraints {
    /// Default 1000.
    pub max_batch_size: usize,
    /// Default 10000.
    pub max_message_length: usize,
    /// Default 5000.
    pub max_error_message_length: usize,
    /// Default 50000.
    pub max_stack_trace_length: usize,
    /// Default 100000.
    pub max_attributes_size_bytes: usize,
    /// Default 20.
    pub max_environment_length: usize,
    /// Default 100.
    pub max_release_length: usize,
    /// Default 20.
    pub max_sdk_version_length: usize,
    /// Default 50.
    pub max_platform_length: usize,
    /// Default 50.
    pub max_platform_version_length: usize,
    /// Default 255.
    pub max_error_type_length: usize,
    /// Default `debug`, `info`, `warning`, `error`, `critical`.
    pub supported_log_levels: Vec<String>,
    /// Default: the seven types the gateway accepts, `network` included.
    pub supported_log_types: Vec<String>,
    /// Default `critical`, `high`, `standard`, `low`.
    pub supported_importance_levels: Vec<String>,
}

fn names<T: Names>() -> Vec<String> {
    T::ALL.iter().map(|(n, _)| (*n).to_owned()).collect()
}

impl Default for Constraints {
    fn default() -> Self {
        Constraints {
            max_batch_size: limits::BATCH,
            max_message_length: limits::MESSAGE,
            max_error_message_length: limits::ERROR_MESSAGE,
            max_stack_trace_length: limits::STACK_TRACE,
            max_attributes_size_bytes: limits::ATTRIBUTES_BYTES,
            max_environment_length: limits::ENVIRONMENT,
            max_release_length: limits::RELEASE,
            max_sdk_version_length: limits::SDK_VERSION,
            max_platform_length: limits::PLATFORM,
            max_platform_version_length: limits::PLATFORM_VERSION,
            max_error_type_length: limits::ERROR_TYPE,
            supported_log_levels: names::<Level>(),
            supported_log_types: names::<LogType>(),
            supported_importance_levels: names::<Importance>(),
        }
    }
}

/// Feature flags. `compression` is known to say `false` while the server
/// accepts gzip: do not rely on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Features {
    /// Default `true`.
    pub batch_ingestion: bool,
    /// Default `false` (what the real server reports).
    pub compression: bool,
    /// Default `false`.
    pub streaming: bool,
    /// Default `true`.
    pub endpoint_monitoring: bool,
}

impl Default for Features {
    fn default() -> Self {
        Features {
            batch_ingestion: true,
            compression: false,
            streaming: false,
            endpoint_monitoring: true,
        }
    }
}

/// The server's version and clock.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerInfo {
    /// Server version; empty when unknown.
    pub version: String,
    /// The server's time when it answered (ISO 8601), if given.
    pub timestamp: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let s = Settings::default();
        assert_eq!(s.rate_limits.requests_per_minute, 1000);
        assert_eq!(s.rate_limits.requests_per_hour, 50_000);
        assert_eq!(s.quotas.daily_quota, 100_000);
        assert_eq!(s.constraints.max_batch_size, 1000);
        assert_eq!(s.constraints.max_message_length, 10_000);
        assert_eq!(s.constraints.max_error_type_length, 255);
        assert_eq!(s.constraints.max_attributes_size_bytes, 100_000);
        assert_eq!(
            s.constraints.supported_log_levels,
            ["debug", "info", "warning", "error", "critical"]
        );
        assert!(
            s.constraints
                .supported_log_types
                .iter()
                .any(|t| t == "network")
        );
        assert_eq!(
            s.constraints.supported_importance_levels,
            ["critical", "high", "standard", "low"]
        );
    }

    #[test]
    fn partial_answer_parses_over_defaults() {
        let body = r#"{"project_id": 7, "rate_limits": {"requests_per_minute": 60},
            "quotas": {"daily_usage": 5, "quota_reset_at": "2025-01-16T00:00:00Z"},
            "features": {"compression": true}, "something_new": [1]}"#;
        let s: Settings = serde_json::from_str(body).unwrap();
        assert_eq!(s.project_id, 7);
        assert_eq!(s.rate_limits.requests_per_minute, 60);
        assert_eq!(s.rate_limits.requests_per_hour, 50_000);
        assert_eq!(s.quotas.daily_usage, 5);
        assert_eq!(s.quotas.daily_quota, 100_000);
        assert_eq!(
            s.quotas.reset_at().unwrap().to_string(),
            "2025-01-16T00:00:00Z"
        );
        assert!(s.features.compression);
        assert!(s.features.batch_ingestion);
        assert_eq!(s.constraints, Constraints::default());
        let empty: Settings = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, Settings::default());
    }

    #[test]
    fn round_trips() {
        let s = Settings::default();
        let back: Settings = serde_json::from_slice(&serde_json::to_vec(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }
}
