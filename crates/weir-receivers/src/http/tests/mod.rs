//! The receiver over real sockets on 127.0.0.1, into a collecting (or
//! stalling) sink.

mod acks_memory;
mod generic;
mod ledger;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::task::JoinHandle;
use weir_core::otlp::common::v1::{AnyValue, KeyValue, any_value};
use weir_core::otlp::logs::v1::LogRecord;
use weir_core::telemetry::{ComponentTelemetry, Kind};
use weir_core::testing::CollectSink;
use weir_core::{
    Batch, BatchSink, BuildContext, ComponentConfig, ComponentError, Receiver, ShutdownTrigger,
    Signal, SignalData,
};

use super::{HttpConfig, HttpReceiver};
use crate::test_support::{Reply, bound, post, wire};

/// A free port and small limits, so bad-input tests stay cheap.
const BASE: &str = "endpoint: '127.0.0.1:0'
max_request_bytes: 64KiB
backpressure_timeout: 100ms
";

/// A running receiver.
struct Server {
    addr: SocketAddr,
    sink: CollectSink,
    telemetry: ComponentTelemetry,
    trigger: ShutdownTrigger,
    task: JoinHandle<Result<(), ComponentError>>,
}

/// Starts a receiver of `BASE` + `extra` into a collector of logs and traces.
async fn start(extra: &str) -> Server {
    start_with(
        &format!("{BASE}{extra}"),
        None,
        &[Signal::Logs, Signal::Traces],
    )
    .await
}

async fn start_with(yaml: &str, sink: Option<Arc<dyn BatchSink>>, signals: &[Signal]) -> Server {
    let build = BuildContext::for_test("http", Kind::Receiver, signals);
    let config = HttpConfig::from_component(&ComponentConfig::from_yaml(yaml).unwrap()).unwrap();
    let receiver = HttpReceiver::new(config, &build).unwrap();
    let (cx, trigger, collect) = wire(&build, sink, signals);
    let bound_to = receiver.bound();
    let task = tokio::spawn(Box::new(receiver).run(cx));
    let addr = bound(bound_to).await;
    Server {
        addr,
        sink: collect,
        telemetry: build.telemetry,
        trigger,
        task,
    }
}

impl Server {
    async fn stop(self) -> Result<(), ComponentError> {
        self.trigger.trigger();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("receiver stopped in time")
            .expect("receiver task did not panic")
    }

    fn batches(&self) -> Vec<Batch> {
        self.sink.take()
    }

    /// Every log record received so far, in order.
    fn records(&self) -> Vec<LogRecord> {
        self.batches()
            .into_iter()
            .flat_map(|b| match b.into_data().unwrap() {
                SignalData::Logs(logs) => logs,
                other => panic!("not logs: {other:?}"),
            })
            .flat_map(|rl| rl.scope_logs)
            .flat_map(|sl| sl.log_records)
            .collect()
    }

    fn refused(&self, signal: Signal, reason: &'static str) -> u64 {
        self.telemetry.refused_items(signal, reason).get()
    }

    async fn post(&self, path: &str, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Reply {
        post(self.addr, path, headers, body.into()).await
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// The attribute `key` of `attrs`.
fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn str_of(v: Option<&AnyValue>) -> &str {
    match v.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s,
        other => panic!("not a string: {other:?}"),
    }
}

const JSON: (&str, &str) = ("content-type", "application/json");
const NDJSON: (&str, &str) = ("content-type", "application/x-ndjson");
