//! The `ledger` exporter's configuration.

use std::fmt;
use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;
use weir_core::{ComponentConfig, ConfigError};

/// Configuration of the `ledger` exporter (plus the harness's `queue`,
/// `retry` and `max_in_flight`, which the runtime takes out first).
///
/// ```yaml
/// exporters:
///   ledger:
///     endpoint: https://ledger-server.jtuta.cloud
///     api_key: ${env:LEDGER_API_KEY}
///     compression: gzip
///     timeout: 30s
///     max_batch_size: 1000
///     rate_limit_ratio: 0.9
///     fetch_settings: true
///     settings_refresh: 5m
///     probe_interval: 30s
///     circuit_breaker: { failures: 5, open_for: 30s }
///     ordered: true
/// ```
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerConfig {
    /// Base URL of the Ledger server; routes are under `/api/v1`. Required.
    pub endpoint: String,
    /// The project's API key, sent as `Authorization: Bearer`; write it as
    /// `${env:LEDGER_API_KEY}`. Never logged. Required.
    pub api_key: String,
    /// Request body compression: `gzip` (default) or `none`.
    #[serde(default)]
    pub compression: Compression,
    /// Time for one request, connection included. Default: `30s`.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Most logs in one request; capped by the server's `max_batch_size`.
    /// Default: `1000`.
    #[serde(default = "default_max_batch_size")]
    pub max_batch_size: usize,
    /// Share of the server's per-minute and per-hour request limits that weir
    /// uses, leaving room for other clients of the key. Default: `0.9`.
    #[serde(default = "default_ratio")]
    pub rate_limit_ratio: f64,
    /// Read `GET /api/v1/settings` at start (and after a 402, and every
    /// `settings_refresh`) to adopt the server's limits; off, the documented
    /// defaults are used. Default: `true`.
    #[serde(default = "yes")]
    pub fetch_settings: bool,
    /// How often the settings are read again. Default: `5m`.
    #[serde(default = "default_refresh", with = "humantime_serde")]
    pub settings_refresh: Duration,
    /// After a 401, how often the key is tried again (`GET /api/v1/settings`)
    /// while sending stays stopped. Default: `30s`.
    #[serde(default = "default_probe", with = "humantime_serde")]
    pub probe_interval: Duration,
    /// Stops sending for `open_for` after `failures` failed requests in a
    /// row (5xx, timeouts, connection errors). Default: 5 and `30s`.
    #[serde(default)]
    pub circuit_breaker: BreakerConfig,
    /// Deliver in queue order: exports (up to the harness's `max_in_flight`)
    /// encode in parallel but send one request at a time, in turn, retrying
    /// a failed request in its turn. `false`: requests go out concurrently
    /// and a failed batch is retried by the harness, after later ones.
    /// Default: `true` (Ledger's own request limit, 1000 a minute, is far
    /// below what one connection carries).
    #[serde(default = "yes")]
    pub ordered: bool,
}

/// Request body compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// `Content-Encoding: gzip` (Ledger accepts it, whatever its settings say).
    #[default]
    Gzip,
    /// Plain JSON.
    None,
}

/// The circuit breaker's settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerConfig {
    /// Failed requests in a row that open it. Default: `5`.
    #[serde(default = "default_failures")]
    pub failures: u32,
    /// How long it stays open before one request is let through. Default: `30s`.
    #[serde(default = "default_open_for", with = "humantime_serde")]
    pub open_for: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failures: default_failures(),
            open_for: default_open_for(),
        }
    }
}

fn yes() -> bool {
    true
}
fn default_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_max_batch_size() -> usize {
    1000
}
fn default_ratio() -> f64 {
    0.9
}
fn default_refresh() -> Duration {
    Duration::from_secs(300)
}
fn default_probe() -> Duration {
    Duration::from_secs(30)
}
fn default_failures() -> u32 {
    5
}
fn default_open_for() -> Duration {
    Duration::from_secs(30)
}

