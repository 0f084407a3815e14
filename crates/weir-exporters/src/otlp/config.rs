//! The `otlp` exporter's configuration.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use http::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Url;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use weir_core::{ByteSize, ConfigError};
use weir_otlp::compression::Encoding;

/// Sends batches to any OTLP endpoint (an OpenTelemetry Collector, a vendor, another
/// weir) over OTLP/gRPC, OTLP/HTTP with protobuf bodies, or OTLP/HTTP with JSON
/// bodies. It runs under the exporter harness (see
/// [configuration.md](configuration.md#exporter-harness)): bounded queue, retries
/// with jittered backoff honouring the server's delay, standard metrics.
///
/// ```yaml
/// exporters:
///   otlp:
///     protocol: grpc
///     endpoint: http://collector.internal:4317
///     headers: { x-tenant: acme }
///     compression: zstd
///     timeout: 10s
///     max_request_bytes: 4MiB
///     tls: { ca_file: /etc/weir/ca.pem }
/// ```
///
/// **Data path.** A batch that still holds the protobuf bytes a receiver got, and
/// fits `max_request_bytes`, is sent as those bytes: no decode, no copy. A batch a
/// processor changed is encoded once. `http/json` always decodes and writes
/// OTLP/JSON. Batches travel uncompressed inside weir (the `otlp` receiver
/// decompresses a request to validate it), and the exporter compresses each request
/// it sends once, with `compression`, at a fast level (gzip 1, zstd 1) for every
/// protocol. One exception saves that work: an unchanged batch that the `otlp`
/// receiver got over HTTP compressed with the same encoding as `compression`, and
/// that fits `max_request_bytes`, is sent as the compressed bytes the client sent,
/// neither decompressed nor compressed again (measured here at ~1.2 µs a record of
/// gzip-1 compression saved for 300-byte log records). A batch a processor changed,
/// one that is split, or one that came in another encoding is compressed afresh.
///
/// **Splitting.** A batch larger than `max_request_bytes` is decoded once and split
/// into requests under the limit, keeping order: whole resources where they fit,
/// else a resource's scopes, else a scope's records (log records, spans, or metrics
/// with all their data points), each part repeating the resource and scope it
/// needs. A single record larger than the limit is sent alone; the destination may
/// refuse it. Parts go one after another. For `http/json` the split point is
/// estimated from the JSON/protobuf size ratio and each part checked again. The
/// limit applies before compression, since servers, weir included, apply theirs to
/// the decompressed size.
///
/// **Outcomes**, per the OTLP specification:
///
/// | answer | outcome | failure `reason` |
/// |---|---|---|
/// | HTTP 2xx, gRPC OK | delivered; a `partial_success` with rejected items counts those as failed (reason `partial_rejected`, message logged) and the rest as sent | |
/// | HTTP 429, 502, 503, 504 | retryable, after `Retry-After` (seconds or an HTTP date) when given | `http_<status>` |
/// | gRPC CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS | retryable, after the RetryInfo delay when given | `grpc_<code>`, e.g. `grpc_unavailable` |
/// | gRPC RESOURCE_EXHAUSTED | retryable only with RetryInfo, else permanent | `grpc_resource_exhausted` |
/// | no answer: connection refused or reset, timeout, TLS failure | retryable | `connect`, `timeout`, `transport` |
/// | any other HTTP status or gRPC code | permanent: dropped, not retried | `http_<status>` (e.g. `http_400`), `grpc_<code>` |
///
/// Permanent failures are counted on `weir_exporter_failed_items_total` with the
/// reason above; retryable ones are retried by the harness and logged with it, and
/// counted as `retries_exhausted` if `retry.max_elapsed` runs out. The message of an
/// error answer (the `google.rpc.Status` of an OTLP server, or the start of any other
/// body) is in weir's log. A 2xx whose body cannot be read still counts as
/// delivered, since resending would duplicate. HTTP redirects are not followed (a
/// redirected POST would lose its body).
///
/// **Split batches that fail midway.** If request *n* of a split batch fails
/// retryably, the whole batch is retried, so the parts before it are sent again:
/// split batches are delivered at least once, and the destination may see those
/// parts twice. If it fails permanently, the parts delivered count as sent and the
/// rest as failed (`partial_rejected`), with the failure in the message.
///
/// **Connections.** One client per exporter, connected on first export and shared
/// by all requests: gRPC over one HTTP/2 connection (a tonic `Channel`, with the
/// unary call framed by weir so that it can choose the compression level and send
/// precompressed bytes), HTTP with a keep-alive pool (reqwest; HTTP/2 when a TLS
/// server offers it). Both set TCP_NODELAY. gRPC requests carry `grpc-encoding`
/// (unless `none`), `grpc-accept-encoding: gzip,zstd` and `grpc-timeout`; gzip or
/// zstd answers are decompressed.
///
/// **TLS.** `https://` endpoints are verified against the system's root
/// certificates (read by pure-Rust code: `rustls-platform-verifier` for HTTP,
/// `rustls-native-certs` for gRPC) plus `tls.ca_file`. `tls` settings with an
/// `http://` endpoint are an error, so a hop is never believed encrypted when it is
/// not. Client certificates (mTLS) are not supported yet.
///
/// **Known limits.**
/// - Compressed pass-through needs the request to have come over OTLP/HTTP: the
///   `otlp` receiver's gRPC side lets tonic decompress, so gRPC-received batches are
///   compressed again by the exporter (at the fast level).
/// - Split batches are at-least-once on retry (above). Batches under
///   `max_request_bytes` are sent in one request and are not affected.
/// - The `http/json` protocol always decodes and re-encodes records, so it is the
///   slowest; prefer `http/protobuf` where the destination takes it.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OtlpExporterConfig {
    /// Wire protocol: `grpc`, `http/protobuf` or `http/json`. Default: `grpc`.
    #[serde(default)]
    pub protocol: Protocol,
    /// Destination URL, `http://` or `https://`. For gRPC, scheme, host and
    /// port only (a path is an error). For HTTP, `/v1/logs`, `/v1/traces` or
    /// `/v1/metrics` is appended when the URL has no path; a URL with a path
    /// is used as it is for every signal.
    pub endpoint: String,
    /// Extra request headers (gRPC metadata for `grpc`), e.g. tenant or
    /// `authorization`; `content-type`, `content-encoding`, `content-length`,
    /// `transfer-encoding`, `te`, `host` and `grpc-*` are set by the exporter
    /// and refused here. Default: none.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Request compression: `gzip`, `zstd` or `none`, at a fast level (see the
    /// data path below). Default: `gzip`.
    #[serde(default)]
    pub compression: Compression,
    /// Time allowed for one request, connecting included; for gRPC it is also
    /// sent as `grpc-timeout`. Default: `10s`.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    #[schemars(with = "weir_core::schema::HumanDuration")]
    pub timeout: Duration,
    /// Largest request body sent, before compression (the receiving end's limits,
    /// weir's own included, apply to the decompressed size). Larger batches are
    /// split by resource, scope and record. Default: `4MiB` (the default gRPC
    /// message limit of most servers).
    #[serde(default = "default_max_request_bytes")]
    pub max_request_bytes: ByteSize,
    /// TLS settings for an `https://` endpoint; an error with `http://`.
    /// Default: none (the system's roots).
    #[serde(default)]
    pub tls: Option<TlsConfig>,
}

