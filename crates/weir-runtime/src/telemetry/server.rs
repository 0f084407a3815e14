//! The self-telemetry HTTP endpoint: `/metrics`, `/healthz`, `/readyz`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

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

/// How often the heartbeat task runs.
const BEAT_EVERY: Duration = Duration::from_millis(250);

/// `/healthz` fails once the heartbeat is this late: the runtime's
/// scheduler has not run a task for that long (tasks hogging every worker, a
/// deadlock), which is what a restart fixes. Nothing else fails it: a broken
/// destination is `/readyz`'s business, and restarting weir would not help.
const WEDGED_AFTER: Duration = Duration::from_secs(5);

#[derive(Clone)]
struct AppState {
    registry: MetricsRegistry,
    lifecycle: Lifecycle,
    health: HealthRegistry,
    started: Instant,
    /// Milliseconds since `started` at the last heartbeat.
    last_beat: Arc<AtomicU64>,
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
        last_beat: Arc::new(AtomicU64::new(0)),
    };
    let beat = state.clone();
    let beat_stop = shutdown.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(BEAT_EVERY);
        loop {
            tokio::select! {
                _ = tick.tick() => beat.last_beat.store(
                    beat.started.elapsed().as_millis() as u64,
                    Ordering::Relaxed,
                ),
                _ = beat_stop.wait() => break,
            }
        }
    });
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
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
    let text = super::prometheus::exposition(&s.registry, s.started);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}

/// 200 while the runtime's scheduler runs tasks; 503 naming how late the
/// heartbeat is once it passes [`WEDGED_AFTER`].
async fn healthz(State(s): State<AppState>) -> impl IntoResponse {
    let now = s.started.elapsed().as_millis() as u64;
    liveness(Duration::from_millis(
        now.saturating_sub(s.last_beat.load(Ordering::Relaxed)),
    ))
}

fn liveness(late: Duration) -> (StatusCode, String) {
    if late <= WEDGED_AFTER {
        (StatusCode::OK, "ok\n".to_string())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "wedged: the runtime has not run its heartbeat task for {:.1}s\n",
                late.as_secs_f64()
            ),
        )
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healthz_fails_only_once_the_heartbeat_is_late() {
        assert_eq!(liveness(Duration::from_millis(300)).0, StatusCode::OK);
        assert_eq!(liveness(WEDGED_AFTER).0, StatusCode::OK);
        let (code, body) = liveness(Duration::from_secs(9));
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("9.0s"), "{body}");
    }
}
