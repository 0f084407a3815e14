//! The `http` receiver's configuration.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use weir_core::{ByteSize, ComponentConfig, ConfigError};

use crate::net::parse_endpoint;
pub use crate::net::tls::TlsConfig;

/// JSON logs over HTTP for apps that cannot speak OTLP, and a drop-in endpoint for
/// apps that use the Ledger SDK: point the SDK's base URL at weir and change
/// nothing else. One listener serves both.
///
/// ```yaml
/// receivers:
///   http:
///     endpoint: 127.0.0.1:8080
///     path: /v1/json
///     api_keys: ["${env:LEDGER_API_KEY}"]
///     max_request_bytes: 10MiB
///     backpressure_timeout: 5s
///     ledger:
///       enabled: true
///       settings: { rate_limits: { requests_per_minute: 6000 } }
///     tls: { cert_file: /etc/weir/cert.pem, key_file: /etc/weir/key.pem }
/// ```
///
/// **Generic JSON.** `POST <path>` with `Content-Type: application/json` takes one
/// JSON object (one record), an array of objects, or the wrapper
/// `{"resource": {...}, "logs": [...]}` (an object whose only keys are `logs`, an
/// array, and optionally `resource`, an object; its `resource` becomes the batch's
/// resource attributes). `application/x-ndjson` (also `application/ndjson`,
/// `application/jsonl`, `application/x-jsonlines`) takes one object a line; blank
/// lines are skipped. Each object maps exactly as a [`stdin`](#stdin-logs) JSON
/// line does (its table; the same code), from the bytes without an intermediate
/// JSON tree. The answer is `200 {"accepted": N}`. A body with a bad record is
/// refused whole (a retry never duplicates the good ones): `400 {"error": "record
/// 2: ...", "index": 2}` for a JSON array, `{"error": "line 7: ...", "line": 7}`
/// for NDJSON.
///
/// **Ledger routes.** Ledger's v1 ingest API
/// ([contract](reference/ledger-api.md), vendored from the team's shared docs;
/// validation in `crates/weir-ledger`, which the `ledger` exporter shares):
///
/// | route | answer |
/// |---|---|
/// | `POST /api/v1/ingest/batch` `{"logs": [LogEntry, ...]}` | 202 `{"accepted", "rejected", "message", "errors"}` |
/// | `POST /api/v1/ingest/single` `LogEntry` | 202, the same shape |
/// | `POST /api/v1/ingest/spans/batch` `{"spans": [...]}` | 202 `{"accepted", "rejected"}`; spans go to traces pipelines |
/// | `GET /api/v1/settings` | 200, `ledger.settings` over Ledger's defaults |
/// | any other `/api/v1/...` path | 404 `{"detail": "Not Found"}`; a wrong method 405 `{"detail": "Method Not Allowed"}` |
///
/// Requests are validated in Ledger's two layers. Schema errors (a bad `level`,
/// `log_type` or `importance`, a field over its length in characters, a missing
/// `timestamp`, 0 or more than 1000 logs, not JSON) refuse the whole request with
/// FastAPI's `422 {"detail": [{"type", "loc", "msg", "input", "ctx"}, ...]}`, every
/// error listed. Then each log gets Ledger's ingestion checks, and a failing one is
/// rejected inside the 202 with `"Log <index>: <reason>"` (0-based): a timestamp
/// more than 5 minutes ahead, `attributes` over 100,000 bytes as Python's
/// `json.dumps` writes them, `log_type: exception` without `error_type` or
/// `error_message`, `log_type: endpoint` without `attributes.endpoint` and its
/// `method`, `path`, `status_code`, `duration_ms`. Spans with bad ids, a start more
/// than 5 minutes ahead or a duration outside 0 to 24 h are rejected the same way.
/// `log_type` also takes `network`, as Ledger's server does. The ingest routes
/// keep the request limits `GET /api/v1/settings` advertises
/// (`ledger.settings.rate_limits`, by default Ledger's 1000 a minute and 50,000
/// an hour), per key over sliding windows as Ledger does: over them, 429
/// `{"detail": "Rate limit exceeded: ..."}` with `Retry-After` (60, or 3600 for
/// the hourly limit); every ingest answer carries `X-RateLimit-Limit-Minute`,
/// `X-RateLimit-Remaining-Minute`, `X-RateLimit-Limit-Hour`,
/// `X-RateLimit-Remaining-Hour`. A 401 is `{"detail": ...}` with
/// `WWW-Authenticate: Bearer`; bad gzip is 400; a full pipeline 503 +
/// `Retry-After: 1`.
///
/// A LogEntry becomes an OTLP log record (the inverse of the `ledger` exporter's
/// mapping, so Ledger → weir → Ledger keeps every field): `timestamp` → time,
/// `level` → severity (debug 5, info 9, warning 13, error 17, critical 21, text
/// the level), `message` → body, `attributes` → attributes (typed, nested objects
/// as maps) with a valid `trace_id`/`span_id` moved to the record's ids,
/// `error_type`/`error_message`/`stack_trace` → `exception.type`/`.message`/`.stacktrace`,
/// `environment` → `deployment.environment.name`, `release` → `service.version`,
/// and `sdk_version`, `platform`, `platform_version`, a non-default `importance`
/// and a `log_type` that cannot be inferred → `ledger.*` attributes. The scope is
/// `ledger`. Ledger spans become OTLP spans, one resource per `service_name`, with
/// Ledger's kind numbering (server 0, client 1, internal 2, producer 3, consumer 4)
/// turned into OTLP's.
///
/// **Answers on both.**
///
/// | status | when |
/// |---|---|
/// | 200 / 202 | taken (202 on the Ledger routes) |
/// | 400 | a bad record (generic), bad gzip, an unreadable body |
/// | 401 + `WWW-Authenticate: Bearer` | `api_keys` set and the key missing or unknown |
/// | 404 | unknown path, or no pipeline takes the signal |
/// | 405 + `Allow` | wrong method |
/// | 413 | over `max_request_bytes`, declared, read or inflated |
/// | 415 | another content type (generic), an unknown `Content-Encoding` |
/// | 422 | Ledger schema errors (Ledger routes) |
/// | 429 + `Retry-After` | over the advertised per-key request limits (Ledger routes) |
/// | 503 + `Retry-After: 1` | the pipeline stayed full for `backpressure_timeout`, or weir is stopping, or the process is over `service.memory_limit` (nothing read), or (with `acknowledgements`) the records were not delivered |
///
/// Error bodies are JSON with a readable reason; after any refusal the server goes
/// on serving. Refused bodies and Ledger-rejected logs count on
/// `weir_receiver_refused_items_total{reason="invalid"}`. Keys are kept only as
/// SHA-256 digests and never logged; a batch carries the key's alias (`tok-` + 8
/// hex digits) as its client subject, so `rate_limit` can key on it. Bodies of
/// 1 MiB or more are parsed on the blocking pool. Connections: as for `otlp`
/// (TCP_NODELAY, HTTP/1.1 keep-alive and HTTP/2, graceful shutdown).
#[derive(Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// `host:port` to listen on (an IP address or `localhost`; port `0` takes a
    /// free port). Default: `127.0.0.1:8080`.
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// Path of the generic JSON endpoint (`POST`); must start with `/` and,
    /// while the Ledger routes are on, not with `/api/v1/`. Default: `/v1/json`.
    #[serde(default = "default_path")]
    pub path: String,
    /// Keys accepted as `Authorization: Bearer <key>` or `X-API-Key: <key>`,
    /// on every route; write them as `${env:VAR}`; none may be empty. A batch
    /// carries an alias of its key (`tok-` and 8 hex digits of its SHA-256),
    /// never the key. Default: empty (no authentication).
    #[serde(default)]
    pub api_keys: Vec<String>,
    /// Largest body accepted, counted after decompression: a gzip body is cut
    /// off at this size while it inflates (413). Default: `10MiB`.
    #[serde(default = "default_max_request_bytes")]
    pub max_request_bytes: ByteSize,
    /// How long a request waits for room in a full pipeline before it gets
    /// 503 with `Retry-After`. Default: `5s`.
    #[serde(default = "default_backpressure_timeout", with = "humantime_serde")]
    #[schemars(with = "weir_core::schema::HumanDuration")]
    pub backpressure_timeout: Duration,
    /// Answer each request only once its records are delivered by every
    /// exporter of their pipelines (or safe in a disk queue), instead of once
    /// they are in the pipeline. Records an exporter gives up on (a permanent
    /// error, retries exhausted, a full `drop_*` queue, shutdown) are answered
    /// 503 with `Retry-After`, so the client sends them again (see
    /// [acknowledgements](configuration.md#delivery-acknowledgements)).
    /// Default: `false`.
    #[serde(default)]
    pub acknowledgements: bool,
    /// With `acknowledgements`, how long a request waits for its records to
    /// be delivered before it is answered 503 with `Retry-After` (they may
    /// still arrive: a retry can make duplicates). Default: `30s`.
    #[serde(default = "default_acknowledgement_timeout", with = "humantime_serde")]
    #[schemars(with = "weir_core::schema::HumanDuration")]
    pub acknowledgement_timeout: Duration,
    /// The Ledger-compatible routes under `/api/v1/`. Default: on.
    #[serde(default)]
    pub ledger: LedgerRoutes,
    /// TLS, as for the `otlp` receiver. Default: none (plain TCP).
    #[serde(default)]
    pub tls: Option<TlsConfig>,
}

/// The Ledger-compatible routes (`POST /api/v1/ingest/batch`, `/single`,
/// `/spans/batch`, `GET /api/v1/settings`).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LedgerRoutes {
    /// Serve the Ledger routes under `/api/v1/`. Default: `true`.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// What `GET /api/v1/settings` answers: any part of Ledger's settings
    /// document (`rate_limits`, `quotas`, `constraints`, ...); the rest keeps
    /// Ledger's defaults (1000 requests/min, 50,000/h, 1000 logs a batch). The
    /// constraints here are also what the routes validate against.
    /// Default: Ledger's defaults.
    #[serde(default)]
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
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
