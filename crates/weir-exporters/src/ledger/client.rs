//! Talking to Ledger: one pooled `reqwest` client (keep-alive; HTTP/2 when
//! the server offers it over TLS), and each answer sorted per the contract's
//! table into what the exporter must do.

use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, StatusCode};
use reqwest::Url;
use serde::Deserialize;
use weir_core::ConfigError;
use weir_ledger::settings::Settings;
use weir_otlp::status::parse_retry_after;

use crate::otlp::http::{error_chain, read_capped, transport_reason};

/// What an answer asks of the exporter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Answer {
    /// 202: taken, possibly in part.
    Accepted {
        accepted: u64,
        rejected: u64,
        errors: Vec<String>,
    },
    /// 400, 422 and other 4xx: never worth sending again.
    Permanent { status: u16, detail: String },
    /// 401: the key is refused.
    Unauthorized(String),
    /// 402: the daily quota is used up.
    QuotaExceeded(String),
    /// 429: over the request rate.
    Throttled(Option<Duration>),
    /// 503: the server's queue is full or its breaker open.
    Unavailable(Option<Duration>),
    /// Other 5xx, timeouts, connection errors: transient.
    Failed { reason: String, message: String },
}

#[derive(Deserialize)]
struct Ingested {
    #[serde(default)]
    accepted: u64,
    #[serde(default)]
    rejected: u64,
    #[serde(default)]
    errors: Option<Vec<String>>,
}

/// The HTTP side of the exporter.
#[derive(Debug)]
pub(crate) struct Client {
    http: reqwest::Client,
    batch_url: Url,
    settings_url: Url,
    auth: HeaderValue,
}

impl Client {
    /// A client for `base` (ending in `/api/v1/`). No connection yet.
    pub(crate) fn new(base: &Url, api_key: &str, timeout: Duration) -> Result<Self, ConfigError> {
        let mut auth = HeaderValue::from_str(&format!("Bearer {api_key}"))
            .map_err(|_| ConfigError::at("api_key", "holds characters a header cannot carry"))?;
        auth.set_sensitive(true);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(90))
            // A redirected POST would become a GET and lose the body.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConfigError::new(format!("cannot build the HTTP client: {e}")))?;
        let join = |p: &str| {
            base.join(p)
                .map_err(|e| ConfigError::at("endpoint", e.to_string()))
        };
        Ok(Client {
            http,
            batch_url: join("ingest/batch")?,
            settings_url: join("settings")?,
            auth,
        })
    }

    /// POSTs one `{"logs": [...]}` body, gzipped when `gzip`.
    pub(crate) async fn send_batch(&self, body: Bytes, gzip: bool) -> Answer {
        let mut request = self
            .http
            .post(self.batch_url.clone())
            .header(AUTHORIZATION, self.auth.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if gzip {
            request = request.header(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        let response = match request.body(body).send().await {
            Ok(r) => r,
            Err(e) => return transport(&e),
        };
        let status = response.status();
        let after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = read_capped(response).await;
        classify(status, after, body)
    }

    /// `GET /api/v1/settings`: the settings, or the answer that refused them.
    pub(crate) async fn settings(&self) -> Result<Settings, Answer> {
        let response = self
            .http
            .get(self.settings_url.clone())
            .header(AUTHORIZATION, self.auth.clone())
            .send()
            .await
            .map_err(|e| transport(&e))?;
        let status = response.status();
        let body = read_capped(response).await;
        if status == StatusCode::OK {
            let body = body.map_err(|message| Answer::Failed {
                reason: "transport".into(),
                message,
            })?;
            return serde_json::from_slice(&body).map_err(|e| Answer::Failed {
                reason: "bad_settings".into(),
                message: format!("unreadable settings: {e}"),
            });
        }
        Err(classify(status, None, body))
    }
}

fn transport(e: &reqwest::Error) -> Answer {
    Answer::Failed {
        reason: transport_reason(e).into(),
        message: error_chain(e),
    }
}

/// Sorts an answer per the contract's table.
fn classify(status: StatusCode, after: Option<Duration>, body: Result<Bytes, String>) -> Answer {
    let code = status.as_u16();
    let body = body.unwrap_or_default();
    match code {
        200..=299 => match serde_json::from_slice::<Ingested>(&body) {
            Ok(i) => Answer::Accepted {
                accepted: i.accepted,
                rejected: i.rejected,
                errors: i.errors.unwrap_or_default(),
            },
            // Taken whatever the body says: resending would duplicate.
            Err(_) => Answer::Accepted {
                accepted: 0,
                rejected: 0,
                errors: Vec::new(),
            },
        },
        401 => Answer::Unauthorized(detail(&body)),
        402 => Answer::QuotaExceeded(detail(&body)),
        429 => Answer::Throttled(after),
        503 => Answer::Unavailable(after),
        500..=599 => Answer::Failed {
            reason: format!("http_{code}"),
            message: detail(&body),
        },
        // 408 is a timeout in all but name.
        408 => Answer::Failed {
            reason: "http_408".into(),
            message: detail(&body),
        },
        _ => Answer::Permanent {
            status: code,
            detail: detail(&body),
        },
    }
}

/// `detail` of a FastAPI error body (a string, or the 422 list as JSON), else
/// the start of the body.
fn detail(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => match &v["detail"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => v.to_string(),
            d => d.to_string(),
        },
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    let mut text = text;
    if text.len() > 512 {
        let cut = (0..=512)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        text.truncate(cut);
        text.push_str("...");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(b: &str) -> Result<Bytes, String> {
        Ok(Bytes::from(b.to_string()))
    }

    #[test]
    fn answers_sort_per_the_contract() {
        let s = |c| StatusCode::from_u16(c).unwrap();
        assert_eq!(
            classify(
                s(202),
                None,
                ok(r#"{"accepted":2,"rejected":1,"message":"x","errors":["Log 1: bad"]}"#)
            ),
            Answer::Accepted {
                accepted: 2,
                rejected: 1,
                errors: vec!["Log 1: bad".into()]
            }
        );
        assert!(matches!(
            classify(s(422), None, ok(r#"{"detail":[{"msg":"m"}]}"#)),
            Answer::Permanent { status: 422, .. }
        ));
        assert!(
            matches!(classify(s(400), None, ok(r#"{"detail":"bad gzip"}"#)), Answer::Permanent { status: 400, ref detail } if detail == "bad gzip")
        );
        assert!(matches!(
            classify(s(401), None, ok(r#"{"detail":"Invalid API key"}"#)),
            Answer::Unauthorized(_)
        ));
        assert!(matches!(
            classify(
                s(402),
                None,
                ok(r#"{"detail":"Daily quota exceeded: 5/5"}"#)
            ),
            Answer::QuotaExceeded(_)
        ));
        assert_eq!(
            classify(s(429), Some(Duration::from_secs(60)), ok("")),
            Answer::Throttled(Some(Duration::from_secs(60)))
        );
        assert_eq!(classify(s(503), None, ok("")), Answer::Unavailable(None));
        assert!(
            matches!(classify(s(500), None, ok(r#"{"detail":"boom"}"#)), Answer::Failed { ref reason, .. } if reason == "http_500")
        );
        assert!(matches!(
            classify(s(404), None, ok("nope")),
            Answer::Permanent { status: 404, .. }
        ));
    }
}
