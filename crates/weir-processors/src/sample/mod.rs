//! The `sample` processor: head sampling of logs and spans.
//!
//! Each item is decided on its own, with no state kept between batches:
//!
//! 1. the `rules`, in order; the first that matches decides (keep outright,
//!    drop outright, or sample at its own ratio);
//! 2. otherwise the top-level `ratio`.
//!
//! Sampling at a ratio compares a 64-bit hash of the item's key with
//! `ratio × 2^64` ([`hash`] documents the exact function). The key is the trace
//! id (spans, and logs that carry one), so every span of a trace, and every log
//! of it, gets the same decision in every instance with the same `hash_seed`;
//! else the `hash_attribute` value; else a per-instance random number. Kept
//! items sampled below 1.0 carry `sampling.ratio` so backends can re-weight.
//!
//! The hot path allocates nothing per item (hashes read ids in place, regexes
//! are compiled at build, per-value ratios are looked up by `&str`), except the
//! `sampling.ratio` key pushed onto a kept item (OTLP keys are owned strings).
//! A sampler that keeps everything (ratio 1, no rules) passes batches on
//! without decoding them. See `docs/processors/sample.md`.

mod config;
pub mod hash;
mod record;
mod rules;
#[cfg(test)]
mod tests;
mod wire;
#[cfg(test)]
mod wire_tests;

use weir_core::otlp::common::v1::KeyValue;
use weir_core::telemetry::{ComponentTelemetry, Counter};
use weir_core::{
    Batch, BuildContext, ComponentConfig, ComponentError, ConfigError, Emitter, Processor,
    ProcessorFactory, Signal, async_trait,
};

pub use config::{
    Action, RatioByConfig, RuleConfig, SampleConfig, Scalar, SeverityLevel, StatusMatch,
};
pub use record::SAMPLING_RATIO;
pub use rules::BASE_RULE;

use hash::Rng;
use record::{Item, mark_ratio};
use rules::Sampler;
use wire::Sampled;

/// Counter of sampling decisions, labelled `signal`, `rule` (a rule's `name`,
/// or `ratio` for the top-level ratio) and `outcome` (`kept` or `dropped`).
pub use weir_core::telemetry::names::PROCESSOR_SAMPLE_DECISIONS as SAMPLE_DECISIONS;

/// The `reason` of `weir_processor_dropped_items_total` for every item this
/// processor drops, by ratio or by a `drop` rule.
pub use weir_core::telemetry::reasons::SAMPLED_OUT;

/// Builds `sample` processors.
#[derive(Debug, Clone, Copy, Default)]
pub struct SampleProcessorFactory;

impl ProcessorFactory for SampleProcessorFactory {
    fn type_name(&self) -> &'static str {
        "sample"
    }

    fn description(&self) -> &'static str {
        "head-samples logs and spans: consistent by trace id, with keep/drop rules and per-key ratios"
    }

    fn signals(&self) -> &'static [Signal] {
        &[Signal::Logs, Signal::Traces]
    }

    fn config_schema(&self) -> Option<weir_core::schema::Schema> {
        Some(weir_core::schema::for_config::<SampleConfig>())
    }
    fn build(
        &self,
        cfg: &ComponentConfig,
        cx: &BuildContext,
    ) -> Result<Box<dyn Processor>, ConfigError> {
        let config: SampleConfig = cfg.parse()?;
        Ok(Box::new(SampleProcessor::new(&config, cx)?))
    }
}

/// One `sample` instance (one per pipeline).
pub struct SampleProcessor {
    sampler: Sampler,
    rng: Rng,
    telemetry: ComponentTelemetry,
    /// Counters for logs and traces, registered at build for the pipeline's signals.
    counters: [Option<SignalCounters>; 2],
    /// Decisions of the batch in hand: `[dropped, kept]` per rule (top-level
    /// ratio last), added to the counters once per batch.
    tally: Vec<[u64; 2]>,
}

struct SignalCounters {
    dropped: Counter,
    /// `[dropped, kept]` per rule, the top-level ratio last.
    decisions: Vec<[Counter; 2]>,
}

impl SignalCounters {
    fn new(telemetry: &ComponentTelemetry, signal: Signal, sampler: &Sampler) -> Self {
        let decisions = sampler
            .rule_names()
            .map(|rule| {
                ["dropped", "kept"].map(|outcome| {
                    telemetry.counter(
                        SAMPLE_DECISIONS,
                        Some(signal),
                        &[("rule", rule), ("outcome", outcome)],
                    )
                })
            })
            .collect();
        SignalCounters {
            dropped: telemetry.dropped_items(signal, SAMPLED_OUT),
            decisions,
        }
    }
}

