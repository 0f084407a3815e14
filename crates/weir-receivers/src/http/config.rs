//! The `http` receiver's configuration.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;
use weir_core::{ByteSize, ComponentConfig, ConfigError};

use crate::net::parse_endpoint;
pub use crate::net::tls::TlsConfig;

/// Configuration of the `http` receiver.
///
/// ```yaml
/// receivers:
///   http:
///     endpoint: 127.0.0.1:8080
///     path: /v1/json
///     api_keys: ["${env:LEDGER_API_KEY}"]
///     max_request_bytes: 10MiB
///     backpressure_timeout: 5s
///     acknowledgements: true
///     ledger:
///       enabled: true
///       settings: { rate_limits: { requests_per_minute: 6000 } }
/// ```
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Address to listen on (`host:port`, host an IP or `localhost`).
    /// Default: `127.0.0.1:8080`.
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// Path of the generic JSON endpoint (`POST`). Default: `/v1/json`.
    #[serde(default = "default_path")]
    pub path: String,
    /// Keys accepted as `Authorization: Bearer <key>` or `X-API-Key: <key>`,
    /// on every route; write them as `${env:VAR}`. Empty: no authentication.
    /// A batch carries an alias of its key (`tok-` and 8 hex digits of its
    /// SHA-256), never the key. Default: empty.
    #[serde(default)]
    pub api_keys: Vec<String>,
    /// Largest body accepted, counted after decompression (a gzip body is cut
    /// off at this size while it is decompressed). Default: `10MiB`.
    #[serde(default = "default_max_request_bytes")]
    pub max_request_bytes: ByteSize,
    /// How long a request waits for room in a full pipeline before it gets
    /// 503 with `Retry-After`. Default: `5s`.
    #[serde(default = "default_backpressure_timeout", with = "humantime_serde")]
    pub backpressure_timeout: Duration,
    /// Answer each request only once its records are delivered by every
    /// exporter of their pipelines (or safe in a disk queue), instead of once
    /// they are in the pipeline. Records an exporter gives up on (a permanent
    /// error, retries exhausted, a full `drop_*` queue, shutdown) are answered
    /// 503 with `Retry-After`, so the client sends them again. Default: `false`.
    #[serde(default)]
    pub acknowledgements: bool,
    /// With `acknowledgements`, how long a request waits for its records to
    /// be delivered before it is answered 503 with `Retry-After` (they may
    /// still arrive: a retry can make duplicates). Default: `30s`.
    #[serde(default = "default_acknowledgement_timeout", with = "humantime_serde")]
    pub acknowledgement_timeout: Duration,
    /// The Ledger-compatible routes under `/api/v1/`. Default: on.
    #[serde(default)]
    pub ledger: LedgerRoutes,
    /// TLS. Default: none (plain TCP).
    #[serde(default)]
    pub tls: Option<TlsConfig>,
}

/// The Ledger-compatible routes (`POST /api/v1/ingest/batch`, `/single`,
/// `/spans/batch`, `GET /api/v1/settings`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerRoutes {
    /// Serve them. Default: `true`.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// What `GET /api/v1/settings` answers, over Ledger's defaults (any part
    /// of Ledger's settings document; the rest keeps its default). The
    /// constraints here are also what the routes validate against.
    #[serde(default)]
    pub settings: weir_ledger::settings::Settings,
}

impl Default for LedgerRoutes {
    fn default() -> Self {
        LedgerRoutes {
            enabled: true,
            settings: Default::default(),
        }
    }
}

// Keys are secrets: a config printed in a log or an error must not show them.
impl fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpConfig")
            .field("endpoint", &self.endpoint)
            .field("path", &self.path)
            .field(
                "api_keys",
                &format_args!("[{} redacted]", self.api_keys.len()),
            )
            .field("max_request_bytes", &self.max_request_bytes)
            .field("backpressure_timeout", &self.backpressure_timeout)
            .field("acknowledgements", &self.acknowledgements)
            .field("acknowledgement_timeout", &self.acknowledgement_timeout)
            .field("ledger", &self.ledger)
            .field("tls", &self.tls)
            .finish()
    }
}

