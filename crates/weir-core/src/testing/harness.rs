//! [`ProcessorHarness`]: a processor built from its factory and YAML, driven
//! the way the runtime drives it, with its output and telemetry in reach.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use crate::flow::{BatchSink, Emitter, SendError};
use crate::telemetry::{ComponentTelemetry, Counter, Kind, Metric, Series, names};
use crate::testing::Emitted;
use crate::{
    Batch, BuildContext, ComponentConfig, ComponentError, ConfigError, Processor, ProcessorFactory,
};

/// Collects what the processor emits and counts it as the runtime does.
struct HarnessSink {
    batches: Mutex<Vec<Batch>>,
    telemetry: ComponentTelemetry,
}

#[async_trait]
impl BatchSink for HarnessSink {
    async fn send(&self, batch: Batch, _deadline: Option<Instant>) -> Result<(), SendError> {
        self.telemetry
            .counter(names::PROCESSOR_SENT_ITEMS, Some(batch.signal()), &[])
            .add(batch.items() as u64);
        self.batches
            .lock()
            .expect("harness sink poisoned")
            .push(batch);
        Ok(())
    }
}

/// Runs one processor without a runtime: build it from its factory and YAML,
/// feed it batches, move time to fire its timer, flush it, and read what it
/// emitted and what it counted.
///
/// It drives the processor as the runtime's processor task does: a timer
/// (if [`Processor::timer`] asks for one) first fires one period after the
/// harness is made, a tick that is due runs before the next batch, and items
/// in and out are counted on `weir_processor_received_items_total` and
/// `weir_processor_sent_items_total`. The telemetry is detached from any
/// registry the runtime serves, and is read back with
/// [`ProcessorHarness::dropped`], [`ProcessorHarness::counter`] and friends.
///
/// **Time.** [`ProcessorHarness::advance`] sleeps on the tokio clock. Run
/// tests under a paused clock, `#[tokio::test(start_paused = true)]` (tokio's
/// `test-util` feature in your dev-dependencies), and the sleep takes no real
/// time: the clock jumps to each timer tick, and `tokio::time::Instant::now()`
/// inside the processor sees the jump. Without a paused clock the harness
/// still works, in real time.
///
/// ```
/// use weir_core::testing::{ProcessorHarness, logs};
/// # use weir_core::{*, telemetry::Kind};
/// # struct Upper;
/// # #[async_trait]
/// # impl Processor for Upper {
/// #     async fn process(&mut self, mut batch: Batch, out: &mut Emitter) -> Result<(), ComponentError> {
/// #         for rl in batch.logs_mut()? { for sl in &mut rl.scope_logs { for r in &mut sl.log_records {
/// #             if let Some(otlp::common::v1::AnyValue { value: Some(otlp::common::v1::any_value::Value::StringValue(s)) }) = &mut r.body {
/// #                 *s = s.to_uppercase();
/// #             }
/// #         }}}
/// #         out.emit(batch).await
/// #     }
/// # }
/// # struct UpperFactory;
/// # impl ProcessorFactory for UpperFactory {
/// #     fn type_name(&self) -> &'static str { "upper" }
/// #     fn description(&self) -> &'static str { "upper-cases bodies" }
/// #     fn signals(&self) -> &'static [Signal] { &[Signal::Logs] }
/// #     fn build(&self, _: &ComponentConfig, _: &BuildContext) -> Result<Box<dyn Processor>, ConfigError> {
/// #         Ok(Box::new(Upper))
/// #     }
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
/// // In a test: #[tokio::test(start_paused = true)] async fn upper_cases() { ... }
/// let mut h = ProcessorHarness::new(&UpperFactory, "{}");
/// let out = h.process(logs(["hello", "world"])).await.unwrap();
/// assert_eq!(out.bodies(), ["HELLO", "WORLD"]);
/// assert_eq!(h.sent_items(), 2);
/// # });
/// ```
pub struct ProcessorHarness {
    processor: Box<dyn Processor>,
    cx: BuildContext,
    sink: Arc<HarnessSink>,
    out: Emitter,
    period: Option<Duration>,
    next_tick: Option<Instant>,
}

impl ProcessorHarness {
    /// Builds the processor from `yaml` (`"{}"` for an empty config), with a
    /// context named after the factory's type and used in all its signals.
    /// Panics with the config error; see [`ProcessorHarness::try_new`] to
    /// test errors.
    pub fn new(factory: &dyn ProcessorFactory, yaml: &str) -> Self {
        match Self::try_new(factory, yaml) {
            Ok(h) => h,
            Err(e) => panic!("{} refused config `{yaml}`: {e}", factory.type_name()),
        }
    }

