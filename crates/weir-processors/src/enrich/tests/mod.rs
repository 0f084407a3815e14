//! The processor through its public surface: built from YAML by the factory,
//! fed batches, checked in a collecting sink. Helpers here; tests by concern
//! in the files beside.

mod attributes;
mod das;
mod masking;
mod signals;
mod wire;

use std::io::Write;
use std::sync::Arc;

use weir_core::otlp::common::v1::{AnyValue, KeyValue, KeyValueList, any_value::Value};
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_core::otlp::resource::v1::Resource;
use weir_core::otlp::trace::v1::Span;
use weir_core::telemetry::Kind;
use weir_core::testing::CollectSink;
use weir_core::{
    Batch, BatchMeta, BuildContext, ComponentConfig, ConfigError, Processor, ProcessorFactory,
    Signal,
};

use super::EnrichProcessorFactory;
use super::{detectors, fingerprint, lookup};

fn cx() -> BuildContext {
    BuildContext::for_test("enrich", Kind::Processor, &[Signal::Logs, Signal::Traces])
}

fn build(yaml: &str) -> Result<Box<dyn Processor>, ConfigError> {
    EnrichProcessorFactory.build(&ComponentConfig::from_yaml(yaml)?, &cx())
}

fn s(v: &str) -> Value {
    Value::StringValue(v.to_owned())
}

fn kv(k: &str, v: Value) -> KeyValue {
    KeyValue {
        key: k.to_owned(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    }
}

fn record(body: &str, attrs: Vec<KeyValue>) -> LogRecord {
    LogRecord {
        body: Some(AnyValue {
            value: Some(s(body)),
        }),
        attributes: attrs,
        ..Default::default()
    }
}

/// Runs one log record (with `resource` attributes) through `yaml`.
async fn run_log(yaml: &str, resource: Vec<KeyValue>, r: LogRecord) -> (Vec<KeyValue>, LogRecord) {
    let mut p = build(yaml).unwrap();
    let batch = Batch::logs(
        vec![ResourceLogs {
            resource: Some(Resource {
                attributes: resource,
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: vec![r],
                ..Default::default()
            }],
            ..Default::default()
        }],
        BatchMeta::default(),
    );
    let sink = CollectSink::new();
    p.process(batch, &mut sink.emitter()).await.unwrap();
    let mut batches = sink.take();
    assert_eq!(batches.len(), 1);
    let mut rl = batches.remove(0).logs_mut().unwrap().remove(0);
    let rec = rl.scope_logs.remove(0).log_records.remove(0);
    (rl.resource.unwrap_or_default().attributes, rec)
}

fn get<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

fn get_s<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    match get(attrs, key) {
        Some(Value::StringValue(v)) => Some(v),
        _ => None,
    }
}

fn body(r: &LogRecord) -> &str {
    match r.body.as_ref().and_then(|b| b.value.as_ref()) {
        Some(Value::StringValue(v)) => v,
        other => panic!("body is {other:?}"),
    }
}

// ---- (1) attribute actions ----
