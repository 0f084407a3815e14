//! When the exporter may send: paused for a `Retry-After`, a used-up quota or
//! an open circuit breaker, or stopped by a refused key until a probe
//! succeeds. Every export waits here first, so one server answer holds back
//! every request, not only the one that got it.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;
use weir_core::ComponentHealth;

use super::config::BreakerConfig;

/// Why sending waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hold {
    /// Sending may go on.
    Open,
    /// Wait until then.
    Until(Instant),
    /// The key was refused: probe before sending.
    Unauthorized,
}

#[derive(Debug)]
struct State {
    paused_until: Option<Instant>,
    unauthorized: bool,
    /// Failed requests in a row (5xx, timeouts, connection errors).
    failures: u32,
}

/// The gate shared by every export of one exporter.
#[derive(Debug)]
pub(crate) struct Gate {
    state: Mutex<State>,
    breaker: BreakerConfig,
    health: ComponentHealth,
}

impl Gate {
    pub(crate) fn new(breaker: BreakerConfig, health: ComponentHealth) -> Self {
        Gate {
            state: Mutex::new(State {
                paused_until: None,
                unauthorized: false,
                failures: 0,
            }),
            breaker,
            health,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What holds sending now.
    pub(crate) fn hold(&self) -> Hold {
        let s = self.lock();
        if s.unauthorized {
            return Hold::Unauthorized;
        }
        match s.paused_until {
            Some(t) if t > Instant::now() => Hold::Until(t),
            _ => Hold::Open,
        }
    }

    /// Holds every request for `d` (extends, never shortens, a pause).
    pub(crate) fn pause(&self, d: Duration) {
        let until = Instant::now() + d;
        let mut s = self.lock();
        s.paused_until = Some(s.paused_until.map_or(until, |t| t.max(until)));
    }

    /// A request got an answer that says the server works.
    pub(crate) fn succeeded(&self) {
        let mut s = self.lock();
        s.failures = 0;
        drop(s);
        self.health.set_healthy();
    }

    /// A request failed transiently; opens the breaker after enough in a
    /// row. True when this failure opened it.
    pub(crate) fn failed(&self) -> bool {
        let mut s = self.lock();
        s.failures += 1;
        if s.failures >= self.breaker.failures {
            s.failures = 0;
            let until = Instant::now() + self.breaker.open_for;
            s.paused_until = Some(s.paused_until.map_or(until, |t| t.max(until)));
            return true;
        }
        false
    }

    /// The key was refused: stop sending until [`Gate::authorized`].
    pub(crate) fn unauthorized(&self, detail: &str) {
        let first = {
            let mut s = self.lock();
            !std::mem::replace(&mut s.unauthorized, true)
        };
        if first {
            tracing::error!(
                detail,
                "ledger exporter: the API key was refused (401); sending stops, data stays queued, the key is probed until it works"
            );
        }
        self.health
            .set_unhealthy("Ledger refuses the API key (401); sending stopped, data kept");
    }

    /// A probe with the key succeeded.
    pub(crate) fn authorized(&self) {
        let was = std::mem::replace(&mut self.lock().unauthorized, false);
        if was {
            tracing::info!("ledger exporter: the API key works again; sending resumes");
        }
        self.health.set_healthy();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_core::HealthRegistry;

    #[tokio::test(start_paused = true)]
    async fn pauses_breaker_and_auth() {
        let reg = HealthRegistry::default();
        let gate = Gate::new(
            BreakerConfig {
                failures: 3,
                open_for: Duration::from_secs(30),
            },
            reg.component("ledger"),
        );
        assert_eq!(gate.hold(), Hold::Open);
        gate.pause(Duration::from_secs(60));
        gate.pause(Duration::from_secs(5));
        let Hold::Until(t) = gate.hold() else {
            panic!()
        };
        assert_eq!(
            t - Instant::now(),
            Duration::from_secs(60),
            "never shortened"
        );
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(gate.hold(), Hold::Open);

        assert!(!gate.failed() && !gate.failed());
        gate.succeeded();
        assert!(
            !gate.failed() && !gate.failed(),
            "a success resets the count"
        );
        assert!(gate.failed(), "the third in a row opens it");
        assert!(matches!(gate.hold(), Hold::Until(_)));

        gate.unauthorized("Invalid API key");
        assert_eq!(gate.hold(), Hold::Unauthorized);
        assert_eq!(reg.unhealthy().len(), 1);
        assert!(reg.unhealthy()[0].1.contains("401"));
        gate.authorized();
        assert!(reg.unhealthy().is_empty());
    }
}