    /// Builds the processor from `yaml`, or says why the config is refused.
    ///
    /// ```
    /// # use weir_core::{*, telemetry::Kind};
    /// # use weir_core::testing::ProcessorHarness;
    /// # #[derive(serde::Deserialize)] #[serde(deny_unknown_fields)] struct Cfg { #[serde(default)] _min: i32 }
    /// # struct F;
    /// # impl ProcessorFactory for F {
    /// #     fn type_name(&self) -> &'static str { "f" }
    /// #     fn description(&self) -> &'static str { "" }
    /// #     fn signals(&self) -> &'static [Signal] { &[Signal::Logs] }
    /// #     fn build(&self, cfg: &ComponentConfig, _: &BuildContext) -> Result<Box<dyn Processor>, ConfigError> {
    /// #         let _: Cfg = cfg.parse()?;
    /// #         unimplemented!()
    /// #     }
    /// # }
    /// let err = ProcessorHarness::try_new(&F, "bogus: 1").err().unwrap();
    /// assert!(err.to_string().contains("bogus"));
    /// ```
    pub fn try_new(factory: &dyn ProcessorFactory, yaml: &str) -> Result<Self, ConfigError> {
        let cx = BuildContext::for_test(factory.type_name(), Kind::Processor, factory.signals());
        Self::with_context(factory, yaml, cx)
    }

    /// Builds the processor from `yaml` with your own context: another id or
    /// signals, a [`crate::Downstream`] to report exporter load, a health
    /// handle. Its telemetry is the one the harness reads.
    pub fn with_context(
        factory: &dyn ProcessorFactory,
        yaml: &str,
        cx: BuildContext,
    ) -> Result<Self, ConfigError> {
        let cfg = ComponentConfig::from_yaml(yaml)?;
        let processor = factory.build(&cfg, &cx)?;
        Ok(Self::from_processor(processor, cx))
    }

    /// Drives a processor you built yourself, counting into `cx.telemetry`.
    pub fn from_processor(processor: Box<dyn Processor>, cx: BuildContext) -> Self {
        let sink = Arc::new(HarnessSink {
            batches: Mutex::new(Vec::new()),
            telemetry: cx.telemetry.clone(),
        });
        // The sink counts sent items per signal; the emitter's own counter is spare.
        let out = Emitter::new(sink.clone(), Counter::noop());
        let period = processor.timer().filter(|p| !p.is_zero());
        ProcessorHarness {
            processor,
            cx,
            sink,
            out,
            period,
            next_tick: period.map(|p| Instant::now() + p),
        }
    }

    fn take(&self) -> Emitted {
        std::mem::take(&mut *self.sink.batches.lock().expect("harness sink poisoned")).into()
    }

    /// Runs the timer tick due at `t` (as tokio's `Interval` with
    /// `MissedTickBehavior::Delay`, which the runtime uses, schedules them).
    async fn tick(&mut self, t: Instant) -> Result<(), ComponentError> {
        let period = self.period.expect("a tick needs a period");
        let now = Instant::now();
        self.next_tick = Some(if now > t + Duration::from_millis(5) {
            now + period
        } else {
            t + period
        });
        self.processor.on_timer(&mut self.out).await
    }

    /// Runs the timer ticks that are due now.
    async fn due_ticks(&mut self) -> Result<(), ComponentError> {
        while let Some(t) = self.next_tick.filter(|t| *t <= Instant::now()) {
            self.tick(t).await?;
        }
        Ok(())
    }

    /// Hands `batch` to [`Processor::process`] (after any timer tick that is
    /// due) and returns what was emitted meanwhile.
    pub async fn process(&mut self, batch: Batch) -> Result<Emitted, ComponentError> {
        self.feed(batch).await?;
        Ok(self.take())
    }

    async fn feed(&mut self, batch: Batch) -> Result<(), ComponentError> {
        self.due_ticks().await?;
        self.cx
            .telemetry
            .counter(names::PROCESSOR_RECEIVED_ITEMS, Some(batch.signal()), &[])
            .add(batch.items() as u64);
        self.processor.process(batch, &mut self.out).await
    }

    /// Processes each batch in turn and returns everything emitted.
    pub async fn process_all(
        &mut self,
        batches: impl IntoIterator<Item = Batch>,
    ) -> Result<Emitted, ComponentError> {
        for b in batches {
            self.feed(b).await?;
        }
        Ok(self.take())
    }

    /// Moves the clock `by` (see the type's docs on time), calling
    /// [`Processor::on_timer`] at every tick on the way, and returns what
    /// was emitted meanwhile.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use weir_core::{*, testing::ProcessorHarness};
    /// # struct Ticks(u32);
    /// # #[async_trait]
    /// # impl Processor for Ticks {
    /// #     async fn process(&mut self, b: Batch, out: &mut Emitter) -> Result<(), ComponentError> { out.emit(b).await }
    /// #     fn timer(&self) -> Option<Duration> { Some(Duration::from_millis(10)) }
    /// #     async fn on_timer(&mut self, out: &mut Emitter) -> Result<(), ComponentError> {
    /// #         self.0 += 1;
    /// #         out.emit(weir_core::testing::logs([format!("tick {}", self.0)])).await
    /// #     }
    /// # }
    /// # let cx = BuildContext::for_test("ticks", telemetry::Kind::Processor, &[Signal::Logs]);
    /// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
    /// // A processor whose timer fires every 10ms and emits a record each time.
    /// let mut h = ProcessorHarness::from_processor(Box::new(Ticks(0)), cx);
    /// let out = h.advance(Duration::from_millis(25)).await.unwrap();
    /// assert_eq!(out.bodies(), ["tick 1", "tick 2"]);
    /// # });
    /// ```
    pub async fn advance(&mut self, by: Duration) -> Result<Emitted, ComponentError> {
        let target = Instant::now() + by;
        while let Some(t) = self.next_tick.filter(|t| *t <= target) {
            tokio::time::sleep_until(t).await;
            self.tick(t).await?;
        }
        tokio::time::sleep_until(target).await;
        Ok(self.take())
    }

