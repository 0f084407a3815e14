//! The `rate_limit` processor: token buckets on items, bytes or batches, for
//! everything or per key (resource attribute, record attribute, or the client
//! subject a receiver saw).
//!
//! Over the limit, data is either dropped (counted as
//! `weir_processor_dropped_items_total{reason="rate_limited"}`) or delayed: the
//! processor reserves the tokens, sleeps until they are there and then passes the
//! data on, so its input edge fills and the receiver feels backpressure; nothing
//! is lost. Per-key buckets live in a `DashMap` bounded by `max_keys`
//! (CLOCK eviction when full) and swept of idle keys on the processor timer.
//! See `docs/processors/rate_limit.md`.

mod bucket;
mod config;
mod keys;
#[cfg(test)]
mod tests;
mod wire_keys;

use std::time::Duration;

use tokio::time::Instant;
use weir_core::telemetry::{Counter, Gauge, names, reasons};
use weir_core::{
    Batch, BuildContext, ComponentConfig, ComponentError, ConfigError, Emitter, Processor,
    ProcessorFactory, Signal, async_trait,
};

pub use config::{ClientField, KeySpec, OnExcess, RateLimitConfig, Unit};

use bucket::Bucket;
pub use bucket::{Decision, KeyTable, Limits};

/// Emits `batch` at `at`: data held back by `on_excess: delay`.
async fn emit_at(at: Instant, batch: Batch, out: &mut Emitter) -> Result<(), ComponentError> {
    tokio::time::sleep_until(at).await;
    out.emit(batch).await
}

/// Builds `rate_limit` processors.
#[derive(Debug, Clone, Copy, Default)]
pub struct RateLimitProcessorFactory;

impl ProcessorFactory for RateLimitProcessorFactory {
    fn type_name(&self) -> &'static str {
        "rate_limit"
    }

    fn description(&self) -> &'static str {
        "limits items, bytes or batches per second, globally or per key; drops or delays the excess"
    }

    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }

    fn config_schema(&self) -> Option<weir_core::schema::Schema> {
        Some(weir_core::schema::for_config::<RateLimitConfig>())
    }
    fn build(
        &self,
        cfg: &ComponentConfig,
        cx: &BuildContext,
    ) -> Result<Box<dyn Processor>, ConfigError> {
        let config = RateLimitConfig::from_component(cfg)?;
        if matches!(config.key, Some(KeySpec::RecordAttribute(_)))
            && cx.signals.contains(&Signal::Metrics)
        {
            return Err(ConfigError::at(
                "key.record_attribute",
                "record attribute keys work on logs and traces; \
                 key metrics on resource_attribute or client",
            ));
        }
        Ok(Box::new(RateLimitProcessor::new(config, cx)))
    }
}

/// A token-bucket rate limiter. One instance per pipeline.
pub struct RateLimitProcessor {
    config: RateLimitConfig,
    limits: Limits,
    /// The bucket of everything (no key) or of data without a key value.
    shared: Bucket,
    table: KeyTable,
    dropped: [Counter; 3],
    delayed: [Counter; 3],
    keys_gauge: Gauge,
}

impl RateLimitProcessor {
    /// A limiter with `config` (checked by [`RateLimitConfig::from_component`]).
    pub fn new(config: RateLimitConfig, cx: &BuildContext) -> Self {
        let limits = Limits {
            rate: config.rate,
            burst: config.burst(),
        };
        let used = |s: &Signal| cx.signals.contains(s);
        let dropped = Signal::ALL.map(|s| {
            if used(&s) {
                cx.telemetry.dropped_items(s, reasons::RATE_LIMITED)
            } else {
                Counter::detached()
            }
        });
        let delayed = Signal::ALL.map(|s| {
            if used(&s) && config.on_excess == OnExcess::Delay {
                cx.telemetry
                    .counter(names::PROCESSOR_RATE_LIMIT_DELAYED_ITEMS, Some(s), &[])
            } else {
                Counter::detached()
            }
        });
        RateLimitProcessor {
            shared: Bucket::new(limits, Instant::now()),
            table: KeyTable::new(limits, config.max_keys),
            // One pipeline, one signal: label with it, as every series is.
            keys_gauge: cx.telemetry.gauge(
                names::PROCESSOR_RATE_LIMIT_KEYS,
                match cx.signals.as_slice() {
                    [s] => Some(*s),
                    _ => None,
                },
                &[],
            ),
            config,
            limits,
            dropped,
            delayed,
        }
    }

