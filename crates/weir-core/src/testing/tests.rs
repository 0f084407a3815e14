//! The testing helpers, tested on toy processors.

use std::time::Duration;

use tokio::time::Instant;

use super::*;
use crate::otlp::common::v1::any_value::Value;
use crate::otlp::metrics::v1::metric::Data;
use crate::telemetry::{Counter, Kind};
use crate::{
    BuildContext, ComponentConfig, ComponentError, ConfigError, Emitter, Processor,
    ProcessorFactory, Signal, SignalData,
};

/// Holds every batch and emits what it holds on its timer, stamping each
/// record with the (tokio) milliseconds since it was built; drops records
/// whose body is "drop".
struct Holder {
    held: Vec<Batch>,
    born: Instant,
    period: Duration,
    dropped: Counter,
}

#[async_trait]
impl Processor for Holder {
    async fn process(&mut self, mut batch: Batch, _: &mut Emitter) -> Result<(), ComponentError> {
        let mut dropped = 0;
        for rl in batch.logs_mut()? {
            for sl in &mut rl.scope_logs {
                let before = sl.log_records.len();
                sl.log_records
                    .retain(|r| value::as_str(r.body.as_ref()) != Some("drop"));
                dropped += before - sl.log_records.len();
            }
        }
        self.dropped.add(dropped as u64);
        self.held.push(batch);
        Ok(())
    }

    fn timer(&self) -> Option<Duration> {
        Some(self.period)
    }

    async fn on_timer(&mut self, out: &mut Emitter) -> Result<(), ComponentError> {
        let ms = self.born.elapsed().as_millis() as i64;
        for mut b in std::mem::take(&mut self.held) {
            for rl in b.logs_mut()? {
                for sl in &mut rl.scope_logs {
                    for r in &mut sl.log_records {
                        r.attributes.push(kv("at_ms", ms));
                    }
                }
            }
            out.emit(b).await?;
        }
        Ok(())
    }

    async fn flush(&mut self, out: &mut Emitter) -> Result<(), ComponentError> {
        for b in std::mem::take(&mut self.held) {
            out.emit(b).await?;
        }
        Ok(())
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct HolderConfig {
    #[serde(with = "humantime_ms")]
    period: Duration,
}

mod humantime_ms {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<std::time::Duration, D::Error> {
        Ok(std::time::Duration::from_millis(u64::deserialize(d)?))
    }
}

struct HolderFactory;

impl ProcessorFactory for HolderFactory {
    fn type_name(&self) -> &'static str {
        "holder"
    }
    fn description(&self) -> &'static str {
        "holds batches until its timer"
    }
    fn signals(&self) -> &'static [Signal] {
        &[Signal::Logs]
    }
    fn build(
        &self,
        cfg: &ComponentConfig,
        cx: &BuildContext,
    ) -> Result<Box<dyn Processor>, ConfigError> {
        let c: HolderConfig = cfg.parse()?;
        Ok(Box::new(Holder {
            held: Vec::new(),
            born: Instant::now(),
            period: c.period,
            dropped: cx.telemetry.dropped_items(Signal::Logs, "dropme"),
        }))
    }
}

#[test]
fn records_sharing_a_resource_share_a_group_in_order() {
    let batch = logs([
        log("a").resource("service.name", "api"),
        log("b").resource("service.name", "api"),
        log("c"),
        log("d").resource("service.name", "api"),
    ]);
    let SignalData::Logs(rl) = batch.data().unwrap() else {
        panic!("logs")
    };
    let sizes: Vec<usize> = rl
        .iter()
        .map(|r| r.scope_logs[0].log_records.len())
        .collect();
    assert_eq!(sizes, [2, 1, 1]);
    assert!(rl[1].resource.is_none());
    let res = rl[0].resource.as_ref().unwrap();
    assert_eq!(attr_str(&res.attributes, "service.name"), Some("api"));
    assert_eq!(Emitted::from(vec![batch]).bodies(), ["a", "b", "c", "d"]);
}

#[test]
fn spans_get_distinct_ids_unless_given() {
    let out = Emitted::from(vec![spans([
        span("a"),
        span("b").trace_id([9; 16]).span_id([8; 8]),
    ])]);
    let s = out.spans();
    assert_eq!(s[0].trace_id, 1u128.to_be_bytes());
    assert_eq!(s[0].span_id, 1u64.to_be_bytes());
    assert_eq!(s[1].trace_id, [9; 16]);
    assert_eq!(s[1].span_id, [8; 8]);
    assert_eq!(out.span_names(), ["a", "b"]);
}