    /// Calls [`Processor::flush`], as the runtime does at shutdown after the
    /// last batch, and returns what was emitted.
    pub async fn flush(&mut self) -> Result<Emitted, ComponentError> {
        self.processor.flush(&mut self.out).await?;
        Ok(self.take())
    }

    /// The processor's timer period, if it asked for one.
    pub fn timer(&self) -> Option<Duration> {
        self.period
    }

    /// The processor, for calls the harness does not wrap.
    pub fn processor(&mut self) -> &mut dyn Processor {
        self.processor.as_mut()
    }

    /// The context it was built with.
    pub fn context(&self) -> &BuildContext {
        &self.cx
    }

    /// Its telemetry handle, for reading series the helpers below don't cover.
    pub fn telemetry(&self) -> &ComponentTelemetry {
        &self.cx.telemetry
    }

    /// Every series registered so far.
    pub fn series(&self) -> Vec<Series> {
        self.cx.telemetry.registry().snapshot()
    }

    /// The sum of counter `name` over every series carrying all of `labels`
    /// (`&[]` for all of them). Panics when no series of that name was
    /// registered, listing those that were: a misspelt name fails loudly.
    ///
    /// ```
    /// # use weir_core::{*, telemetry::Kind};
    /// # use weir_core::testing::ProcessorHarness;
    /// # struct P;
    /// # #[async_trait] impl Processor for P {
    /// #     async fn process(&mut self, b: Batch, out: &mut Emitter) -> Result<(), ComponentError> { out.emit(b).await }
    /// # }
    /// # let cx = BuildContext::for_test("p", Kind::Processor, &[Signal::Logs]);
    /// // What a factory does at build time:
    /// let rewritten = cx.telemetry.counter("acme_rewrites_total", Some(Signal::Logs), &[("rule", "ip")]);
    /// let h = ProcessorHarness::from_processor(Box::new(P), cx);
    /// rewritten.add(3);
    /// assert_eq!(h.counter("acme_rewrites_total", &[("rule", "ip")]), 3);
    /// assert_eq!(h.counter("acme_rewrites_total", &[("rule", "email")]), 0);
    /// ```
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        self.matching(name, labels, true)
            .into_iter()
            .map(|m| match m {
                Metric::Counter(c) => c.get(),
                other => panic!("{name} is not a counter: {other:?}"),
            })
            .sum()
    }

    /// The sum of gauge `name` over every series carrying all of `labels`;
    /// panics like [`ProcessorHarness::counter`].
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> i64 {
        self.matching(name, labels, true)
            .into_iter()
            .map(|m| match m {
                Metric::Gauge(g) => g.get(),
                other => panic!("{name} is not a gauge: {other:?}"),
            })
            .sum()
    }

    /// Items dropped for `reason` (`weir_processor_dropped_items_total`, all
    /// signals); 0 when nothing registered that reason.
    pub fn dropped(&self, reason: &str) -> u64 {
        self.sum_counter(names::PROCESSOR_DROPPED_ITEMS, &[("reason", reason)])
    }

    /// Items handed to the processor so far, as the runtime counts them.
    pub fn received_items(&self) -> u64 {
        self.sum_counter(names::PROCESSOR_RECEIVED_ITEMS, &[])
    }

    /// Items the processor emitted so far, as the runtime counts them.
    pub fn sent_items(&self) -> u64 {
        self.sum_counter(names::PROCESSOR_SENT_ITEMS, &[])
    }

    fn sum_counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        self.matching(name, labels, false)
            .into_iter()
            .map(|m| match m {
                Metric::Counter(c) => c.get(),
                _ => 0,
            })
            .sum()
    }

    fn matching(&self, name: &str, labels: &[(&str, &str)], must_exist: bool) -> Vec<Metric> {
        let series = self.series();
        if must_exist && !series.iter().any(|s| s.name == name) {
            let mut known: Vec<&str> = series.iter().map(|s| s.name).collect();
            known.sort_unstable();
            known.dedup();
            panic!("no series named {name}; registered: {known:?}");
        }
        series
            .into_iter()
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.iter().any(|(lk, lv)| lk == k && lv == v))
            })
            .map(|s| s.metric)
            .collect()
    }
}
