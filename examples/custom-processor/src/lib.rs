//! # `redact`: a weir processor written outside weir
//!
//! Masks e-mail addresses and payment card numbers in log bodies and in the
//! string attributes of log records, spans and span events, before they
//! leave the machine:
//!
//! ```yaml
//! processors:
//!   redact:
//!     emails: true          # ada@example.com      -> [email]
//!     card_numbers: true    # 4111 1111 1111 1111  -> [card]  (Luhn-checked)
//!     replacement: "[{kind}]"
//!     attributes: true      # attribute values too, not only bodies
//! ```
//!
//! It depends on `weir-core` alone (plus `serde` for its config and `regex`
//! to find candidates); `src/main.rs` adds it to a weir binary with
//! `weir::Distribution`. It counts what it changes on series of its own,
//! named here and registered through the component's telemetry handle:
//! [`REDACTIONS`] by `rule` (`email`, `card`) and [`CHANGED_ITEMS`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod config;
mod scan;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use weir_core::otlp::common::v1::{AnyValue, KeyValue, any_value::Value};
use weir_core::telemetry::Counter;
use weir_core::{
    Batch, BuildContext, ComponentConfig, ComponentError, ConfigError, Emitter, Processor,
    ProcessorFactory, Signal, SignalData, async_trait,
};

pub use config::RedactConfig;
pub use scan::{Found, Scanner, is_card_number};

/// Matches masked, by `rule` (`email`, `card`) and `signal`. A name of our
/// own: weir-core's `telemetry::names` holds the built-in components' names,
/// and a plugin passes its own `&'static str` to the same API.
pub const REDACTIONS: &str = "weir_processor_redact_redactions_total";
/// Log records and spans that had at least one match masked, by `signal`.
pub const CHANGED_ITEMS: &str = "weir_processor_redact_changed_items_total";

/// The factory: what `Distribution::processor` takes.
pub struct RedactFactory;

impl ProcessorFactory for RedactFactory {
    fn type_name(&self) -> &'static str {
        "redact"
    }

    fn description(&self) -> &'static str {
        "masks e-mail addresses and card numbers in log bodies and attributes"
    }

    fn signals(&self) -> &'static [Signal] {
        &[Signal::Logs, Signal::Traces]
    }

    fn build(
        &self,
        cfg: &ComponentConfig,
        cx: &BuildContext,
    ) -> Result<Box<dyn Processor>, ConfigError> {
        let c = RedactConfig::from_component(cfg)?;
        // Register every series at build time, once; the hot path only adds.
        let counters = Signal::ALL.map(|s| {
            if cx.signals.contains(&s) {
                Counters::register(cx, s)
            } else {
                Counters::noop()
            }
        });
        Ok(Box::new(Redact {
            scanner: Scanner::new(&c),
            attributes: c.attributes,
            counters,
        }))
    }
}

/// One signal's series.
struct Counters {
    emails: Counter,
    cards: Counter,
    changed: Counter,
}

impl Counters {
    fn register(cx: &BuildContext, signal: Signal) -> Counters {
        let t = &cx.telemetry;
        Counters {
            emails: t.counter(REDACTIONS, Some(signal), &[("rule", "email")]),
            cards: t.counter(REDACTIONS, Some(signal), &[("rule", "card")]),
            changed: t.counter(CHANGED_ITEMS, Some(signal), &[]),
        }
    }

    fn noop() -> Counters {
        Counters {
            emails: Counter::noop(),
            cards: Counter::noop(),
            changed: Counter::noop(),
        }
    }

    /// Counts one item's matches.
    fn item(&self, found: Found) {
        if found.any() {
            self.emails.add(found.emails);
            self.cards.add(found.cards);
            self.changed.inc();
        }
    }
}

/// The processor: one per pipeline it is used in.
struct Redact {
    scanner: Scanner,
    attributes: bool,
    counters: [Counters; 3],
}

