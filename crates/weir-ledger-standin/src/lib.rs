//! A stand-in Ledger server (`shared/ledger-api.md`, Ledger's v1 ingest
//! API) for the `ledger` exporter's tests and for benchmarks.
//!
//! It listens on a real socket and answers as Ledger does: bodies are
//! validated by `weir_ledger` exactly as Ledger's gateway and ingestion
//! service do (422 with pydantic's errors, per-log rejections inside a 202),
//! keys are checked (401 + `WWW-Authenticate: Bearer`), requests are rate
//! limited per key over sliding windows (429 + `Retry-After` +
//! `X-RateLimit-*`), logs count against a daily quota (402). On top of that a
//! [`Control`] injects faults (5xx with or without `Retry-After`, revoked
//! keys, slowness, dropped connections, a dead listener) and reads back what
//! arrived ([`Received`], [`Stats`]).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use std::time::Duration;
//! use weir_ledger_standin::{Standin, StandinConfig};
//!
//! let standin = Standin::start(StandinConfig {
//!     requests_per_minute: 5,
//!     minute_window: Duration::from_millis(500),
//!     ..StandinConfig::default()
//! })
//! .await?;
//! let control = standin.control();
//! control.fail_next(2, 503, Some(60));
//! // ... point the exporter at standin.base_url(), then:
//! assert!(control.wait_for_logs(10, Duration::from_secs(5)).await);
//! assert_eq!(standin.stats().status(503), 2);
//! standin.stop().await;
//! # Ok(()) }
//! ```
//!
//! Routes (under `/api/v1`): `POST /ingest/batch`, `POST /ingest/single`,
//! `POST /ingest/spans/batch`, `GET /settings`, `GET /queue/depth`; anything
//! else is 404 `{"detail": "Not Found"}`, a known path with the wrong method
//! 405. Only the three ingest routes are rate limited and carry the
//! `X-RateLimit-*` headers; all five need the key.
#![forbid(unsafe_code)]

mod config;
mod control;
mod faults;
mod handler;
mod ingest;
mod limits;
mod records;
mod respond;
mod server;
mod state;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

pub use config::{DEFAULT_API_KEY, DEFAULT_KEY_ALIAS, StandinConfig};
pub use control::Control;
pub use faults::FaultScope;
pub use records::{Received, ReceivedSpan, Stats};

use server::Server;
use state::Shared;

/// A running stand-in Ledger. Stops when [`Standin::stop`] is called or the
/// runtime it was started on shuts down.
pub struct Standin {
    control: Control,
}

impl Standin {
    /// Binds `config.bind` (default `127.0.0.1:0`, a free port) and starts
    /// serving on the current tokio runtime.
    pub async fn start(config: StandinConfig) -> io::Result<Standin> {
        let shared = Arc::new(Shared::new(&config));
        let server = Arc::new(Server::start(shared.clone(), config.bind).await?);
        Ok(Standin {
            control: Control { shared, server },
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.control.addr()
    }

    /// `http://127.0.0.1:<port>`, the base URL to give a Ledger client.
    pub fn base_url(&self) -> String {
        self.control.base_url()
    }

    /// A handle for faults, settings and the record.
    pub fn control(&self) -> Control {
        self.control.clone()
    }

    /// Every accepted log entry so far, in arrival order.
    pub fn entries(&self) -> Vec<Received> {
        self.control.entries()
    }

    /// Every accepted span so far, in arrival order.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.control.spans()
    }

    /// The counters now.
    pub fn stats(&self) -> Stats {
        self.control.stats()
    }

    /// Stops listening and closes every connection. [`Control`] handles
    /// still read the record afterwards.
    pub async fn stop(self) {
        self.control.stop_listening().await;
    }
}
