//! The series the `ledger` exporter adds to the harness's.

use weir_core::Signal;
use weir_core::telemetry::{ComponentTelemetry, Counter, names};

/// The series the exporter adds to the harness's.
pub(crate) struct Metrics {
    pub(crate) telemetry: ComponentTelemetry,
    /// The harness's retry series: requests retried here, in their turn or
    /// to finish a batch, count with the harness's own retries.
    pub(crate) retries: Counter,
    pub(crate) truncated: Counter,
    pub(crate) limit_wait_ms: Counter,
    pub(crate) settings_ok: Counter,
    pub(crate) settings_failed: Counter,
}

impl Metrics {
    pub(crate) fn new(telemetry: &ComponentTelemetry) -> Self {
        let c = |name, result: Option<&str>| match result {
            Some(r) => telemetry.counter(name, None, &[("result", r)]),
            None => telemetry.counter(name, Some(Signal::Logs), &[]),
        };
        Metrics {
            truncated: c(names::EXPORTER_LEDGER_TRUNCATED_ITEMS, None),
            limit_wait_ms: telemetry.counter(names::EXPORTER_LEDGER_RATE_LIMIT_WAIT, None, &[]),
            settings_ok: c(names::EXPORTER_LEDGER_SETTINGS_FETCHES, Some("ok")),
            settings_failed: c(names::EXPORTER_LEDGER_SETTINGS_FETCHES, Some("failed")),
            retries: telemetry.counter(names::EXPORTER_RETRIES, Some(Signal::Logs), &[]),
            telemetry: telemetry.clone(),
        }
    }

    /// Counts one request by its answer (a registry lookup a request, not a
    /// record: requests carry up to 1000 records).
    pub(crate) fn call(&self, status: &str, error: bool) {
        self.telemetry
            .counter(
                names::EXPORTER_LEDGER_API_CALLS,
                None,
                &[("status", status)],
            )
            .inc();
        if error {
            self.telemetry
                .counter(
                    names::EXPORTER_LEDGER_API_ERRORS,
                    None,
                    &[("status", status)],
                )
                .inc();
        }
    }
}