/// The OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
pub enum Protocol {
    /// OTLP/gRPC.
    #[default]
    #[serde(rename = "grpc")]
    Grpc,
    /// OTLP/HTTP with protobuf bodies.
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
    /// OTLP/HTTP with OTLP/JSON bodies.
    #[serde(rename = "http/json")]
    HttpJson,
}

/// Request compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// gzip (every OTLP server must accept it).
    #[default]
    Gzip,
    /// zstd: faster and smaller, when the destination accepts it.
    Zstd,
    /// No compression (a local hop).
    None,
}

impl Compression {
    /// The content encoding this stands for.
    pub fn encoding(self) -> Encoding {
        match self {
            Compression::Gzip => Encoding::Gzip,
            Compression::Zstd => Encoding::Zstd,
            Compression::None => Encoding::Identity,
        }
    }
}

/// TLS settings. `https://` endpoints are verified against the system's roots
/// (read by the pure-Rust `rustls-platform-verifier` for HTTP and
/// `rustls-native-certs` for gRPC, so no C library is needed) plus `ca_file`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file of extra CA certificates to trust (read when the exporter is
    /// built, so a bad file fails `weir validate`). Default: none.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Accept any server certificate. For tests only; HTTP protocols only (tonic
    /// offers no way to turn verification off). Default: `false`.
    #[serde(default)]
    pub insecure_skip_verify: bool,
}

fn default_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_max_request_bytes() -> ByteSize {
    ByteSize::mib(4)
}

