//! The self-telemetry HTTP endpoint: `/metrics`, `/healthz`, `/readyz`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use weir_core::telemetry::MetricsRegistry;
use weir_core::{HealthRegistry, Shutdown};

/// Where the service is in its life, for `/readyz`.
#[derive(Debug, Clone, Default)]
pub struct Lifecycle(Arc<AtomicU8>);

const STARTING: u8 = 0;
const RUNNING: u8 = 1;
const STOPPING: u8 = 2;

impl Lifecycle {
    /// Every pipeline is running.
    pub fn set_running(&self) {
        self.0.store(RUNNING, Ordering::Relaxed);
    }
    /// Shutdown began.
    pub fn set_stopping(&self) {
        self.0.store(STOPPING, Ordering::Relaxed);
    }
    fn state(&self) -> &'static str {
        match self.0.load(Ordering::Relaxed) {
            STARTING => "starting",
            RUNNING => "running",
            _ => "stopping",
        }
    }
}

#[derive(Clone)]
struct AppState {
    registry: MetricsRegistry,
    lifecycle: Lifecycle,
    health: HealthRegistry,
    started: Instant,
}

/// Binds `addr` and serves until `shutdown`; returns the bound address.
pub async fn start(
    addr: SocketAddr,
    registry: MetricsRegistry,
    lifecycle: Lifecycle,
    health: HealthRegistry,
    shutdown: Shutdown,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot listen for telemetry on {addr}: {e}"),
        )
    })?;
    let bound = listener.local_addr()?;
    let state = AppState {
        registry,
        lifecycle,
        health,
        started: Instant::now(),
    };
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .with_state(state);
    let handle = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            shutdown.wait().await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "telemetry server failed");
        }
    });
    Ok((bound, handle))
}

async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    let mut text = super::prometheus::render(&s.registry.snapshot());
    super::process::render(&mut text, s.started);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}

/// 200 `running` when every pipeline runs and every component is healthy;
/// otherwise 503 with a JSON body naming the state and each unhealthy
/// component with its reason, so an operator sees why at a glance.
async fn readyz(State(s): State<AppState>) -> impl IntoResponse {
    let state = s.lifecycle.state();
    let unhealthy = s.health.unhealthy();
    if state == "running" && unhealthy.is_empty() {
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain")],
            format!("{state}\n"),
        );
    }
    let components: Vec<serde_json::Value> = unhealthy
        .into_iter()
        .map(|(component, reason)| serde_json::json!({ "component": component, "reason": reason }))
        .collect();
    let body = serde_json::json!({ "status": state, "unhealthy": components });
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "application/json")],
        format!("{body}\n"),
    )
}