    /// Number of per-key buckets held now (never above `max_keys`).
    pub fn tracked_keys(&self) -> usize {
        self.table.len()
    }

    fn cost(&self, batch: &Batch) -> f64 {
        match self.config.unit {
            Unit::Items => batch.items() as f64,
            Unit::Bytes => batch.size_bytes() as f64,
            Unit::Batches => 1.0,
        }
    }

    /// A batch whose data have several keys: split, decide per part, emit
    /// what passes (after its wait, in delay mode) in order.
    async fn process_parts(
        &mut self,
        now: Instant,
        batch: Batch,
        out: &mut Emitter,
    ) -> Result<(), ComponentError> {
        let spec = self.config.key.as_ref().expect("only keyed batches split");
        let parts = keys::split(batch, spec)?;
        let mut held: Vec<(Instant, Batch)> = Vec::new();
        for (key, part) in parts {
            if part.is_empty() {
                continue;
            }
            // The table guard is gone once `decide` returns: waits happen below.
            match self.decide(key.as_deref(), &part, now) {
                Decision::Admit => out.emit(part).await?,
                Decision::Reject => {
                    self.dropped[part.signal().index()].add(part.items() as u64);
                }
                Decision::Wait(d) => {
                    self.delayed[part.signal().index()].add(part.items() as u64);
                    held.push((now + d, part));
                }
            }
        }
        // Parts were reserved in order, so their ready times are ordered per key;
        // a stable sort keeps that order.
        held.sort_by_key(|(at, _)| *at);
        for (at, part) in held {
            emit_at(at, part, out).await?;
        }
        Ok(())
    }

    fn decide(&mut self, key: Option<&str>, batch: &Batch, now: Instant) -> Decision {
        let cost = self.cost(batch);
        let delay = self.config.on_excess == OnExcess::Delay;
        match key {
            Some(k) => {
                let d = self.table.take(k, cost, now, delay);
                self.keys_gauge.set(self.table.len() as i64);
                d
            }
            None => self.shared.take(self.limits, cost, now, delay),
        }
    }
}

#[async_trait]
impl Processor for RateLimitProcessor {
    async fn process(&mut self, batch: Batch, out: &mut Emitter) -> Result<(), ComponentError> {
        if batch.is_empty() {
            return Ok(());
        }
        let now = Instant::now();
        // The common case: the whole batch has one key, read in place.
        let whole = match &self.config.key {
            None => Some(None),
            Some(spec) => keys::whole(&batch, spec)?,
        };
        let Some(key) = whole else {
            // Rare paths are boxed, so this future stays small: it is moved
            // into a box on every call.
            return Box::pin(self.process_parts(now, batch, out)).await;
        };
        let decision = self.decide(key.as_deref(), &batch, now);
        match decision {
            Decision::Admit => out.emit(batch).await,
            Decision::Reject => {
                self.dropped[batch.signal().index()].add(batch.items() as u64);
                Ok(())
            }
            Decision::Wait(d) => {
                self.delayed[batch.signal().index()].add(batch.items() as u64);
                Box::pin(emit_at(now + d, batch, out)).await
            }
        }
    }

    fn timer(&self) -> Option<Duration> {
        self.config.key.as_ref().map(|_| {
            (self.config.idle_timeout / 4).clamp(Duration::from_secs(1), Duration::from_secs(60))
        })
    }

    async fn on_timer(&mut self, _out: &mut Emitter) -> Result<(), ComponentError> {
        let swept = self.table.sweep(Instant::now(), self.config.idle_timeout);
        if swept > 0 {
            tracing::debug!(
                swept,
                left = self.table.len(),
                "rate_limit: idle keys forgotten"
            );
        }
        self.keys_gauge.set(self.table.len() as i64);
        Ok(())
    }
}