/// Headers the exporter sets itself; overriding them would break the protocol.
const RESERVED_HEADERS: [&str; 6] = [
    "content-type",
    "content-encoding",
    "content-length",
    "transfer-encoding",
    "te",
    "host",
];

/// What validation resolved, ready for the transports.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub endpoint: Url,
    pub headers: HeaderMap,
    /// Contents of `tls.ca_file`.
    pub ca_pem: Option<Vec<u8>>,
}

impl OtlpExporterConfig {
    /// Checks what serde cannot: the URL, header names and values, limits and
    /// TLS settings. Reads `tls.ca_file`; opens no connection.
    pub(crate) fn resolve(&self) -> Result<Resolved, ConfigError> {
        let endpoint = Url::parse(&self.endpoint).map_err(|e| {
            ConfigError::at(
                "endpoint",
                format!(
                    "`{}` is not a URL ({e}): expected e.g. `http://127.0.0.1:4317`",
                    self.endpoint
                ),
            )
        })?;
        if !matches!(endpoint.scheme(), "http" | "https") {
            return Err(ConfigError::at(
                "endpoint",
                format!("scheme `{}` is not `http` or `https`", endpoint.scheme()),
            ));
        }
        if endpoint.host_str().is_none_or(str::is_empty) {
            return Err(ConfigError::at("endpoint", "the URL has no host"));
        }
        if self.protocol == Protocol::Grpc && has_path(&endpoint) {
            return Err(ConfigError::at(
                "endpoint",
                format!(
                    "a gRPC endpoint has no path (the service path is fixed by OTLP): \
                     use `{}://{}`",
                    endpoint.scheme(),
                    authority(&endpoint)
                ),
            ));
        }
        let headers = self.header_map()?;
        if self.timeout.is_zero() {
            return Err(ConfigError::at(
                "timeout",
                "must be longer than 0, e.g. `10s`",
            ));
        }
        if self.max_request_bytes.bytes() == 0 {
            return Err(ConfigError::at(
                "max_request_bytes",
                "must be larger than 0, e.g. `4MiB`",
            ));
        }
        let ca_pem = self.tls_files(&endpoint)?;
        Ok(Resolved {
            endpoint,
            headers,
            ca_pem,
        })
    }

    fn header_map(&self) -> Result<HeaderMap, ConfigError> {
        let mut map = HeaderMap::with_capacity(self.headers.len());
        for (name, value) in &self.headers {
            let path = format!("headers.{name}");
            let n = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ConfigError::at(&path, format!("`{name}` is not a header name")))?;
            if RESERVED_HEADERS.contains(&n.as_str()) || n.as_str().starts_with("grpc-") {
                return Err(ConfigError::at(
                    &path,
                    format!("`{n}` is set by the exporter and cannot be overridden"),
                ));
            }
            let v = HeaderValue::from_str(value).map_err(|_| {
                ConfigError::at(
                    &path,
                    "not a valid header value (visible ASCII, spaces and tabs only)",
                )
            })?;
            map.append(n, v);
        }
        Ok(map)
    }

    fn tls_files(&self, endpoint: &Url) -> Result<Option<Vec<u8>>, ConfigError> {
        let Some(tls) = &self.tls else {
            return Ok(None);
        };
        if endpoint.scheme() != "https" {
            // Silently ignoring TLS settings would let a user believe the hop is encrypted.
            return Err(ConfigError::at(
                "tls",
                "TLS settings need an `https://` endpoint",
            ));
        }
        if tls.insecure_skip_verify && self.protocol == Protocol::Grpc {
            return Err(ConfigError::at(
                "tls.insecure_skip_verify",
                "not supported with `protocol: grpc`: trust the server's CA with `tls.ca_file`",
            ));
        }
        let Some(path) = &tls.ca_file else {
            return Ok(None);
        };
        let pem = std::fs::read(path).map_err(|e| {
            ConfigError::at(
                "tls.ca_file",
                format!("cannot read `{}`: {e}", path.display()),
            )
        })?;
        if reqwest::Certificate::from_pem_bundle(&pem).map_or(true, |c| c.is_empty()) {
            return Err(ConfigError::at(
                "tls.ca_file",
                format!("`{}` holds no PEM certificate", path.display()),
            ));
        }
        Ok(Some(pem))
    }
}

/// Whether the URL names a path beyond `/`.
pub(crate) fn has_path(url: &Url) -> bool {
    !matches!(url.path(), "" | "/")
}

