//! Fake components for runtime tests: a source that sends numbered records, a
//! processor that tags them, and a sink exporter that is slow or fails on cue.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use weir_core::otlp::common::v1::{AnyValue, KeyValue, any_value};
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_core::telemetry::Counter;
use weir_core::{
    Batch, BatchMeta, BuildContext, ComponentConfig, ComponentError, ConfigError, Downstream,
    Emitter, ExportError, ExportOutcome, Exporter, ExporterFactory, Processor, ProcessorFactory,
    Receiver, ReceiverContext, ReceiverFactory, Registry, Signal, async_trait,
};

/// What the fakes observed, shared with the test.
#[derive(Default)]
pub struct Probe {
    /// Batches the source handed to its output.
    pub source_batches: AtomicUsize,
    /// Largest (source batches - sink batches) seen at any export call.
    pub max_lag: AtomicUsize,
    /// Batches the sink took (including failed attempts only once).
    pub sink_batches: AtomicUsize,
    /// Record numbers delivered, per sink id.
    pub delivered: Mutex<Vec<(String, i64)>>,
    /// Export calls, per sink.
    pub calls: AtomicUsize,
    /// Export calls running right now, and the most seen at once.
    pub concurrent: AtomicUsize,
    pub max_concurrent: AtomicUsize,
    /// What the runtime handed each `tag` it built about its exporters.
    pub downstream: Mutex<Vec<Downstream>>,
}

pub fn registry(probe: Arc<Probe>) -> Registry {
    let mut r = Registry::new();
    r.add_receiver(SourceFactory(probe.clone()));
    r.add_processor(TagFactory(probe.clone()));
    r.add_exporter(SinkFactory(probe));
    r
}

fn record(n: i64) -> LogRecord {
    LogRecord {
        attributes: vec![KeyValue {
            key: "n".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::IntValue(n)),
            }),
            ..Default::default()
        }],
        ..Default::default()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceConfig {
    batches: usize,
    items: usize,
    /// Keep running after sending, until shutdown.
    #[serde(default)]
    wait: bool,
}

pub struct SourceFactory(Arc<Probe>);
struct Source {
    cfg: SourceConfig,
    probe: Arc<Probe>,
}

impl ReceiverFactory for SourceFactory {
    fn type_name(&self) -> &'static str {
        "source"
    }
    fn description(&self) -> &'static str {
        "numbered test records"
    }
    fn signals(&self) -> &'static [Signal] {
        &[Signal::Logs]
    }
    fn build(
        &self,
        cfg: &ComponentConfig,
        _: &BuildContext,
    ) -> Result<Box<dyn Receiver>, ConfigError> {
        Ok(Box::new(Source {
            cfg: cfg.parse()?,
            probe: self.0.clone(),
        }))
    }
}