fn yes() -> bool {
    true
}

fn default_endpoint() -> String {
    "127.0.0.1:8080".into()
}

fn default_path() -> String {
    "/v1/json".into()
}

fn default_max_request_bytes() -> ByteSize {
    ByteSize::mib(10)
}

fn default_backpressure_timeout() -> Duration {
    Duration::from_secs(5)
}

fn default_acknowledgement_timeout() -> Duration {
    Duration::from_secs(30)
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            endpoint: default_endpoint(),
            path: default_path(),
            api_keys: Vec::new(),
            max_request_bytes: default_max_request_bytes(),
            backpressure_timeout: default_backpressure_timeout(),
            acknowledgements: false,
            acknowledgement_timeout: default_acknowledgement_timeout(),
            ledger: LedgerRoutes::default(),
            tls: None,
        }
    }
}

impl HttpConfig {
    /// Parses and checks a component config.
    pub fn from_component(cfg: &ComponentConfig) -> Result<Self, ConfigError> {
        let config: HttpConfig = cfg.parse()?;
        config.address()?;
        Ok(config)
    }

    /// Checks the settings and gives the address to listen on.
    pub(crate) fn address(&self) -> Result<SocketAddr, ConfigError> {
        let addr = parse_endpoint(&self.endpoint, "endpoint")?;
        if !self.path.starts_with('/') {
            return Err(ConfigError::at(
                "path",
                format!("`{}` must start with `/`", self.path),
            ));
        }
        if self.ledger.enabled && self.path.starts_with("/api/v1/") {
            return Err(ConfigError::at(
                "path",
                "`/api/v1/` is where the Ledger routes are; pick another path or turn `ledger.enabled` off",
            ));
        }
        if let Some(i) = self.api_keys.iter().position(|k| k.trim().is_empty()) {
            return Err(ConfigError::at(
                format!("api_keys[{i}]"),
                "is empty (is its environment variable set?)",
            ));
        }
        if self.max_request_bytes.bytes() == 0 {
            return Err(ConfigError::at(
                "max_request_bytes",
                "must be at least 1 byte",
            ));
        }
        if self.acknowledgements && self.acknowledgement_timeout.is_zero() {
            return Err(ConfigError::at(
                "acknowledgement_timeout",
                "must be more than 0 (a request would never wait for its records)",
            ));
        }
        Ok(addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<HttpConfig, ConfigError> {
        HttpConfig::from_component(&ComponentConfig::from_yaml(yaml).unwrap())
    }

    #[test]
    fn defaults() {
        let c = parse("{}").unwrap();
        assert_eq!(c, HttpConfig::default());
        assert_eq!(c.address().unwrap().to_string(), "127.0.0.1:8080");
        assert!(c.ledger.enabled);
    }

    #[test]
    fn bad_settings_are_named() {
        for (yaml, path) in [
            ("endpoint: nowhere", "endpoint"),
            ("path: v1/json", "path"),
            ("path: /api/v1/mine", "path"),
            ("api_keys: ['a', ' ']", "api_keys[1]"),
            ("max_request_bytes: 0", "max_request_bytes"),
            (
                "acknowledgements: true\nacknowledgement_timeout: 0s",
                "acknowledgement_timeout",
            ),
        ] {
            let err = parse(yaml).unwrap_err().to_string();
            assert!(err.contains(path), "{yaml}: {err}");
        }
        assert!(parse("path: /api/v1/mine\nledger: { enabled: false }").is_ok());
        assert!(parse("bogus: 1").is_err());
    }

    #[test]
    fn keys_never_show_in_debug_output() {
        let c = parse("api_keys: ['ledger_s3cret']").unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("1 redacted"));
    }
}