fn authority(url: &Url) -> String {
    match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_core::ComponentConfig;

    fn parse(yaml: &str) -> Result<OtlpExporterConfig, ConfigError> {
        ComponentConfig::from_yaml(yaml)?.parse()
    }

    fn resolve(yaml: &str) -> Result<Resolved, ConfigError> {
        parse(yaml)?.resolve()
    }

    #[test]
    fn defaults() {
        let c = parse("endpoint: http://127.0.0.1:4317").unwrap();
        assert_eq!(c.protocol, Protocol::Grpc);
        assert_eq!(c.compression, Compression::Gzip);
        assert_eq!(c.timeout, Duration::from_secs(10));
        assert_eq!(c.max_request_bytes, ByteSize::mib(4));
        assert!(c.headers.is_empty());
        assert_eq!(c.tls, None);
        assert!(c.resolve().is_ok());
    }

    #[test]
    fn every_key() {
        let c = parse(
            "protocol: http/json\nendpoint: https://collector:4318/custom\n\
             headers: { x-tenant: acme }\ncompression: zstd\ntimeout: 3s\n\
             max_request_bytes: 1MiB\ntls: { insecure_skip_verify: true }",
        )
        .unwrap();
        assert_eq!(c.protocol, Protocol::HttpJson);
        assert_eq!(c.compression, Compression::Zstd);
        assert_eq!(c.timeout, Duration::from_secs(3));
        assert_eq!(c.max_request_bytes, ByteSize::mib(1));
        let r = c.resolve().unwrap();
        assert_eq!(r.headers["x-tenant"], "acme");
        assert_eq!(r.endpoint.path(), "/custom");
        assert_eq!(
            parse("protocol: http/protobuf\nendpoint: http://a")
                .unwrap()
                .protocol,
            Protocol::HttpProtobuf
        );
        assert_eq!(
            parse("compression: none\nendpoint: http://a")
                .unwrap()
                .compression,
            Compression::None
        );
    }

    #[test]
    fn errors_name_the_field() {
        let at = |yaml: &str| resolve(yaml).unwrap_err().path;
        assert_eq!(
            at("endpoint: http://a\nprotocol: udp").as_deref(),
            Some("protocol")
        );
        assert_eq!(at("endpoint: 'not a url'").as_deref(), Some("endpoint"));
        assert_eq!(at("endpoint: ftp://a:21").as_deref(), Some("endpoint"));
        assert_eq!(
            at("endpoint: http://a:4317/v1/logs").as_deref(),
            Some("endpoint")
        );
        assert_eq!(
            at("endpoint: http://a\ncompression: lz4").as_deref(),
            Some("compression")
        );
        assert_eq!(
            at("endpoint: http://a\ntimeout: 0s").as_deref(),
            Some("timeout")
        );
        assert_eq!(
            at("endpoint: http://a\nmax_request_bytes: 0").as_deref(),
            Some("max_request_bytes")
        );
        assert_eq!(
            at("endpoint: http://a\nheaders: { 'bad name': x }").as_deref(),
            Some("headers.bad name")
        );
        assert_eq!(
            at("endpoint: http://a\nheaders: { x-a: \"line\\nbreak\" }").as_deref(),
            Some("headers.x-a")
        );
        assert_eq!(
            at("endpoint: http://a\nheaders: { content-type: x }").as_deref(),
            Some("headers.content-type")
        );
        assert_eq!(at("endpoint: http://a\ntls: {}").as_deref(), Some("tls"));
        assert_eq!(
            at("endpoint: https://a\ntls: { insecure_skip_verify: true }").as_deref(),
            Some("tls.insecure_skip_verify")
        );
        assert_eq!(
            at("endpoint: https://a\ntls: { ca_file: /nonexistent/ca.pem }").as_deref(),
            Some("tls.ca_file")
        );
        let e = parse("endpoint: http://a\nretries: 3").unwrap_err();
        assert!(e.message.contains("unknown field `retries`"), "{e}");
        let e = parse("protocol: grpc").unwrap_err();
        assert!(e.message.contains("missing field `endpoint`"), "{e}");
    }

    #[test]
    fn grpc_endpoint_with_trailing_slash_is_fine() {
        assert!(resolve("endpoint: http://a:4317/").is_ok());
        assert!(resolve("protocol: http/protobuf\nendpoint: http://a:4318/v1/logs").is_ok());
    }
}
