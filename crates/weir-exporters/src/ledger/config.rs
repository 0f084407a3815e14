//! The `ledger` exporter's configuration.

use std::fmt;
use std::time::Duration;

use reqwest::Url;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use weir_core::{ComponentConfig, ConfigError};

/// Sends log records to [Ledger](reference/ledger-api.md)'s v1 ingest API, doing
/// the job of Ledger's Python SDK for every app that sends telemetry to weir, and
/// keeping what that SDK loses: a batch that fails is never dropped.
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
///
/// **Mapping.** Each record becomes a LogEntry per the contract (the inverse of
/// the `http` receiver's mapping, so Ledger → weir → Ledger keeps every field):
/// time (observed time if unset) as RFC 3339 UTC; level from the severity number
/// (1-8 debug, 9-12 info, 13-16 warning, 17-20 error, 21-24 critical), else the
/// severity text, else info; the body as `message` (structured bodies as JSON);
/// `exception.type`/`.message`/`.stacktrace` as `error_type`/`error_message`/`stack_trace`
/// with `log_type: exception`; `deployment.environment.name` (or
/// `deployment.environment`) as `environment`, `service.version` as `release`,
/// record or resource; `ledger.*` attributes back to their fields; the resource's
/// and the record's other attributes (the record's win) in `attributes`, with
/// `trace_id`/`span_id` as lower-case hex. Fields used for a top-level field are
/// not repeated in `attributes`.
///
/// **Fitted before sending**, so the server has no reason to refuse an entry
/// (`weir_ledger::fit`, limits from the settings): a field over its limit in
/// characters is cut to it, ending in `... [truncated]` (limits under 30
/// characters are cut plainly); `attributes` over `max_attributes_size_bytes` as
/// Python's `json.dumps` counts it lose their largest members first; either sets
/// `attributes._truncated: true` and counts on
/// `weir_exporter_ledger_truncated_items_total`. A timestamp more than 5 minutes
/// ahead becomes now (the original kept in `_original_timestamp`); an
/// `exception` without `error_type`/`error_message` gets `Error` / the message;
/// an `endpoint` without its four fields becomes `logger`.
///
/// **Answers**, per the contract's table:
///
/// | answer | weir |
/// |---|---|
/// | 202 | `accepted` counted as sent, `rejected` as failed (`partial_rejected`), the reasons logged at most every 10 s |
/// | 400, 422, other 4xx | permanent: the request's records are counted as failed and logged as an error (a bug, since entries are fitted first) |
/// | 401 | sending stops, data stays queued, `/readyz` names the exporter; the key is probed every `probe_interval` and sending resumes when it works |
/// | 402 | pause until `quotas.quota_reset_at` (settings read again), else the next UTC midnight; data kept |
/// | 429 | every request waits `Retry-After` (60 s without one), and the request share tightens by a fifth (back by 5% every 100 requests without a 429) |
/// | 503 | every request waits `Retry-After`; without one it counts toward the breaker |
/// | 5xx, timeouts, connection errors | retried with backoff; the breaker opens after `failures` in a row |
///
/// **Rate limit.** Requests stay under `rate_limit_ratio` of the per-minute and
/// per-hour limits over sliding windows, counted 2% + 100 ms longer than the
/// server's, so that jitter between leaving and arriving never puts one request
/// too many in the server's window.
///
/// **Batches and order.** A batch is sent as requests of at most the batch size
/// (put `adaptive_batch` with `max_items: 1000` in front to fill them). Once part
/// of a batch is delivered, a failed request of the rest is retried here, never
/// the whole batch, so nothing is sent twice. With `ordered: true`, the exports
/// the harness runs at once (`max_in_flight`, default 4) encode in parallel but
/// send one request at a time in queue order, a failed request retried in its
/// turn: batches reach Ledger in the order they were queued, outages included.
/// Ledger's default limit (1000 requests a minute) is far below what one
/// connection carries. `ordered: false` sends concurrently; a failed batch is
/// then retried by the harness, after later ones.
///
/// Connections are pooled and kept alive (reqwest, rustls with ring; HTTP/2 when
/// the server offers it over TLS). Series: `weir_exporter_ledger_*` in
/// [telemetry.md](telemetry.md), plus the harness's (records queued, sent,
/// failed by reason, retries, send duration).
#[derive(Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LedgerConfig {
    /// Base URL of the Ledger server; routes are under `/api/v1/`.
    pub endpoint: String,
    /// The project's API key, sent as `Authorization: Bearer`; write it as
    /// `${env:LEDGER_API_KEY}`. Never logged or shown (`[redacted]`); a key
    /// without the `ledger_` prefix is warned about.
    pub api_key: String,
    /// Request body compression: `gzip` (level 1) or `none`; Ledger takes gzip
    /// whatever its `features.compression` says. Default: `gzip`.
    #[serde(default)]
    pub compression: Compression,
    /// Time for one request, connection included. Default: `30s`.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    #[schemars(with = "weir_core::schema::HumanDuration")]
    pub timeout: Duration,
    /// Most logs in one request (1 to 1000); the server's `max_batch_size`
    /// caps it. Default: `1000`.
    #[serde(default = "default_max_batch_size")]
    pub max_batch_size: usize,
    /// Share of the key's per-minute and per-hour request limits that weir
    /// uses, leaving room for other clients of the key; more than 0, at most 1.
    /// Default: `0.9`.
    #[serde(default = "default_ratio")]
    pub rate_limit_ratio: f64,
    /// Read `GET /api/v1/settings` at the first export, every
    /// `settings_refresh` and after a 402, and adopt its batch size, rate
    /// limits and field limits; when it fails (or this is off), the
    /// documented defaults are used. Default: `true`.
    #[serde(default = "yes")]
    pub fetch_settings: bool,
    /// How often the settings are read again. Default: `5m`.
    #[serde(default = "default_refresh", with = "humantime_serde")]
    #[schemars(with = "weir_core::schema::HumanDuration")]
    pub settings_refresh: Duration,
    /// After a 401, how often the key is tried again (`GET /api/v1/settings`)
    /// while sending stays stopped. Default: `30s`.
    #[serde(default = "default_probe", with = "humantime_serde")]
    #[schemars(with = "weir_core::schema::HumanDuration")]
    pub probe_interval: Duration,
    /// Stops sending for `open_for` after `failures` failed requests in a row
    /// (5xx, 503 without `Retry-After`, timeouts, connection errors).
    #[serde(default)]
    pub circuit_breaker: BreakerConfig,
    /// Deliver in queue order (see "Batches and order"): exports (up to the
    /// harness's `max_in_flight`) encode in parallel but send one request at
    /// a time, in turn, retrying a failed request in its turn. `false`:
    /// requests go out concurrently and a failed batch is retried by the
    /// harness, after later ones.
    /// Default: `true` (Ledger's own request limit, 1000 a minute, is far
    /// below what one connection carries).
    #[serde(default = "yes")]
    pub ordered: bool,
}

/// Request body compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// `Content-Encoding: gzip` (Ledger accepts it, whatever its settings say).
    #[default]
    Gzip,
    /// Plain JSON.
    None,
}

/// The circuit breaker's settings.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakerConfig {
    /// Failed requests in a row that open it. Default: `5`.
    #[serde(default = "default_failures")]
    pub failures: u32,
    /// How long it stays open before one request is let through. Default: `30s`.
    #[serde(default = "default_open_for", with = "humantime_serde")]
    #[schemars(with = "weir_core::schema::HumanDuration")]
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
