//! The `http` receiver: log records as JSON over HTTP, and a drop-in
//! endpoint for apps that use the Ledger SDK.
//!
//! - `POST <path>` (default `/v1/json`): one JSON object, an array of them,
//!   `{"resource": {...}, "logs": [...]}`, or NDJSON; each object maps like a
//!   stdin line ([`weir_otlp::logline`], the same code). See `generic`.
//! - Under `/api/v1/`, Ledger's ingest API (`shared/ledger-api.md`): the
//!   batch, single and spans routes validated exactly as Ledger validates
//!   (`weir_ledger`), and `GET /api/v1/settings` from config. See `ledger`.
//!
//! Both share the API keys (`Authorization: Bearer` or `X-API-Key`), the body
//! limit (enforced while decompressing) and the way into the pipeline: when
//! it stays full past `backpressure_timeout` the client gets 503 with
//! `Retry-After`, so data is in the pipeline or still with the client.

mod config;
mod generic;
mod ledger;
mod respond;
mod state;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, StatusCode};
use hyper::body::Incoming;
use tokio::sync::watch;
use weir_core::{
    BuildContext, ComponentConfig, ComponentError, ConfigError, Receiver, ReceiverContext,
    ReceiverFactory, Signal, async_trait,
};

pub use config::{HttpConfig, LedgerRoutes, TlsConfig};

use crate::net::admission::Admission;
use crate::net::listen::{self, Versions};
use crate::net::tls;
use respond::Answer;
use state::State;

/// Builds `http` receivers.
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpReceiverFactory;

impl ReceiverFactory for HttpReceiverFactory {
    fn type_name(&self) -> &'static str {
        "http"
    }

    fn description(&self) -> &'static str {
        "receives JSON log records over HTTP (object, array, NDJSON) and serves \
         Ledger's ingest API for apps using the Ledger SDK"
    }

    fn signals(&self) -> &'static [Signal] {
        &[Signal::Logs, Signal::Traces]
    }

    fn config_schema(&self) -> Option<weir_core::schema::Schema> {
        Some(weir_core::schema::for_config::<HttpConfig>())
    }
    fn build(
        &self,
        cfg: &ComponentConfig,
        cx: &BuildContext,
    ) -> Result<Box<dyn Receiver>, ConfigError> {
        Ok(Box::new(HttpReceiver::new(
            HttpConfig::from_component(cfg)?,
            cx,
        )?))
    }
}

/// Receives JSON logs and Ledger ingest requests over HTTP.
pub struct HttpReceiver {
    config: HttpConfig,
    addr: SocketAddr,
    id: Arc<str>,
    bound: watch::Sender<Option<SocketAddr>>,
}

impl HttpReceiver {
    /// A receiver with `config` (checked here). Nothing binds before
    /// [`Receiver::run`], and no file is read.
    pub fn new(config: HttpConfig, cx: &BuildContext) -> Result<Self, ConfigError> {
        Ok(HttpReceiver {
            addr: config.address()?,
            config,
            id: cx.id.to_string().into(),
            bound: watch::channel(None).0,
        })
    }

    /// Reports the bound address once [`Receiver::run`] has bound it (for
    /// tests and embedders that configure port 0).
    pub fn bound(&self) -> watch::Receiver<Option<SocketAddr>> {
        self.bound.subscribe()
    }
}

/// Everything a request handler needs.
struct Routes {
    state: State,
    path: String,
    ledger: Option<ledger::Ledger>,
}

#[async_trait]
impl Receiver for HttpReceiver {
    fn endpoints(&self) -> Vec<SocketAddr> {
        // Port 0 never clashes: left out of the runtime's duplicate check.
        [self.addr].into_iter().filter(|a| a.port() != 0).collect()
    }

    async fn run(self: Box<Self>, cx: ReceiverContext) -> Result<(), ComponentError> {
        let HttpReceiver {
            config,
            addr,
            id,
            bound,
        } = *self;
        let acceptor = config
            .tls
            .as_ref()
            .map(|t| tls::Identity::load(t).and_then(|i| i.acceptor(tls::ALPN_HTTP)))
            .transpose()?;
        let listener = listen::bind(addr).await?;
        let local = listener.local_addr().ok();
        let shown = local.map_or_else(|| addr.to_string(), |a| a.to_string());
        tracing::info!(receiver = %id, address = %shown, path = %config.path,
            ledger = config.ledger.enabled, tls = acceptor.is_some(), "HTTP receiver listening");
        bound.send_replace(local);
        let state = State::new(
            id.clone(),
            cx.output,
            &cx.telemetry,
            &config.api_keys,
            config.max_request_bytes.as_usize(),
            config.backpressure_timeout,
        )
        .with_admission(Admission::configured(
            cx.memory.clone(),
            config
                .acknowledgements
                .then_some(config.acknowledgement_timeout),
            &cx.telemetry,
        ));
        // Requests wait at most backpressure_timeout for the pipeline (and
        // acknowledgement_timeout for delivery); the margin covers reading and
        // answering.
        let grace = state.longest_wait() + Duration::from_secs(5);
        let routes = Arc::new(Routes {
            state,
            path: config.path.clone(),
            ledger: config
                .ledger
                .enabled
                .then(|| ledger::Ledger::new(config.ledger.settings.clone())),
        });
        let handle = move |peer, req| {
            let routes = routes.clone();
            async move { route(&routes, peer, req).await }
        };
        listen::serve(
            listener,
            acceptor,
            Versions::Both,
            handle,
            cx.shutdown.clone(),
            grace,
        )
        .await;
        tracing::info!(receiver = %id, "HTTP receiver stopped");
        Ok(())
    }
}

async fn route(routes: &Routes, peer: SocketAddr, req: Request<Incoming>) -> Answer {
    let path = req.uri().path();
    if path == routes.path {
        return generic::handle(&routes.state, peer, req).await;
    }
    if let Some(ledger) = &routes.ledger
        && path.starts_with("/api/v1/")
    {
        return ledger.handle(&routes.state, peer, req).await;
    }
    let msg = format!("unknown path {path}: post records to {}", routes.path);
    respond::error(StatusCode::NOT_FOUND, &msg, None)
}