#[test]
fn metric_attributes_go_on_the_last_point() {
    let out = Emitted::from(vec![metrics([
        gauge("cpu", 0.5).attr("core", 0).point(0.7).attr("core", 1),
        sum("requests", 3.0),
    ])]);
    assert_eq!(out.items(), 3);
    assert_eq!(out.metric_names(), ["cpu", "requests"]);
    let Some(Data::Gauge(g)) = &out.metrics()[0].data else {
        panic!("gauge")
    };
    assert_eq!(
        attr(&g.data_points[0].attributes, "core"),
        Some(&Value::IntValue(0))
    );
    assert_eq!(
        attr(&g.data_points[1].attributes, "core"),
        Some(&Value::IntValue(1))
    );
}

#[tokio::test(start_paused = true)]
async fn the_timer_fires_per_period_and_the_processor_sees_the_clock_move() {
    let mut h = ProcessorHarness::new(&HolderFactory, "period: 100");
    assert_eq!(h.timer(), Some(Duration::from_millis(100)));
    let out = h.process(logs(["a", "drop", "b"])).await.unwrap();
    assert!(out.is_empty(), "held until the timer");
    assert!(
        h.advance(Duration::from_millis(99))
            .await
            .unwrap()
            .is_empty()
    );
    let wall = std::time::Instant::now();
    let out = h.advance(Duration::from_millis(1)).await.unwrap();
    assert_eq!(out.bodies(), ["a", "b"]);
    let at: Vec<_> = out
        .log_records()
        .iter()
        .map(|r| attr(&r.attributes, "at_ms").cloned())
        .collect();
    assert_eq!(at, [Some(Value::IntValue(100)), Some(Value::IntValue(100))]);

    h.process(logs(["c"])).await.unwrap();
    // Two more periods: one tick emits c, the other nothing.
    let out = h.advance(Duration::from_millis(250)).await.unwrap();
    assert_eq!(out.log_attr("at_ms"), [None], "an int is not a string");
    assert_eq!(
        attr(&out.log_records()[0].attributes, "at_ms"),
        Some(&Value::IntValue(200))
    );
    assert!(wall.elapsed() < Duration::from_secs(1), "paused clock");

    assert_eq!(h.dropped("dropme"), 1);
    assert_eq!(h.dropped("no such reason"), 0);
    assert_eq!(h.received_items(), 4);
    assert_eq!(h.sent_items(), 3);
    assert_eq!(
        h.counter(
            crate::telemetry::names::PROCESSOR_DROPPED_ITEMS,
            &[("signal", "logs")]
        ),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn a_due_tick_runs_before_the_next_batch() {
    let mut h = ProcessorHarness::new(&HolderFactory, "period: 100");
    h.process(logs(["a"])).await.unwrap();
    // Time moved without the harness: the tick at 100ms is due.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let out = h.process(logs(["b"])).await.unwrap();
    assert_eq!(out.bodies(), ["a"]);
    let out = h.flush().await.unwrap();
    assert_eq!(out.bodies(), ["b"]);
}

#[tokio::test(start_paused = true)]
async fn process_all_returns_everything() {
    let mut h = ProcessorHarness::new(&HolderFactory, "period: 100");
    h.process_all([logs(["a"]), logs(["b", "c"])])
        .await
        .unwrap();
    let out = h.flush().await.unwrap();
    assert_eq!(out.batch_sizes(), [1, 2]);
}

#[test]
fn config_errors_come_back_from_try_new() {
    let err = ProcessorHarness::try_new(&HolderFactory, "period: 1\nextra: 2")
        .err()
        .expect("refused");
    assert!(err.to_string().contains("extra"), "{err}");
}

#[test]
#[should_panic(expected = "holder refused config")]
fn new_panics_with_the_config_error() {
    ProcessorHarness::new(&HolderFactory, "{}");
}

#[test]
#[should_panic(expected = "no series named weir_nope_total")]
fn a_misspelt_counter_name_fails_loudly() {
    let h = ProcessorHarness::new(&HolderFactory, "period: 100");
    h.counter("weir_nope_total", &[]);
}

#[test]
fn with_context_uses_the_given_id() {
    let cx = BuildContext::for_test("holder/edge", Kind::Processor, &[Signal::Logs]);
    let h = ProcessorHarness::with_context(&HolderFactory, "period: 5", cx).unwrap();
    assert_eq!(h.telemetry().component(), "holder/edge");
    assert_eq!(h.context().id.name(), Some("edge"));
}
