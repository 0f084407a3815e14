//! The `otlp` receiver's configuration.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use weir_core::{ByteSize, ComponentConfig, ConfigError};

use crate::net::parse_endpoint;
pub use crate::net::tls::TlsConfig;

/// Configuration of the `otlp` receiver.
///
/// ```yaml
/// receivers:
///   otlp:
///     protocols:
///       grpc: { endpoint: 127.0.0.1:4317 }
///       http:
///         endpoint: 127.0.0.1:4318
///         cors: { allowed_origins: ["https://app.example"] }
///     max_request_bytes: 20MiB
///     backpressure_timeout: 5s
///     acknowledgements: true
///     acknowledgement_timeout: 30s
///     auth: { bearer_tokens: ["${env:TOKEN}"] }
///     tls: { cert_file: /etc/weir/cert.pem, key_file: /etc/weir/key.pem }
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtlpConfig {
    /// Which protocols to serve. A protocol left out is off; naming it with no
    /// settings (`grpc:`) turns it on with its defaults. Default: both.
    #[serde(default)]
    pub protocols: Protocols,
    /// Largest request accepted, counted after decompression (a compressed body
    /// may not exceed it either). Larger requests get 413 / RESOURCE_EXHAUSTED,
    /// and a decompression bomb is cut off at this size. Default: `20MiB`.
    #[serde(default = "default_max_request_bytes")]
    pub max_request_bytes: ByteSize,
    /// How long a request waits for room in a full pipeline before it is refused
    /// with a retryable answer (HTTP 503 + `Retry-After`, gRPC UNAVAILABLE +
    /// RetryInfo). Default: `5s`.
    #[serde(default = "default_backpressure_timeout", with = "humantime_serde")]
    pub backpressure_timeout: Duration,
    /// Answer each request only once its data is delivered by every exporter
    /// of its pipelines (or safe in a disk queue), instead of once it is in
    /// the pipeline. Data an exporter gives up on (a permanent error, retries
    /// exhausted, a full `drop_*` queue, shutdown) is then answered with a
    /// retryable error (HTTP 503 + `Retry-After`, gRPC UNAVAILABLE +
    /// RetryInfo), so the client sends it again. Costs a request's latency
    /// the time to deliver it. Default: `false`.
    #[serde(default)]
    pub acknowledgements: bool,
    /// With `acknowledgements`, how long a request waits for its data to be
    /// delivered before it is answered with a retryable error (the data may
    /// still arrive: a retry can make duplicates). Default: `30s`.
    #[serde(default = "default_acknowledgement_timeout", with = "humantime_serde")]
    pub acknowledgement_timeout: Duration,
    /// Bearer-token authentication for both protocols. Default: none (no auth).
    #[serde(default)]
    pub auth: Option<AuthConfig>,
    /// TLS for both protocols. Default: none (plain TCP, h2c for HTTP/2).
    #[serde(default)]
    pub tls: Option<TlsConfig>,
}

/// The protocols served; `None` is off.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protocols {
    /// OTLP/gRPC. Default when `protocols` is absent: on, at `127.0.0.1:4317`.
    #[serde(default, deserialize_with = "present")]
    pub grpc: Option<GrpcProtocol>,
    /// OTLP/HTTP. Default when `protocols` is absent: on, at `127.0.0.1:4318`.
    #[serde(default, deserialize_with = "present")]
    pub http: Option<HttpProtocol>,
}

impl Default for Protocols {
    fn default() -> Self {
        Protocols {
            grpc: Some(GrpcProtocol::default()),
            http: Some(HttpProtocol::default()),
        }
    }
}

/// OTLP/gRPC settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrpcProtocol {
    /// `host:port` to listen on; the host is an IP address or `localhost`.
    /// Default: `127.0.0.1:4317`.
    #[serde(default = "default_grpc_endpoint")]
    pub endpoint: String,
}

impl Default for GrpcProtocol {
    fn default() -> Self {
        GrpcProtocol {
            endpoint: default_grpc_endpoint(),
        }
    }
}

