//! OTLP/HTTP: one pooled `reqwest` client (keep-alive; HTTP/2 when the server
//! offers it over TLS), a POST per request, and the answer mapped per the
//! OTLP/HTTP specification.

use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, HeaderValue, StatusCode};
use reqwest::Url;
use weir_core::{ConfigError, ExportError, Signal};
use weir_otlp::compression::Encoding;
use weir_otlp::response::{self, PartialSuccess};
use weir_otlp::status::{http_retryable, parse_retry_after};

use super::config::{OtlpExporterConfig, Resolved, has_path};

/// The most of an error body read for its message.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// The most of an unparseable error body shown in a message.
const SNIPPET: usize = 256;

/// Sends export requests over OTLP/HTTP.
#[derive(Debug)]
pub(crate) struct HttpTransport {
    client: reqwest::Client,
    /// Destination per signal, by [`Signal::index`].
    urls: [Url; 3],
    json: bool,
    encoding: Encoding,
}

impl HttpTransport {
    /// A transport for a validated config. Builds the client (no connection yet).
    pub(crate) fn new(
        config: &OtlpExporterConfig,
        resolved: &Resolved,
        json: bool,
    ) -> Result<Self, ConfigError> {
        let mut builder = reqwest::Client::builder()
            .default_headers(resolved.headers.clone())
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .tcp_nodelay(true)
            // A redirected POST would become a GET and lose the body.
            .redirect(reqwest::redirect::Policy::none());
        // reqwest's default retry policy stays: it resends only on protocol NACKs
        // (HTTP/2 REFUSED_STREAM, GOAWAY), where the server provably did not
        // process the request. Everything else is left to the harness.
        let tls = config.tls.clone().unwrap_or_default();
        if let Some(pem) = &resolved.ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| ConfigError::at("tls.ca_file", e.to_string()))?
            {
                builder = builder.add_root_certificate(cert);
            }
        }
        if tls.insecure_skip_verify {
            tracing::warn!("otlp exporter: TLS certificate verification is off");
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let client = builder
            .build()
            .map_err(|e| ConfigError::new(format!("cannot build the HTTP client: {e}")))?;
        Ok(HttpTransport {
            client,
            urls: Signal::ALL.map(|s| signal_url(&resolved.endpoint, s)),
            json,
            encoding: config.compression.encoding(),
        })
    }

    /// The encoding request bodies are sent with.
    pub(crate) fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Sends one request body (uncompressed OTLP protobuf or JSON);
    /// `precompressed`, when given, is that body already compressed with this
    /// transport's encoding (as a receiver got it), and is sent instead.
    pub(crate) async fn send(
        &self,
        signal: Signal,
        body: Bytes,
        precompressed: Option<Bytes>,
    ) -> Result<Option<PartialSuccess>, ExportError> {
        let content_type = if self.json {
            "application/json"
        } else {
            "application/x-protobuf"
        };
        let mut request = self
            .client
            .post(self.urls[signal.index()].clone())
            .header(CONTENT_TYPE, HeaderValue::from_static(content_type));
        let body = match (self.encoding, precompressed) {
            (Encoding::Identity, _) => body,
            (enc, wire) => {
                request = request.header(CONTENT_ENCODING, enc.as_str());
                wire.unwrap_or_else(|| {
                    Bytes::from(weir_otlp::compression::compress(enc, &body, None))
                })
            }
        };
        let response = request.body(body).send().await.map_err(transport_error)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_capped(response).await;
        if status.is_success() {
            return Ok(self.partial_success(signal, &headers, &body));
        }
        let reason = format!("http_{}", status.as_u16());
        let message = error_message(status, &headers, &body);
        if http_retryable(status.as_u16()) {
            let after = headers
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            return Err(match after {
                Some(after) => ExportError::retry_after(reason, message, after),
                None => ExportError::retryable(reason, message),
            });
        }
        Err(ExportError::permanent(reason, message))
    }

    /// Reads `partial_success` from a 2xx answer. The data is delivered whatever
    /// the body holds, so an unreadable body is only logged: treating it as a
    /// failure would resend data the server already took.
    fn partial_success(
        &self,
        signal: Signal,
        headers: &HeaderMap,
        body: &Result<Bytes, String>,
    ) -> Option<PartialSuccess> {
        let body = match body {
            Ok(b) if !b.is_empty() => b,
            Ok(_) => return None,
            Err(e) => {
                tracing::debug!(error = %e, "otlp exporter: cannot read a success response");
                return None;
            }
        };
        let json = match content_type(headers) {
            Some(ct) if ct.contains("json") => true,
            Some(ct) if ct.contains("protobuf") => false,
            _ => self.json,
        };
        let decoded = if json {
            response::decode_json(signal, body)
        } else {
            response::decode_protobuf(signal, body)
        };
        decoded.unwrap_or_else(|e| {
            tracing::debug!(error = %e, "otlp exporter: unreadable success response");
            None
        })
    }
}

