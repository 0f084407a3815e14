//! Listening and serving connections, the same for both protocols: accept,
//! set TCP_NODELAY, optionally wrap in TLS, serve HTTP/1.1 and/or HTTP/2 with
//! hyper, and on shutdown stop accepting and let in-flight requests finish.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::{Body, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tracing::Instrument as _;
use weir_core::{ComponentError, Shutdown};

/// A client gets this long to finish its TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// An HTTP/1.1 client gets this long to send its request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Binds `addr`; the error names the address (`cannot listen on ...`).
pub(crate) async fn bind(addr: SocketAddr) -> Result<TcpListener, ComponentError> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| ComponentError::new(format!("cannot listen on {addr}: {e}")))
}

/// Accepts one connection with TCP_NODELAY set: OTLP answers are small, and
/// Nagle's algorithm with delayed ACKs was measured stalling each gRPC request
/// by ~40 ms.
pub(crate) async fn accept(listener: &TcpListener) -> io::Result<(TcpStream, SocketAddr)> {
    let (stream, peer) = listener.accept().await?;
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(%peer, error = %e, "cannot set TCP_NODELAY");
    }
    Ok((stream, peer))
}

/// Which HTTP versions a listener speaks.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Versions {
    /// gRPC: HTTP/2 only (prior knowledge or ALPN `h2`).
    Http2,
    /// OTLP/HTTP: HTTP/1.1 with keep-alive, and HTTP/2 (h2c or ALPN).
    Both,
}

fn builder(versions: Versions) -> Builder<TokioExecutor> {
    let mut b = Builder::new(TokioExecutor::new());
    b.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    b.http2().timer(TokioTimer::new());
    match versions {
        Versions::Http2 => b.http2_only(),
        Versions::Both => b,
    }
}

/// Serves connections from `listener` until `shutdown`, then waits up to
/// `grace` for in-flight requests. `handle` answers one request of a client.
pub(crate) async fn serve<H, Fut, B>(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    versions: Versions,
    handle: H,
    shutdown: Shutdown,
    grace: Duration,
) where
    H: Fn(SocketAddr, Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let builder = Arc::new(builder(versions));
    let graceful = GracefulShutdown::new();
    let local = listener.local_addr().ok();
    loop {
        let (stream, peer) = tokio::select! {
            biased;
            () = shutdown.wait() => break,
            accepted = accept(&listener) => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Mostly out of file descriptors: back off instead of spinning.
                    tracing::warn!(listener = ?local, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let handle = handle.clone();
        let service = hyper::service::service_fn(move |req| {
            let fut = handle(peer, req);
            async move { Ok::<_, Infallible>(fut.await) }
        });
        // The watcher exists from now on, so shutdown also waits for handshakes.
        let watcher = graceful.watcher();
        let builder = builder.clone();
        let tls = tls.clone();
        // Connection tasks log in the receiver's span, so their lines name it.
        tokio::spawn(
            async move {
                match tls {
                    None => serve_conn(&builder, stream, service, watcher, peer).await,
                    Some(tls) => {
                        match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, tls.accept(stream)).await
                        {
                            Ok(Ok(stream)) => {
                                serve_conn(&builder, stream, service, watcher, peer).await
                            }
                            Ok(Err(e)) => {
                                tracing::debug!(%peer, error = %e, "TLS handshake failed")
                            }
                            Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                        }
                    }
                }
            }
            .in_current_span(),
        );
    }
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(listener = ?local, "connections still open after {grace:?}; closing them");
    }
}

async fn serve_conn<I, S, B>(
    builder: &Builder<TokioExecutor>,
    io: I,
    service: S,
    watcher: Watcher,
    peer: SocketAddr,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let conn = builder.serve_connection(TokioIo::new(io), service);
    if let Err(e) = watcher.watch(conn).await {
        // Resets and clients going away are routine; not worth more than debug.
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn accepted_connections_have_tcp_nodelay_set() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (server, peer) = accept(&listener).await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        assert!(server.nodelay().unwrap());
    }

    #[tokio::test]
    async fn bind_errors_name_the_address() {
        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = taken.local_addr().unwrap();
        let err = bind(addr).await.unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("cannot listen on {addr}: ")),
            "{err}"
        );
        assert!(err.to_lowercase().contains("in use"), "{err}");
    }
}
