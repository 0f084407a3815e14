//! A bare HTTP/1.1 client (one fresh connection per request, so a dropped
//! connection or a dead listener shows as exactly one failed request) and
//! request bodies.
#![allow(dead_code)] // each test file uses its own part

use std::io::Write;
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderMap, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use weir_ledger::Timestamp;
use weir_ledger_standin::DEFAULT_API_KEY;

pub const BATCH: &str = "/api/v1/ingest/batch";
pub const SINGLE: &str = "/api/v1/ingest/single";
pub const SPANS: &str = "/api/v1/ingest/spans/batch";
pub const SETTINGS: &str = "/api/v1/settings";

/// An answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// Why a request got no answer.
#[derive(Debug)]
pub enum NoAnswer {
    Connect(std::io::Error),
    Http(hyper::Error),
}

/// Sends one request on a new connection.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Result<Reply, NoAnswer> {
    let stream = TcpStream::connect(addr).await.map_err(NoAnswer::Connect)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(NoAnswer::Http)?;
    tokio::spawn(conn);
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(Bytes::from(body))).unwrap();
    let res = sender.send_request(req).await.map_err(NoAnswer::Http)?;
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res
        .into_body()
        .collect()
        .await
        .map_err(NoAnswer::Http)?
        .to_bytes();
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// `Authorization: Bearer <DEFAULT_API_KEY>`.
pub fn bearer() -> String {
    format!("Bearer {DEFAULT_API_KEY}")
}

/// POSTs JSON with the default key.
pub async fn post(addr: SocketAddr, path: &str, body: &Value) -> Reply {
    let auth = bearer();
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    send(
        addr,
        "POST",
        path,
        &headers,
        serde_json::to_vec(body).unwrap(),
    )
    .await
    .unwrap()
}

/// GETs with the default key.
pub async fn get(addr: SocketAddr, path: &str) -> Reply {
    let auth = bearer();
    send(
        addr,
        "GET",
        path,
        &[("authorization", auth.as_str())],
        Vec::new(),
    )
    .await
    .unwrap()
}

/// RFC 3339 `offset_secs` from now.
pub fn at(offset_secs: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    Timestamp::from_unix_nano((now + offset_secs * 1_000_000_000) as u64).to_string()
}

/// A valid entry.
pub fn entry(message: &str) -> Value {
    json!({ "timestamp": at(-1), "level": "info", "message": message })
}

/// `{"logs": [...]}` of `n` valid entries named `<prefix>-<i>`.
pub fn batch(prefix: &str, n: usize) -> Value {
    let logs: Vec<Value> = (0..n).map(|i| entry(&format!("{prefix}-{i}"))).collect();
    json!({ "logs": logs })
}

/// gzip of `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}