#[async_trait]
impl Receiver for Source {
    async fn run(self: Box<Self>, cx: ReceiverContext) -> Result<(), ComponentError> {
        let mut n = 0i64;
        for _ in 0..self.cfg.batches {
            if cx.shutdown.is_triggered() {
                break;
            }
            let records = (0..self.cfg.items)
                .map(|_| {
                    n += 1;
                    record(n)
                })
                .collect();
            let batch = Batch::logs(
                vec![ResourceLogs {
                    scope_logs: vec![ScopeLogs {
                        log_records: records,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                BatchMeta::default(),
            );
            cx.output
                .send(batch)
                .await
                .map_err(|e| ComponentError::new(e.to_string()))?;
            self.probe.source_batches.fetch_add(1, Ordering::SeqCst);
        }
        if self.cfg.wait {
            cx.shutdown.wait().await;
        }
        Ok(())
    }
}

pub struct TagFactory(Arc<Probe>);
struct Tag(Counter);

impl ProcessorFactory for TagFactory {
    fn type_name(&self) -> &'static str {
        "tag"
    }
    fn description(&self) -> &'static str {
        "adds tagged=true; drops records whose n is divisible by `drop_every`"
    }
    fn signals(&self) -> &'static [Signal] {
        &[Signal::Logs]
    }
    fn build(
        &self,
        _: &ComponentConfig,
        cx: &BuildContext,
    ) -> Result<Box<dyn Processor>, ConfigError> {
        self.0
            .downstream
            .lock()
            .unwrap()
            .push(cx.downstream.clone());
        Ok(Box::new(Tag(cx
            .telemetry
            .dropped_items(Signal::Logs, "test"))))
    }
}

#[async_trait]
impl Processor for Tag {
    async fn process(&mut self, mut batch: Batch, out: &mut Emitter) -> Result<(), ComponentError> {
        for rl in batch.logs_mut()? {
            for sl in &mut rl.scope_logs {
                for r in &mut sl.log_records {
                    r.attributes.push(KeyValue {
                        key: "tagged".into(),
                        value: Some(AnyValue {
                            value: Some(any_value::Value::BoolValue(true)),
                        }),
                        ..Default::default()
                    });
                }
            }
        }
        out.emit(batch).await
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SinkConfig {
    #[serde(default, with = "humantime_serde")]
    delay: Duration,
    /// Fail this many calls with a retryable error first.
    #[serde(default)]
    fail_first: usize,
    /// Fail every call for good.
    #[serde(default)]
    permanent: bool,
    /// Hang forever on every call.
    #[serde(default)]
    hang: bool,
}

pub struct SinkFactory(Arc<Probe>);
struct Sink {
    id: String,
    cfg: SinkConfig,
    probe: Arc<Probe>,
    /// This sink's own calls, for `fail_first`.
    own_calls: AtomicUsize,
}

impl ExporterFactory for SinkFactory {
    fn type_name(&self) -> &'static str {
        "sink"
    }
    fn description(&self) -> &'static str {
        "records what it gets"
    }
    fn signals(&self) -> &'static [Signal] {
        &[Signal::Logs, Signal::Traces, Signal::Metrics]
    }
    fn build(
        &self,
        cfg: &ComponentConfig,
        cx: &BuildContext,
    ) -> Result<Box<dyn Exporter>, ConfigError> {
        Ok(Box::new(Sink {
            id: cx.id.to_string(),
            cfg: cfg.parse()?,
            probe: self.0.clone(),
            own_calls: AtomicUsize::new(0),
        }))
    }
}

#[async_trait]
impl Exporter for Sink {
    async fn export(&self, batch: &Batch) -> Result<ExportOutcome, ExportError> {
        self.probe.calls.fetch_add(1, Ordering::SeqCst);
        let call = self.own_calls.fetch_add(1, Ordering::SeqCst);
        let now = self.probe.concurrent.fetch_add(1, Ordering::SeqCst) + 1;
        self.probe.max_concurrent.fetch_max(now, Ordering::SeqCst);
        let _running = Running(&self.probe.concurrent);
        if self.cfg.hang {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(self.cfg.delay).await;
        if self.cfg.permanent {
            return Err(ExportError::permanent("test_400", "refused"));
        }
        if call < self.cfg.fail_first {
            return Err(ExportError::retry_after(
                "test_503",
                "busy",
                Duration::from_millis(5),
            ));
        }
        let taken = self.probe.sink_batches.fetch_add(1, Ordering::SeqCst) + 1;
        let lag = self
            .probe
            .source_batches
            .load(Ordering::SeqCst)
            .saturating_sub(taken);
        self.probe.max_lag.fetch_max(lag, Ordering::SeqCst);
        let mut d = self.probe.delivered.lock().unwrap();
        for rl in match batch.data().unwrap() {
            weir_core::SignalData::Logs(v) => v,
            _ => unreachable!(),
        } {
            for sl in &rl.scope_logs {
                for r in &sl.log_records {
                    if let Some(any_value::Value::IntValue(n)) =
                        r.attributes[0].value.as_ref().and_then(|v| v.value.clone())
                    {
                        d.push((self.id.clone(), n));
                    }
                }
            }
        }
        Ok(ExportOutcome::delivered(batch.items()))
    }
}

/// Decrements the running-calls gauge however the call ends.
struct Running<'a>(&'a AtomicUsize);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