#[async_trait]
impl Processor for Redact {
    async fn process(&mut self, mut batch: Batch, out: &mut Emitter) -> Result<(), ComponentError> {
        // Look before touching: a batch with nothing to mask goes on as it
        // came, and its received bytes are forwarded without a re-encode.
        if !self.wants(batch.data()?) {
            return out.emit(batch).await;
        }
        let counters = &self.counters[batch.signal().index()];
        match batch.data_mut()? {
            SignalData::Logs(logs) => {
                for record in logs
                    .iter_mut()
                    .flat_map(|r| &mut r.scope_logs)
                    .flat_map(|s| &mut s.log_records)
                {
                    let mut found = Found::default();
                    if let Some(body) = &mut record.body {
                        found.add(redact_value(&self.scanner, body));
                    }
                    if self.attributes {
                        found.add(redact_attrs(&self.scanner, &mut record.attributes));
                    }
                    counters.item(found);
                }
            }
            SignalData::Traces(traces) => {
                for span in traces
                    .iter_mut()
                    .flat_map(|r| &mut r.scope_spans)
                    .flat_map(|s| &mut s.spans)
                {
                    let mut found = redact_attrs(&self.scanner, &mut span.attributes);
                    for event in &mut span.events {
                        found.add(redact_attrs(&self.scanner, &mut event.attributes));
                    }
                    counters.item(found);
                }
            }
            // Not in `signals()`: the runtime never sends metrics here.
            SignalData::Metrics(_) => {}
        }
        out.emit(batch).await
    }
}

impl Redact {
    /// Whether anything in `data` would be masked.
    fn wants(&self, data: &SignalData) -> bool {
        let attrs = |a: &[KeyValue]| self.attributes && a.iter().any(|kv| self.kv_wants(kv));
        match data {
            SignalData::Logs(logs) => logs
                .iter()
                .flat_map(|r| &r.scope_logs)
                .flat_map(|s| &s.log_records)
                .any(|r| {
                    r.body.as_ref().is_some_and(|b| self.value_wants(b)) || attrs(&r.attributes)
                }),
            SignalData::Traces(traces) => {
                self.attributes
                    && traces
                        .iter()
                        .flat_map(|r| &r.scope_spans)
                        .flat_map(|s| &s.spans)
                        .any(|s| {
                            attrs(&s.attributes) || s.events.iter().any(|e| attrs(&e.attributes))
                        })
            }
            SignalData::Metrics(_) => false,
        }
    }

    fn kv_wants(&self, kv: &KeyValue) -> bool {
        kv.value.as_ref().is_some_and(|v| self.value_wants(v))
    }

    fn value_wants(&self, value: &AnyValue) -> bool {
        match &value.value {
            Some(Value::StringValue(s)) => self.scanner.has_match(s),
            Some(Value::ArrayValue(a)) => a.values.iter().any(|v| self.value_wants(v)),
            Some(Value::KvlistValue(l)) => l.values.iter().any(|kv| self.kv_wants(kv)),
            _ => false,
        }
    }
}

/// Masks every string in `value`, nested maps and lists included.
fn redact_value(scanner: &Scanner, value: &mut AnyValue) -> Found {
    match &mut value.value {
        Some(Value::StringValue(s)) => {
            let (masked, found) = scanner.redact(s);
            if let Cow::Owned(masked) = masked {
                *s = masked;
            }
            found
        }
        Some(Value::ArrayValue(a)) => {
            let mut found = Found::default();
            for v in &mut a.values {
                found.add(redact_value(scanner, v));
            }
            found
        }
        Some(Value::KvlistValue(l)) => redact_attrs(scanner, &mut l.values),
        _ => Found::default(),
    }
}

/// Masks every string value of `attrs` (keys are left alone).
fn redact_attrs(scanner: &Scanner, attrs: &mut [KeyValue]) -> Found {
    let mut found = Found::default();
    for v in attrs.iter_mut().filter_map(|kv| kv.value.as_mut()) {
        found.add(redact_value(scanner, v));
    }
    found
}