// The key is a secret: a config printed in a log or an error must not show it.
impl fmt::Debug for LedgerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LedgerConfig")
            .field("endpoint", &self.endpoint)
            .field("api_key", &"[redacted]")
            .field("compression", &self.compression)
            .field("timeout", &self.timeout)
            .field("max_batch_size", &self.max_batch_size)
            .field("rate_limit_ratio", &self.rate_limit_ratio)
            .field("fetch_settings", &self.fetch_settings)
            .field("settings_refresh", &self.settings_refresh)
            .field("probe_interval", &self.probe_interval)
            .field("circuit_breaker", &self.circuit_breaker)
            .field("ordered", &self.ordered)
            .finish()
    }
}

impl LedgerConfig {
    /// Parses and checks a component config; gives the `/api/v1/` base URL.
    pub fn from_component(cfg: &ComponentConfig) -> Result<(Self, Url), ConfigError> {
        let config: LedgerConfig = cfg.parse()?;
        let base = config.check()?;
        Ok((config, base))
    }

    fn check(&self) -> Result<Url, ConfigError> {
        let mut url = Url::parse(&self.endpoint).map_err(|e| {
            ConfigError::at("endpoint", format!("`{}` is not a URL: {e}", self.endpoint))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::at(
                "endpoint",
                "use an http:// or https:// URL",
            ));
        }
        let trimmed = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!("{trimmed}/api/v1/"));
        if self.api_key.trim().is_empty() {
            return Err(ConfigError::at(
                "api_key",
                "is empty (is LEDGER_API_KEY set?)",
            ));
        }
        if !self.api_key.starts_with("ledger_") {
            tracing::warn!("ledger exporter: the API key does not start with `ledger_`");
        }
        if self.max_batch_size == 0 || self.max_batch_size > 1000 {
            return Err(ConfigError::at(
                "max_batch_size",
                "must be 1 to 1000 (Ledger takes at most 1000 logs a request)",
            ));
        }
        if !(self.rate_limit_ratio > 0.0 && self.rate_limit_ratio <= 1.0) {
            return Err(ConfigError::at(
                "rate_limit_ratio",
                "must be more than 0 and at most 1",
            ));
        }
        if self.timeout.is_zero() {
            return Err(ConfigError::at("timeout", "must be more than 0"));
        }
        if self.circuit_breaker.failures == 0 {
            return Err(ConfigError::at(
                "circuit_breaker.failures",
                "must be at least 1",
            ));
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<(LedgerConfig, Url), ConfigError> {
        LedgerConfig::from_component(&ComponentConfig::from_yaml(yaml).unwrap())
    }

    #[test]
    fn defaults_and_base_url() {
        let (c, url) = parse("{ endpoint: 'http://127.0.0.1:8000', api_key: ledger_x }").unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:8000/api/v1/");
        assert_eq!(c.compression, Compression::Gzip);
        assert_eq!((c.max_batch_size, c.rate_limit_ratio), (1000, 0.9));
        assert!(c.fetch_settings);
        let (_, url) = parse("{ endpoint: 'https://h.example/ledger/', api_key: k }").unwrap();
        assert_eq!(url.as_str(), "https://h.example/ledger/api/v1/");
    }

    #[test]
    fn bad_settings_are_named() {
        for (yaml, path) in [
            ("{ endpoint: 'nope', api_key: k }", "endpoint"),
            ("{ endpoint: 'ftp://h', api_key: k }", "endpoint"),
            ("{ endpoint: 'http://h', api_key: '' }", "api_key"),
            (
                "{ endpoint: 'http://h', api_key: k, max_batch_size: 1001 }",
                "max_batch_size",
            ),
            (
                "{ endpoint: 'http://h', api_key: k, rate_limit_ratio: 0 }",
                "rate_limit_ratio",
            ),
            (
                "{ endpoint: 'http://h', api_key: k, compression: br }",
                "compression",
            ),
        ] {
            let err = parse(yaml).unwrap_err().to_string();
            assert!(err.contains(path), "{yaml}: {err}");
        }
    }

    #[test]
    fn the_key_never_shows() {
        let (c, _) = parse("{ endpoint: 'http://h', api_key: ledger_s3cret }").unwrap();
        assert!(!format!("{c:?}").contains("s3cret"));
    }
}