/// OTLP/HTTP settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpProtocol {
    /// `host:port` to listen on; the host is an IP address or `localhost`.
    /// Default: `127.0.0.1:4318`.
    #[serde(default = "default_http_endpoint")]
    pub endpoint: String,
    /// Cross-origin requests from browsers. Default: none (no CORS headers).
    #[serde(default)]
    pub cors: Option<CorsConfig>,
}

impl Default for HttpProtocol {
    fn default() -> Self {
        HttpProtocol {
            endpoint: default_http_endpoint(),
            cors: None,
        }
    }
}

/// CORS settings of the HTTP protocol.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsConfig {
    /// Origins allowed to send data, matched exactly (`https://app.example`);
    /// `*` allows any origin. Required, at least one.
    pub allowed_origins: Vec<String>,
}

/// Bearer-token authentication.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Tokens accepted in `Authorization: Bearer <token>` (HTTP header or gRPC
    /// metadata); write them as `${env:VAR}` to keep them out of the file.
    /// Required, at least one.
    pub bearer_tokens: Vec<String>,
}

// Tokens are secrets: a config printed in a log or an error must not show them.
impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field(
                "bearer_tokens",
                &format_args!("[{} redacted]", self.bearer_tokens.len()),
            )
            .finish()
    }
}

fn default_max_request_bytes() -> ByteSize {
    ByteSize::mib(20)
}

fn default_backpressure_timeout() -> Duration {
    Duration::from_secs(5)
}

fn default_acknowledgement_timeout() -> Duration {
    Duration::from_secs(30)
}

fn default_grpc_endpoint() -> String {
    "127.0.0.1:4317".to_string()
}

fn default_http_endpoint() -> String {
    "127.0.0.1:4318".to_string()
}

/// A present key turns the protocol on, even with no value (`grpc:` is null in
/// YAML), as in the OpenTelemetry Collector; an absent key leaves it off.
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Some(Option::<T>::deserialize(d)?.unwrap_or_default()))
}

impl Default for OtlpConfig {
    fn default() -> Self {
        OtlpConfig {
            protocols: Protocols::default(),
            max_request_bytes: default_max_request_bytes(),
            backpressure_timeout: default_backpressure_timeout(),
            acknowledgements: false,
            acknowledgement_timeout: default_acknowledgement_timeout(),
            auth: None,
            tls: None,
        }
    }
}

/// A checked config: what the receiver runs with.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub grpc: Option<SocketAddr>,
    pub http: Option<SocketAddr>,
    pub config: OtlpConfig,
}

impl OtlpConfig {
    /// Parses and checks a component config.
    pub fn from_component(cfg: &ComponentConfig) -> Result<Self, ConfigError> {
        let config: OtlpConfig = cfg.parse()?;
        config.check()?;
        Ok(config)
    }

