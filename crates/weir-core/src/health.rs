//! Component health, for the runtime's `/readyz`: a component that cannot do
//! its job for a reason an operator must fix (an exporter whose destination
//! refuses its credentials) says so here, and `/readyz` answers 503 naming
//! it and the reason until it reports healthy again.
//!
//! Reporting healthy when already healthy is one atomic load, so an exporter
//! may report after every successful call.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Every component's health, by component id. Owned by the runtime.
#[derive(Debug, Clone, Default)]
pub struct HealthRegistry {
    unhealthy: Arc<Mutex<BTreeMap<String, String>>>,
}

impl HealthRegistry {
    /// A handle for component `id`.
    pub fn component(&self, id: &str) -> ComponentHealth {
        ComponentHealth {
            id: id.into(),
            registry: Some(self.clone()),
            bad: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The unhealthy components and why, sorted by id.
    pub fn unhealthy(&self) -> Vec<(String, String)> {
        self.lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        // A panic while holding this lock leaves a map that is still valid.
        self.unhealthy.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One component's way to report its health.
#[derive(Debug, Clone)]
pub struct ComponentHealth {
    id: Arc<str>,
    registry: Option<HealthRegistry>,
    bad: Arc<AtomicBool>,
}

impl ComponentHealth {
    /// A handle that reports nowhere (tests, `weir validate`).
    pub fn detached() -> Self {
        ComponentHealth {
            id: "".into(),
            registry: None,
            bad: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Marks the component unhealthy with `reason` (shown by `/readyz`; never
    /// put a secret in it).
    pub fn set_unhealthy(&self, reason: impl Into<String>) {
        self.bad.store(true, Ordering::Relaxed);
        if let Some(r) = &self.registry {
            r.lock().insert(self.id.to_string(), reason.into());
        }
    }

    /// Marks the component healthy again (cheap when it already is).
    pub fn set_healthy(&self) {
        if !self.bad.load(Ordering::Relaxed) {
            return;
        }
        self.bad.store(false, Ordering::Relaxed);
        if let Some(r) = &self.registry {
            r.lock().remove(&*self.id);
        }
    }

    /// Whether the component last said it is healthy.
    pub fn is_healthy(&self) -> bool {
        !self.bad.load(Ordering::Relaxed)
    }
}

impl Default for ComponentHealth {
    fn default() -> Self {
        Self::detached()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_reach_the_registry_and_clear() {
        let reg = HealthRegistry::default();
        let a = reg.component("ledger");
        let b = reg.component("otlp");
        assert!(reg.unhealthy().is_empty());
        a.set_unhealthy("destination answers 401");
        b.set_healthy();
        assert_eq!(
            reg.unhealthy(),
            vec![("ledger".to_string(), "destination answers 401".to_string())]
        );
        assert!(!a.is_healthy());
        a.set_healthy();
        assert!(reg.unhealthy().is_empty() && a.is_healthy());
        ComponentHealth::detached().set_unhealthy("nowhere");
    }
}
