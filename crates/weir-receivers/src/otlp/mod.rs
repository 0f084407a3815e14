//! The `otlp` receiver: OTLP logs, traces and metrics over gRPC and HTTP.
//!
//! Protobuf requests are validated and counted by a walk over the wire format
//! and sent on as the bytes the client sent (decompressed), so a pipeline that
//! never looks inside forwards them without decoding (DESIGN.md §3). OTLP/JSON
//! is decoded into records. When the pipeline stays full past
//! `backpressure_timeout`, the client gets a retryable refusal (HTTP 503 with
//! `Retry-After`, gRPC UNAVAILABLE with RetryInfo): data is either in the
//! pipeline or still with the client, never dropped here (DESIGN.md §5).
//!
//! Layout: [`config`](OtlpConfig) holds the settings, `listen` accepts
//! connections (TCP_NODELAY, TLS, graceful shutdown), `grpc` and `http` speak
//! the protocols, `ingest` is the data path they share, `auth` and `tls` the
//! optional security.

mod config;
mod grpc;
mod http;
mod ingest;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::watch;
use weir_core::{
    BuildContext, ComponentConfig, ComponentError, ConfigError, Receiver, ReceiverContext,
    ReceiverFactory, Signal, async_trait,
};

pub use config::{
    AuthConfig, CorsConfig, GrpcProtocol, HttpProtocol, OtlpConfig, Protocols, TlsConfig,
};

use crate::net::admission::Admission;
use crate::net::listen::{self, Versions};
use crate::net::{auth, tls};
use config::Settings;
use ingest::Ingest;

/// Builds `otlp` receivers.
#[derive(Debug, Clone, Copy, Default)]
pub struct OtlpReceiverFactory;

impl ReceiverFactory for OtlpReceiverFactory {
    fn type_name(&self) -> &'static str {
        "otlp"
    }

    fn description(&self) -> &'static str {
        "receives OTLP logs, traces and metrics over gRPC and HTTP (protobuf or JSON)"
    }

    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }

    fn config_schema(&self) -> Option<weir_core::schema::Schema> {
        Some(weir_core::schema::for_config::<OtlpConfig>())
    }
    fn build(
        &self,
        cfg: &ComponentConfig,
        cx: &BuildContext,
    ) -> Result<Box<dyn Receiver>, ConfigError> {
        Ok(Box::new(OtlpReceiver::new(
            OtlpConfig::from_component(cfg)?,
            cx,
        )?))
    }
}

/// Where a running receiver listens (port 0 in the config becomes the port
/// the system picked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BoundAddrs {
    /// The gRPC listener, when on.
    pub grpc: Option<SocketAddr>,
    /// The HTTP listener, when on.
    pub http: Option<SocketAddr>,
}

/// Receives OTLP over gRPC and HTTP.
pub struct OtlpReceiver {
    settings: Settings,
    id: Arc<str>,
    bound: watch::Sender<Option<BoundAddrs>>,
}

impl OtlpReceiver {
    /// A receiver with `config` (checked here). Nothing binds before
    /// [`Receiver::run`], and no file is read: `weir validate` builds it too.
    pub fn new(config: OtlpConfig, cx: &BuildContext) -> Result<Self, ConfigError> {
        Ok(OtlpReceiver {
            settings: config.check()?,
            id: cx.id.to_string().into(),
            bound: watch::channel(None).0,
        })
    }

    /// Reports the bound addresses once [`Receiver::run`] has bound them (for
    /// tests and embedders that configure port 0).
    pub fn bound(&self) -> watch::Receiver<Option<BoundAddrs>> {
        self.bound.subscribe()
    }
}

#[async_trait]
impl Receiver for OtlpReceiver {
    fn endpoints(&self) -> Vec<SocketAddr> {
        // Port 0 asks the system for a free port: two of those never clash, so
        // they are left out of the runtime's duplicate-address check.
        [self.settings.grpc, self.settings.http]
            .into_iter()
            .flatten()
            .filter(|a| a.port() != 0)
            .collect()
    }

    async fn run(self: Box<Self>, cx: ReceiverContext) -> Result<(), ComponentError> {
        let OtlpReceiver {
            settings,
            id,
            bound,
        } = *self;
        let config = &settings.config;
        let identity = config.tls.as_ref().map(tls::Identity::load).transpose()?;
        let acceptor = |alpn| identity.as_ref().map(|i| i.acceptor(alpn)).transpose();
        let (grpc_tls, http_tls) = (acceptor(tls::ALPN_GRPC)?, acceptor(tls::ALPN_HTTP)?);

        let grpc_listener = match settings.grpc {
            Some(addr) => Some(listen::bind(addr).await?),
            None => None,
        };
        let http_listener = match settings.http {
            Some(addr) => Some(listen::bind(addr).await?),
            None => None,
        };
        let addrs = BoundAddrs {
            grpc: grpc_listener.as_ref().and_then(|l| l.local_addr().ok()),
            http: http_listener.as_ref().and_then(|l| l.local_addr().ok()),
        };
        let show = |a: Option<SocketAddr>| a.map_or_else(|| "off".to_string(), |a| a.to_string());
        tracing::info!(receiver = %id, grpc = %show(addrs.grpc), http = %show(addrs.http),
            tls = identity.is_some(), "OTLP receiver listening");
        bound.send_replace(Some(addrs));

        let ingest = Ingest::new(
            id.clone(),
            cx.output,
            &cx.telemetry,
            config.backpressure_timeout,
            config.max_request_bytes.as_usize(),
            config
                .auth
                .as_ref()
                .map(|a| auth::Auth::new(&a.bearer_tokens, false)),
        )
        .with_admission(Admission::configured(
            cx.memory.clone(),
            config
                .acknowledgements
                .then_some(config.acknowledgement_timeout),
            &cx.telemetry,
        ));
        let ingest = Arc::new(ingest);
        // In-flight requests wait at most backpressure_timeout for the pipeline
        // (and acknowledgement_timeout for delivery); the margin covers reading
        // and answering. A client trickling a body slower than that is cut off
        // rather than holding shutdown up.
        let grace = ingest.longest_wait() + std::time::Duration::from_secs(5);

        let grpc_server = grpc_listener.map(|listener| {
            let ingest = ingest.clone();
            let handle = move |peer, req| grpc::handle(ingest.clone(), peer, req);
            listen::serve(
                listener,
                grpc_tls,
                Versions::Http2,
                handle,
                cx.shutdown.clone(),
                grace,
            )
        });
        let http_server = http_listener.map(|listener| {
            let state = Arc::new(http::HttpState {
                ingest: ingest.clone(),
                cors: config
                    .protocols
                    .http
                    .as_ref()
                    .and_then(|h| h.cors.as_ref())
                    .map(http::Cors::new),
            });
            let handle = move |peer, req| http::handle(state.clone(), peer, req);
            listen::serve(
                listener,
                http_tls,
                Versions::Both,
                handle,
                cx.shutdown.clone(),
                grace,
            )
        });
        tokio::join!(
            async {
                if let Some(s) = grpc_server {
                    s.await;
                }
            },
            async {
                if let Some(s) = http_server {
                    s.await;
                }
            },
        );
        tracing::info!(receiver = %id, "OTLP receiver stopped");
        Ok(())
    }
}