    pub(crate) fn check(&self) -> Result<Settings, ConfigError> {
        let grpc = self
            .protocols
            .grpc
            .as_ref()
            .map(|g| parse_endpoint(&g.endpoint, "protocols.grpc.endpoint"))
            .transpose()?;
        let http = self
            .protocols
            .http
            .as_ref()
            .map(|h| parse_endpoint(&h.endpoint, "protocols.http.endpoint"))
            .transpose()?;
        if grpc.is_none() && http.is_none() {
            return Err(ConfigError::at(
                "protocols",
                "turn on at least one of `grpc` and `http`",
            ));
        }
        if let (Some(g), Some(h)) = (grpc, http)
            && g == h
            && g.port() != 0
        {
            return Err(ConfigError::at(
                "protocols.http.endpoint",
                format!("{h} is also the grpc endpoint; give each protocol its own port"),
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
                "must be more than 0 (a request would never wait for its data)",
            ));
        }
        if let Some(auth) = &self.auth {
            if auth.bearer_tokens.is_empty() {
                return Err(ConfigError::at(
                    "auth.bearer_tokens",
                    "give at least one token, or leave `auth` out",
                ));
            }
            if let Some(i) = auth.bearer_tokens.iter().position(|t| t.trim().is_empty()) {
                return Err(ConfigError::at(
                    format!("auth.bearer_tokens[{i}]"),
                    "is empty (is its environment variable set?)",
                ));
            }
        }
        if let Some(cors) = self.protocols.http.as_ref().and_then(|h| h.cors.as_ref())
            && cors.allowed_origins.is_empty()
        {
            return Err(ConfigError::at(
                "protocols.http.cors.allowed_origins",
                "give at least one origin (`*` for any), or leave `cors` out",
            ));
        }
        Ok(Settings {
            grpc,
            http,
            config: self.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<Settings, ConfigError> {
        OtlpConfig::from_component(&ComponentConfig::from_yaml(yaml).unwrap())?.check()
    }

    #[test]
    fn defaults_serve_both_protocols_on_loopback() {
        let s = parse("{}").unwrap();
        assert_eq!(s.grpc, Some("127.0.0.1:4317".parse().unwrap()));
        assert_eq!(s.http, Some("127.0.0.1:4318".parse().unwrap()));
        assert_eq!(s.config.max_request_bytes, ByteSize::mib(20));
        assert_eq!(s.config.backpressure_timeout, Duration::from_secs(5));
        assert!(s.config.auth.is_none() && s.config.tls.is_none());
        assert!(!s.config.acknowledgements);
        assert_eq!(s.config.acknowledgement_timeout, Duration::from_secs(30));
    }

    #[test]
    fn a_protocol_named_without_settings_is_on_and_one_left_out_is_off() {
        let s = parse("protocols:\n  grpc:\n").unwrap();
        assert_eq!(s.grpc, Some("127.0.0.1:4317".parse().unwrap()));
        assert_eq!(s.http, None);
        let s = parse("protocols: { http: { endpoint: 'localhost:9000' } }").unwrap();
        assert_eq!(s.grpc, None);
        assert_eq!(s.http, Some("127.0.0.1:9000".parse().unwrap()));
        let s = parse("protocols: { http: { endpoint: '[::1]:9000' } }").unwrap();
        assert_eq!(s.http, Some("[::1]:9000".parse().unwrap()));
    }

    #[test]
    fn bad_values_name_their_field() {
        let cases = [
            (
                "protocols: { grpc: { endpoint: 'example.com:1' } }",
                "protocols.grpc.endpoint",
            ),
            (
                "protocols: { grpc: { endpoint: '127.0.0.1' } }",
                "protocols.grpc.endpoint",
            ),
            (
                "protocols: { http: { endpoint: '1.2.3.4:99999' } }",
                "protocols.http.endpoint",
            ),
            ("protocols: {}", "protocols"),
            (
                "protocols: { grpc: { endpoint: '127.0.0.1:5' }, http: { endpoint: '127.0.0.1:5' } }",
                "protocols.http.endpoint",
            ),
            ("max_request_bytes: 0", "max_request_bytes"),
            (
                "acknowledgements: true\nacknowledgement_timeout: 0s",
                "acknowledgement_timeout",
            ),
            ("acknowledgements: 'yes'", "acknowledgements"),
            ("auth: { bearer_tokens: [] }", "auth.bearer_tokens"),
            (
                "auth: { bearer_tokens: ['a', ''] }",
                "auth.bearer_tokens[1]",
            ),
            (
                "protocols: { http: { cors: { allowed_origins: [] } } }",
                "protocols.http.cors.allowed_origins",
            ),
            ("protocols: { grpc: { port: 1 } }", "protocols.grpc.port"),
            ("bogus: 1", "bogus"),
        ];
        for (yaml, path) in cases {
            let err = parse(yaml).unwrap_err();
            assert_eq!(err.path.as_deref().unwrap_or("."), path, "{yaml}: {err}");
        }
    }

    #[test]
    fn tokens_never_show_in_debug_output() {
        let s = parse("auth: { bearer_tokens: ['s3cret-token'] }").unwrap();
        let shown = format!("{:?}", s.config);
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("1 redacted"), "{shown}");
    }
}