/// `endpoint` with the signal's OTLP path appended, unless it has a path.
pub(crate) fn signal_url(endpoint: &Url, signal: Signal) -> Url {
    let mut url = endpoint.clone();
    if !has_path(endpoint) {
        url.set_path(match signal {
            Signal::Logs => "/v1/logs",
            Signal::Traces => "/v1/traces",
            Signal::Metrics => "/v1/metrics",
        });
    }
    url
}

/// A request that got no HTTP answer: always worth retrying.
fn transport_error(e: reqwest::Error) -> ExportError {
    ExportError::retryable(transport_reason(&e), error_chain(&e))
}

/// The metrics label of a request that got no answer.
pub(crate) fn transport_reason(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else {
        "transport"
    }
}

/// An error with its causes, which reqwest keeps out of its own message.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// The body, up to [`ERROR_BODY_LIMIT`] bytes.
pub(crate) async fn read_capped(mut response: reqwest::Response) -> Result<Bytes, String> {
    let mut first: Option<Bytes> = None;
    let mut rest = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| error_chain(&e))? {
        // The usual case is one chunk: keep it without copying.
        match &first {
            None => first = Some(chunk),
            Some(f) => {
                if rest.is_empty() {
                    rest.extend_from_slice(f);
                }
                rest.extend_from_slice(&chunk);
            }
        }
        if first.as_ref().map_or(0, Bytes::len).max(rest.len()) >= ERROR_BODY_LIMIT {
            break;
        }
    }
    Ok(if rest.is_empty() {
        first.unwrap_or_default()
    } else {
        Bytes::from(rest)
    })
}

fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok())
}

/// google.rpc.Status, the OTLP/HTTP error body (details are skipped).
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// What a failed answer says: the `google.rpc.Status` message when the body is
/// one (JSON or protobuf), else a snippet of the body.
fn error_message(status: StatusCode, headers: &HeaderMap, body: &Result<Bytes, String>) -> String {
    let body = match body {
        Ok(b) => b,
        Err(e) => return format!("HTTP {status} (body unreadable: {e})"),
    };
    let ct = content_type(headers).unwrap_or_default();
    let parsed = if ct.contains("json") {
        serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("message")?.as_str().map(str::to_string))
    } else if ct.contains("protobuf") {
        <RpcStatus as prost::Message>::decode(&body[..])
            .ok()
            .map(|s| s.message)
    } else {
        None
    };
    match parsed {
        Some(m) if !m.is_empty() => format!("HTTP {status}: {m}"),
        _ if body.is_empty() => format!("HTTP {status}"),
        _ => {
            let text = String::from_utf8_lossy(&body[..body.len().min(SNIPPET)]);
            let more = if body.len() > SNIPPET { "..." } else { "" };
            format!("HTTP {status}: {}{more}", text.trim())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_paths_are_appended_unless_the_url_has_one() {
        let base = Url::parse("http://127.0.0.1:4318").unwrap();
        assert_eq!(
            signal_url(&base, Signal::Logs).as_str(),
            "http://127.0.0.1:4318/v1/logs"
        );
        let slash = Url::parse("http://h:4318/").unwrap();
        assert_eq!(
            signal_url(&slash, Signal::Metrics).as_str(),
            "http://h:4318/v1/metrics"
        );
        let custom = Url::parse("https://h/otlp/ingest?k=v").unwrap();
        for s in Signal::ALL {
            assert_eq!(signal_url(&custom, s), custom);
        }
    }

    #[test]
    fn error_messages_come_from_the_status_body() {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let body = Ok(Bytes::from_static(
            br#"{"code":3,"message":"bad trace id"}"#,
        ));
        let m = error_message(StatusCode::BAD_REQUEST, &h, &body);
        assert_eq!(m, "HTTP 400 Bad Request: bad trace id");
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-protobuf"),
        );
        let pb = prost::Message::encode_to_vec(&RpcStatus {
            code: 3,
            message: "nope".into(),
        });
        assert!(error_message(StatusCode::BAD_REQUEST, &h, &Ok(pb.into())).ends_with(": nope"));
        h.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        let long = Ok(Bytes::from("z".repeat(1000)));
        let m = error_message(StatusCode::FORBIDDEN, &h, &long);
        assert!(m.ends_with("..."), "{m}");
        assert!(m.len() < 300);
    }
}