fn slot(signal: Signal) -> Option<usize> {
    match signal {
        Signal::Logs => Some(0),
        Signal::Traces => Some(1),
        Signal::Metrics => None,
    }
}

impl SampleProcessor {
    /// Checks `config` and builds an instance, registering its counters.
    pub fn new(config: &SampleConfig, cx: &BuildContext) -> Result<Self, ConfigError> {
        let sampler = Sampler::compile(config)?;
        let mut counters = [None, None];
        for signal in &cx.signals {
            if let Some(i) = slot(*signal) {
                counters[i] = Some(SignalCounters::new(&cx.telemetry, *signal, &sampler));
            }
        }
        let tally = vec![[0; 2]; sampler.rule_names().count()];
        Ok(SampleProcessor {
            sampler,
            rng: Rng::from_entropy(),
            telemetry: cx.telemetry.clone(),
            counters,
            tally,
        })
    }

    /// Adds the batch's tally to the counters of `signal` and clears it.
    fn record(&mut self, signal: Signal, slot: usize) {
        let counters = self.counters[slot]
            .get_or_insert_with(|| SignalCounters::new(&self.telemetry, signal, &self.sampler));
        let mut dropped = 0;
        for (t, c) in self.tally.iter_mut().zip(&counters.decisions) {
            for outcome in 0..2 {
                if t[outcome] > 0 {
                    c[outcome].add(t[outcome]);
                }
            }
            dropped += t[0];
            *t = [0; 2];
        }
        if dropped > 0 {
            counters.dropped.add(dropped);
        }
    }
}

/// Decides every item of one scope, dropping the sampled-out and marking the
/// kept ones with their ratio.
fn sample_items<I: Item>(
    sampler: &Sampler,
    rng: &mut Rng,
    tally: &mut [[u64; 2]],
    resource: &[KeyValue],
    items: &mut Vec<I>,
    attributes_mut: fn(&mut I) -> &mut Vec<KeyValue>,
) {
    items.retain_mut(|item| {
        let d = sampler.decide(item, resource, rng);
        tally[d.rule][usize::from(d.keep)] += 1;
        if d.keep && d.ratio < 1.0 {
            mark_ratio(attributes_mut(item), d.ratio);
        }
        d.keep
    });
}

#[async_trait]
impl Processor for SampleProcessor {
    async fn process(&mut self, mut batch: Batch, out: &mut Emitter) -> Result<(), ComponentError> {
        let signal = batch.signal();
        let Some(slot) = slot(signal) else {
            return out.emit(batch).await;
        };
        if self.sampler.keeps_everything() {
            // Every item is kept by the top-level ratio: count, and forward the
            // batch as it came (its received bytes stay shareable).
            let last = self.tally.len() - 1;
            self.tally[last][1] = batch.items() as u64;
            self.record(signal, slot);
            return out.emit(batch).await;
        }
        let (sampler, rng, tally) = (&self.sampler, &mut self.rng, &mut self.tally);
        if let Some(bytes) = batch.received_bytes().cloned() {
            match wire::sample(sampler, rng, tally, signal, &bytes, batch.meta()) {
                Ok(Sampled::Unchanged) => {
                    self.record(signal, slot);
                    return out.emit(batch).await;
                }
                Ok(Sampled::Changed(kept)) => {
                    self.record(signal, slot);
                    return match kept {
                        Some(b) => out.emit(*b).await,
                        None => Ok(()),
                    };
                }
                // Bytes that do not parse: the decoded path reports it.
                Err(_) => tally.iter_mut().for_each(|t| *t = [0; 2]),
            }
        }
        match signal {
            Signal::Logs => {
                let logs = batch.logs_mut()?;
                for rl in logs.iter_mut() {
                    let resource = rl.resource.as_ref().map_or(&[][..], |r| &r.attributes);
                    for sl in &mut rl.scope_logs {
                        sample_items(sampler, rng, tally, resource, &mut sl.log_records, |r| {
                            &mut r.attributes
                        });
                    }
                    rl.scope_logs.retain(|sl| !sl.log_records.is_empty());
                }
                logs.retain(|rl| !rl.scope_logs.is_empty());
            }
            _ => {
                let traces = batch.traces_mut()?;
                for rs in traces.iter_mut() {
                    let resource = rs.resource.as_ref().map_or(&[][..], |r| &r.attributes);
                    for ss in &mut rs.scope_spans {
                        sample_items(sampler, rng, tally, resource, &mut ss.spans, |s| {
                            &mut s.attributes
                        });
                    }
                    rs.scope_spans.retain(|ss| !ss.spans.is_empty());
                }
                traces.retain(|rs| !rs.scope_spans.is_empty());
            }
        }
        self.record(signal, slot);
        out.emit(batch).await
    }
}
