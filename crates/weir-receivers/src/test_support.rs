//! Test helpers shared by the network receivers' tests: wiring a receiver
//! to a collecting sink, a small HTTP/1.1 client over real sockets, and a
//! sink that never has room.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use weir_core::testing::CollectSink;
use weir_core::{
    Batch, BatchSink, BuildContext, Output, ReceiverContext, SendError, Shutdown, ShutdownTrigger,
    Signal, async_trait,
};

/// A receiver's context whose `signals` go to `sink`, or to the returned
/// collector when `None`.
pub(crate) fn wire(
    build: &BuildContext,
    sink: Option<Arc<dyn BatchSink>>,
    signals: &[Signal],
) -> (ReceiverContext, ShutdownTrigger, CollectSink) {
    let collect = CollectSink::new();
    let sink = sink.unwrap_or_else(|| Arc::new(collect.clone()));
    let output = Output::new(&build.telemetry, signals.iter().map(|s| (*s, sink.clone())));
    let (trigger, shutdown) = Shutdown::new();
    let cx = ReceiverContext::new(output, shutdown, build.telemetry.clone());
    (cx, trigger, collect)
}

/// What a receiver reports once bound (at most 10 s).
pub(crate) async fn bound<A: Clone>(mut rx: watch::Receiver<Option<A>>) -> A {
    tokio::time::timeout(Duration::from_secs(10), rx.wait_for(Option::is_some))
        .await
        .expect("receiver bound in time")
        .expect("receiver alive")
        .clone()
        .expect("checked above")
}

/// A sink that never has room: waits out the deadline, then says Full.
pub(crate) struct Stalled;

#[async_trait]
impl BatchSink for Stalled {
    async fn send(&self, batch: Batch, deadline: Option<Instant>) -> Result<(), SendError> {
        if let Some(d) = deadline {
            tokio::time::sleep_until(d).await;
        }
        Err(SendError::Full(batch))
    }
}

/// An HTTP answer, read whole.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: ::http::HeaderMap,
    pub(crate) body: Bytes,
}

impl Reply {
    /// A header, when it is text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// An HTTP/1.1 connection to `addr` (kept alive across requests).
pub(crate) async fn connect(addr: SocketAddr) -> http1::SendRequest<Full<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    sender
}

/// Sends `req` on `sender` and reads the answer.
pub(crate) async fn send(
    sender: &mut http1::SendRequest<Full<Bytes>>,
    req: ::http::Request<Full<Bytes>>,
) -> Reply {
    sender.ready().await.unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    Reply {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body: body.collect().await.unwrap().to_bytes(),
    }
}

/// Builds a request; `headers` are (name, value) pairs.
pub(crate) fn req(
    method: &str,
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> ::http::Request<Full<Bytes>> {
    let mut b = ::http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header("host", addr.to_string());
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Full::new(body)).unwrap()
}

/// POSTs `body` on a fresh connection.
pub(crate) async fn post(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> Reply {
    let mut c = connect(addr).await;
    send(&mut c, req("POST", addr, path, headers, body)).await
}

impl Reply {
    /// The body as JSON.
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}
