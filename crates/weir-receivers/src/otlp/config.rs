//! The `otlp` receiver's configuration.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use weir_core::{ByteSize, ComponentConfig, ConfigError};

use crate::net::parse_endpoint;
pub use crate::net::tls::TlsConfig;

/// Receives OTLP from any OpenTelemetry SDK or Collector: OTLP/gRPC (the three
/// `Export` methods of the logs, trace and metrics services) and OTLP/HTTP (`POST
/// /v1/logs`, `/v1/traces`, `/v1/metrics`, protobuf or JSON bodies). With no
/// settings (`otlp:`) both protocols are on, on 127.0.0.1.
///
/// ```yaml
/// receivers:
///   otlp:
///     protocols:
///       grpc: { endpoint: 127.0.0.1:4317 }
///       http: { endpoint: 127.0.0.1:4318, cors: { allowed_origins: ["https://app.example"] } }
///     max_request_bytes: 20MiB
///     backpressure_timeout: 5s
///     acknowledgements: true
///     acknowledgement_timeout: 30s
///     auth: { bearer_tokens: ["${env:WEIR_TOKEN}"] }
///     tls: { cert_file: /etc/weir/cert.pem, key_file: /etc/weir/key.pem }
/// ```
///
/// **Bodies.** OTLP/HTTP takes `Content-Type: application/x-protobuf` or
/// `application/json` (parameters such as `charset` are ignored) and answers in the
/// same encoding. JSON is the OTLP/JSON mapping: trace and span ids as hex,
/// lowerCamelCase keys (snake_case accepted too), enums as integers or names, 64-bit
/// integers as strings or numbers, bytes as base64, unknown fields ignored.
/// `Content-Encoding` may be `gzip` (or `x-gzip`), `zstd` or `identity`; gRPC takes
/// `grpc-encoding` gzip or zstd (answers are not compressed).
///
/// **Pass-through.** A protobuf request (HTTP or gRPC) is not decoded: it is
/// decompressed under the limit, validated and counted by a walk over the protobuf
/// wire format (every field, UTF-8 checked), and sent on as the bytes the client
/// sent. Exporters that leave records unchanged (the `otlp` exporter, `file` with
/// `format: proto`) forward those bytes without decoding or re-encoding them, so
/// resource, scope, attributes, ids and timestamps come out exactly as they went in.
/// An HTTP request that came compressed (gzip or zstd) also keeps its body as it
/// came, so that an `otlp` exporter using the same compression sends those bytes
/// as they are (see the exporter's data path); this holds the compressed body
/// (typically a fifth to a tenth of the request) as long as the batch. gRPC
/// requests are decompressed by tonic before weir sees them, so they do not keep
/// it. A processor that reads records decodes the batch on first access. OTLP/JSON
/// bodies are decoded into records. Requests of 1 MiB or more are walked (and, over
/// HTTP, decompressed) on the blocking thread pool, so one big request does not stall
/// other connections. An empty request is answered with success and sends nothing
/// on.
///
/// **Invalid items.** A request whose body decodes but holds some invalid items
/// is taken in part: the valid items go on, the invalid ones are refused, and the
/// answer is 200 / OK with `partial_success` (`rejected_log_records`,
/// `rejected_spans` or `rejected_data_points`, and an `error_message` naming the
/// first few, with their paths, e.g. `resource_spans[0].scope_spans[0].spans[3]:
/// span span_id is not 8 bytes`). Invalid items are log records whose `trace_id` is
/// neither empty nor 16 bytes or whose `span_id` is neither empty nor 8 bytes;
/// spans whose `trace_id` is not 16 bytes, whose `span_id` is not 8 bytes, or whose
/// `parent_span_id` is neither empty nor 8 bytes; and, in OTLP/JSON, any log
/// record, span or data point with a field of the wrong type or format (a non-hex
/// `traceId`, a string where a number belongs). Scopes, resources (and, for JSON,
/// metrics) left with no items by this are dropped. The refused items are counted
/// on `weir_receiver_refused_items_total{reason="invalid"}`. The protobuf walk
/// counts invalid items without decoding, so a request with none is still
/// forwarded as the bytes sent; only one with some is decoded, filtered and
/// re-encoded. Errors outside the items (not JSON or protobuf, not the OTLP shape,
/// a resource or scope that does not decode) still refuse the whole request with
/// 400. A request refused for backpressure is not counted as invalid, since the
/// client sends it again.
///
/// **Answers.** Error bodies are a `google.rpc.Status` with a readable message, in
/// the request's encoding (JSON when the content type is unknown).
///
/// | HTTP | gRPC | when | retryable |
/// |---|---|---|---|
/// | 200 + empty export response | OK | the batch is in the pipeline | |
/// | 200 + `partial_success` | OK + `partial_success` | the valid items are in the pipeline, the invalid ones refused | no |
/// | 400 | INVALID_ARGUMENT | undecodable body: bad protobuf, invalid OTLP/JSON, corrupt or truncated gzip/zstd, a body that cannot be read | no |
/// | 401 + `WWW-Authenticate: Bearer` | UNAUTHENTICATED | `auth` is on and the token is missing, malformed or unknown | no |
/// | 404 | UNIMPLEMENTED | unknown path or gRPC method, or no pipeline takes this signal from this receiver | no |
/// | 405 + `Allow` | | a method other than POST (and OPTIONS when `cors` is on) | no |
/// | 413 | RESOURCE_EXHAUSTED (no RetryInfo) | over `max_request_bytes`, before or after decompression; a `Content-Length` over the limit is refused before the body is read | no |
/// | 415 | | a content type other than protobuf or JSON, or an unknown `Content-Encoding` | no |
/// | 503 + `Retry-After: 1` | UNAVAILABLE + RetryInfo (1s) | the pipeline stayed full for `backpressure_timeout`, or weir is shutting down, or (with `acknowledgements`) the data was not delivered or not confirmed within `acknowledgement_timeout` | yes |
/// | 503 + `Retry-After: 1` | RESOURCE_EXHAUSTED + RetryInfo (1s) | the process is over `service.memory_limit`; the request was not read | yes |
///
/// gRPC decode failures that tonic reports as OUT_OF_RANGE (frame over the limit)
/// become RESOURCE_EXHAUSTED, and INTERNAL for corrupt compressed data becomes
/// INVALID_ARGUMENT, so that a client does not retry a request that can never
/// succeed. Refused requests are counted on `weir_receiver_refused_items_total`
/// with `reason` `backpressure`, `shutdown`, `invalid`, `memory_limit`,
/// `not_delivered` or `ack_timeout` (items refused one by one count each; the
/// items of a request refused whole as undecodable or over the memory limit
/// cannot be counted, so each such request adds 1). After any refusal weir goes on serving the
/// next request (a body refused before it was read closes its connection).
///
/// **Connections.** Accepted connections set TCP_NODELAY. The HTTP listener speaks
/// HTTP/1.1 with keep-alive and HTTP/2 (h2c without TLS; ALPN `h2`/`http/1.1` with
/// it); the gRPC listener speaks HTTP/2 only (ALPN `h2`). Request headers must
/// arrive within 30 s on HTTP/1.1 and a TLS handshake within 10 s. On shutdown the
/// listeners stop accepting and requests in flight get `backpressure_timeout` + 5 s
/// to finish (plus `acknowledgement_timeout` with `acknowledgements`).
///
/// **Auth and TLS.** Tokens are kept only as SHA-256 digests and compared in
/// constant time; they never appear in logs or error messages (a config printed for
/// debugging shows `[N redacted]`). A request's authenticated subject, a stable
/// `tok-` + 8 hex digits alias of its token, is in the batch's client metadata for
/// processors to key on. TLS uses rustls with the ring provider, one certificate for
/// both listeners; client certificates are not requested. The certificate files are
/// read when the receiver starts (a missing file fails the run, not `weir
/// validate`).
///
/// **CORS.** With `cors`, a preflight `OPTIONS` on a signal path gets 204 with
/// `Access-Control-Allow-Methods: POST`, the requested headers echoed in
/// `Access-Control-Allow-Headers`, and `Access-Control-Max-Age: 7200`; answers to an
/// allowed origin carry `Access-Control-Allow-Origin` (with `Vary: Origin` unless
/// `*`).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OtlpConfig {
    /// Which protocols to serve. A protocol left out is off; naming it with no
    /// settings (`grpc:`) turns it on with its defaults; at least one is
    /// required. Default: both on.
    #[serde(default)]
    pub protocols: Protocols,
    /// Largest request accepted, counted after decompression (a compressed body
    /// may not exceed it either). Larger requests get 413 / RESOURCE_EXHAUSTED,
    /// and a decompression bomb is cut off at this size, never held whole.
    /// Default: `20MiB`.
    #[serde(default = "default_max_request_bytes")]
    pub max_request_bytes: ByteSize,
    /// How long a request waits for room in a full pipeline before it is refused
    /// with a retryable answer (HTTP 503 + `Retry-After`, gRPC UNAVAILABLE +
    /// RetryInfo). Default: `5s`.
    #[serde(default = "default_backpressure_timeout", with = "humantime_serde")]
    #[schemars(with = "weir_core::schema::HumanDuration")]
    pub backpressure_timeout: Duration,
    /// Answer each request only once its data is delivered by every exporter
    /// of its pipelines (or safe in a disk queue), instead of once it is in
    /// the pipeline. Data an exporter gives up on (a permanent error, retries
    /// exhausted, a full `drop_*` queue, shutdown) is then answered with a
    /// retryable error (HTTP 503 + `Retry-After`, gRPC UNAVAILABLE +
    /// RetryInfo), so the client sends it again (see
    /// [acknowledgements](configuration.md#delivery-acknowledgements)). Costs a
    /// request's latency the time to deliver it. Default: `false`.
    #[serde(default)]
    pub acknowledgements: bool,
    /// With `acknowledgements`, how long a request waits for its data to be
    /// delivered before it is answered with a retryable error (the data may
    /// still arrive: a retry can make duplicates). Default: `30s`.
    #[serde(default = "default_acknowledgement_timeout", with = "humantime_serde")]
    #[schemars(with = "weir_core::schema::HumanDuration")]
    pub acknowledgement_timeout: Duration,
    /// Bearer-token authentication, for both protocols. Default: none (no auth).
    #[serde(default)]
    pub auth: Option<AuthConfig>,
    /// TLS for both protocols. Default: none (plain TCP; HTTP/2 as h2c).
    #[serde(default)]
    pub tls: Option<TlsConfig>,
}

/// The protocols served; `None` is off.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Protocols {
    /// OTLP/gRPC: on when named (or when `protocols` is left out).
    #[serde(default, deserialize_with = "present")]
    pub grpc: Option<GrpcProtocol>,
    /// OTLP/HTTP: on when named (or when `protocols` is left out).
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
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrpcProtocol {
    /// `host:port` to listen on; the host is an IP address (IPv6 in brackets)
    /// or `localhost`, never another name; port `0` takes a free port.
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
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpProtocol {
    /// `host:port` to listen on, as for gRPC; it must differ from the gRPC
    /// endpoint. Default: `127.0.0.1:4318`.
    #[serde(default = "default_http_endpoint")]
    pub endpoint: String,
    /// Cross-origin requests from browsers (see CORS below). Default: none (no
    /// CORS headers).
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
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorsConfig {
    /// Browser origins allowed to post, matched exactly
    /// (`https://app.example`); `*` allows any; at least one.
    pub allowed_origins: Vec<String>,
}

/// Bearer-token authentication.
#[derive(Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Tokens accepted in `Authorization: Bearer <token>` (HTTP header or gRPC
    /// metadata); write them as `${env:VAR}` to keep them out of the file; at
    /// least one, none empty.
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
