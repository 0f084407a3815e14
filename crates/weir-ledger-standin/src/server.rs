//! The listener: HTTP/1.1 only (Ledger runs behind uvicorn, which speaks
//! nothing else), one task per connection, all owned by the accept task so
//! that taking the server down closes every open connection at once.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::{JoinHandle, JoinSet};

use crate::handler;
use crate::state::Shared;

/// The listening side, which can go down and come back on the same port.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    shared: Arc<Shared>,
    /// The accept task while listening.
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Server {
    /// Binds `addr` and starts accepting.
    pub(crate) async fn start(shared: Arc<Shared>, addr: SocketAddr) -> io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(accept(listener, shared.clone()));
        Ok(Server {
            addr,
            shared,
            task: Mutex::new(Some(task)),
        })
    }

    /// Stops listening and closes every connection without answering what
    /// is in flight; the port is free until [`Server::up`].
    pub(crate) async fn down(&self) {
        let mut slot = self.task.lock().await;
        if let Some(task) = slot.take() {
            task.abort();
            // Wait until the listener and the connections are really gone.
            let _ = task.await;
        }
    }

    /// Listens again on the same address (no-op when listening).
    pub(crate) async fn up(&self) -> io::Result<()> {
        let mut slot = self.task.lock().await;
        if slot.is_none() {
            // tokio sets SO_REUSEADDR, so the old connections' TIME_WAIT
            // does not block the port.
            let listener = TcpListener::bind(self.addr).await?;
            *slot = Some(tokio::spawn(accept(listener, self.shared.clone())));
        }
        Ok(())
    }

    /// Whether it is listening.
    pub(crate) async fn is_up(&self) -> bool {
        self.task.lock().await.is_some()
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    // Dropping this set (when the task is aborted) aborts every connection.
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    conns.spawn(connection(stream, shared.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait a little
                    // rather than spin.
                    tracing::debug!(error = %e, "stand-in accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |req| handler::serve(shared.clone(), req));
    // An error here is a client going away or a dropped request: both are
    // the stand-in working as asked.
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}
