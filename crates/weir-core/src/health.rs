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

/// Every component's health, by component id (and by which part of it
/// reports). Owned by the runtime.
#[derive(Debug, Clone, Default)]
pub struct HealthRegistry {
    unhealthy: Arc<Mutex<BTreeMap<(String, &'static str), String>>>,
}

impl HealthRegistry {
    /// A handle for component `id`.
    pub fn component(&self, id: &str) -> ComponentHealth {
        self.component_part(id, "")
    }

    /// A handle for one part of component `id` that reports on its own: the
    /// runtime's exporter harness (`"delivery"`) beside the exporter itself, so
    /// neither clears the other's report.
    pub fn component_part(&self, id: &str, part: &'static str) -> ComponentHealth {
        ComponentHealth {
            id: id.into(),
            part,
            registry: Some(self.clone()),
            bad: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The unhealthy components and why, sorted by id (a component may appear
    /// once per part that reports).
    pub fn unhealthy(&self) -> Vec<(String, String)> {
        self.lock()
            .iter()
            .map(|((id, _), reason)| (id.clone(), reason.clone()))
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, &'static str), String>> {
        // A panic while holding this lock leaves a map that is still valid.
        self.unhealthy.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One component's way to report its health.
#[derive(Debug, Clone)]
pub struct ComponentHealth {
    id: Arc<str>,
    part: &'static str,
    registry: Option<HealthRegistry>,
    bad: Arc<AtomicBool>,
}

impl ComponentHealth {
    /// A handle that reports nowhere (tests, `weir validate`).
    pub fn detached() -> Self {
        ComponentHealth {
            id: "".into(),
            part: "",
            registry: None,
            bad: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Marks the component unhealthy with `reason` (shown by `/readyz`; never
    /// put a secret in it).
    pub fn set_unhealthy(&self, reason: impl Into<String>) {
        self.bad.store(true, Ordering::Relaxed);
        if let Some(r) = &self.registry {
            r.lock()
                .insert((self.id.to_string(), self.part), reason.into());
        }
    }

    /// Marks the component healthy again (cheap when it already is).
    pub fn set_healthy(&self) {
        if !self.bad.load(Ordering::Relaxed) {
            return;
        }
        self.bad.store(false, Ordering::Relaxed);
        if let Some(r) = &self.registry {
            r.lock().remove(&(self.id.to_string(), self.part));
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

    #[test]
    fn parts_of_a_component_report_apart() {
        let reg = HealthRegistry::default();
        let own = reg.component("ledger");
        let delivery = reg.component_part("ledger", "delivery");
        own.set_unhealthy("401");
        delivery.set_unhealthy("failing for 30s");
        assert_eq!(reg.unhealthy().len(), 2);
        delivery.set_healthy();
        assert_eq!(
            reg.unhealthy(),
            vec![("ledger".to_string(), "401".to_string())],
            "the harness recovering does not clear the exporter's own report"
        );
    }
}
