//! The built-in processors in process, through their public API (factory,
//! `process`, `Emitter`), on the shared 1000-record logs request. Each
//! iteration is one batch; criterion's throughput is per record.
//!
//! - `chain/enrich_sample_batch/*`: `enrich` (5 attribute actions + DAS markers
//!   and the HTTP rule) → `sample` → `adaptive_batch`, one after the other on
//!   one task, as a pipeline's three tasks would do the work. `decoded/*`
//!   starts from decoded records (as the stdin receiver produces them);
//!   `encoded/*` from the protobuf bytes of the same request (what the OTLP
//!   receiver hands on), which the three process in their bytes. Inputs are
//!   made outside the timed part. `keep_all` samples at ratio 1.0 with rules,
//!   so every record reaches the batcher (the worst case for it);
//!   `ratio_0_25` keeps a quarter.
//! - `each/*`: the three alone, on each form; `each/drop_only` is the cost of
//!   freeing a decoded batch, which the decoded figures include.
//! - `rate_limit/key_table/*`: the per-key decision alone, among 10,000 live
//!   keys visited in a scattered order: find the bucket, refill, take.
//! - `rate_limit/process/*`: a fresh one-record batch through a per-key
//!   `rate_limit` (10,000 keys live, `unit: batches`, never over the limit):
//!   the decision plus the clock read, key extraction and the emit;
//!   `*/make_batch_only` is the cost of making and freeing the batch, which
//!   the figure includes. `client_subject` keys on the client the receiver saw
//!   (no decode); `resource_attribute` on a resource attribute of a decoded
//!   batch.
//!
//! `cargo bench -p weir-bench --bench processors -- --warm-up-time 1 --measurement-time 3`

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tokio::runtime::Runtime;
use weir_core::otlp::common::v1::{AnyValue, KeyValue, any_value::Value};
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_core::otlp::resource::v1::Resource;
use weir_core::telemetry::{Counter, Kind};
use weir_core::testing::CollectSink;
use weir_core::{
    Batch, BatchMeta, BatchSink, BuildContext, ClientInfo, ComponentConfig, Emitter, Processor,
    ProcessorFactory, SendError, Signal, SignalData,
};
use weir_processors::adaptive_batch::AdaptiveBatchProcessorFactory;
use weir_processors::enrich::EnrichProcessorFactory;
use weir_processors::rate_limit::{Decision, KeyTable, Limits, RateLimitProcessorFactory};
use weir_processors::sample::SampleProcessorFactory;

use common::RECORDS;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Five attribute actions of the usual kinds, DAS markers with the HTTP rule.
const ENRICH: &str = r#"
attributes:
  - { key: deployment.environment.name, value: production, target: resource }
  - { key: pipeline, value: edge }
  - { key: cloud.region, action: upsert, value: eu-west-1 }
  - { key: user.id, action: hash }
  - { key: thread.name, action: rename, to: thread }
das: {}
fingerprint: false
"#;

const SAMPLE_KEEP_ALL: &str = r#"
ratio: 1.0
rules:
  - { name: severe, min_severity: error }
  - { name: health, attribute: http.route, equals: /healthz-never, action: drop }
"#;

const SAMPLE_QUARTER: &str = r#"
ratio: 0.25
hash_seed: 7
rules:
  - { name: severe, min_severity: error }
"#;

const BATCH: &str = "{ max_items: 8192, max_bytes: 4MB, min_delay: 5ms, max_delay: 500ms }";

fn build(factory: &dyn ProcessorFactory, yaml: &str) -> Box<dyn Processor> {
    let cx = BuildContext::for_test(factory.type_name(), Kind::Processor, &[Signal::Logs]);
    let cfg = ComponentConfig::from_yaml(yaml).expect("valid YAML");
    factory.build(&cfg, &cx).expect("valid config")
}

/// Where the last processor's batches go: dropped, as an exporter would after
/// sending them (so freeing them is timed).
struct Discard;

#[async_trait]
impl BatchSink for Discard {
    async fn send(&self, batch: Batch, _: Option<tokio::time::Instant>) -> Result<(), SendError> {
        drop(batch);
        Ok(())
    }
}

fn discard() -> Emitter {
    Emitter::new(Arc::new(Discard), Counter::detached())
}

fn str_kv(key: &str, v: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

/// The shared logs request, each record also carrying Domain-Action-Status
/// attributes (three values, as structured loggers set them).
fn das_logs() -> Vec<ResourceLogs> {
    let mut logs = common::logs_request(RECORDS).resource_logs;
    let parts = [
        ("payment", "send", "success"),
        ("auth", "login", "failure"),
        ("database", "query", "complete"),
    ];
    for (i, r) in logs[0].scope_logs[0].log_records.iter_mut().enumerate() {
        let (d, a, s) = parts[i % parts.len()];
        r.attributes.extend([
            str_kv("domain", d),
            str_kv("action", a),
            str_kv("status", s),
        ]);
    }
    logs
}

/// One stage: feeds each batch in `input` to `p`, returns what it emitted.
async fn stage(p: &mut dyn Processor, input: Vec<Batch>) -> Vec<Batch> {
    let sink = CollectSink::new();
    let mut out = sink.emitter();
    for b in input {
        p.process(b, &mut out).await.expect("processed");
    }
    sink.take()
}

struct Chain {
    enrich: Box<dyn Processor>,
    sample: Box<dyn Processor>,
    batch: Box<dyn Processor>,
    out: Emitter,
}

impl Chain {
    fn new(sample: &str) -> Self {
        Chain {
            enrich: build(&EnrichProcessorFactory, ENRICH),
            sample: build(&SampleProcessorFactory, sample),
            batch: build(&AdaptiveBatchProcessorFactory, BATCH),
            out: discard(),
        }
    }

    async fn run(&mut self, batch: Batch) {
        let enriched = stage(self.enrich.as_mut(), vec![batch]).await;
        let sampled = stage(self.sample.as_mut(), enriched).await;
        for b in sampled {
            self.batch.process(b, &mut self.out).await.expect("batched");
        }
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn chain(c: &mut Criterion, rt: &Runtime) {
    let logs = SignalData::Logs(das_logs());
    let proto = Batch::from_data(logs.clone(), BatchMeta::default()).to_protobuf();
    let decoded = || Batch::from_data(logs.clone(), BatchMeta::default());
    let encoded =
        || Batch::from_encoded(Signal::Logs, proto.clone(), RECORDS, BatchMeta::default());
    // The same data both ways: what the two forms are compared on.
    assert_eq!(encoded().data().unwrap(), decoded().data().unwrap());

    let mut g = c.benchmark_group("chain/enrich_sample_batch");
    g.throughput(Throughput::Elements(RECORDS as u64));
    for (name, sample, make) in [
        (
            "decoded/keep_all",
            SAMPLE_KEEP_ALL,
            &decoded as &dyn Fn() -> Batch,
        ),
        ("decoded/ratio_0_25", SAMPLE_QUARTER, &decoded),
        ("encoded/keep_all", SAMPLE_KEEP_ALL, &encoded),
        ("encoded/ratio_0_25", SAMPLE_QUARTER, &encoded),
    ] {
        let mut chain = Chain::new(sample);
        g.bench_function(name, |b| {
            b.iter_batched(
                make,
                |batch| rt.block_on(chain.run(batch)),
                BatchSize::LargeInput,
            )
        });
        rt.block_on(chain.batch.flush(&mut chain.out)).unwrap();
    }
    g.finish();

    let mut g = c.benchmark_group("each");
    g.throughput(Throughput::Elements(RECORDS as u64));
    // What every `each/*` figure includes: freeing the batch at the end.
    g.bench_function("drop_only", |b| {
        b.iter_batched(decoded, drop, BatchSize::LargeInput)
    });
    for (name, factory, yaml) in [
        (
            "enrich",
            &EnrichProcessorFactory as &dyn ProcessorFactory,
            ENRICH,
        ),
        ("sample/keep_all", &SampleProcessorFactory, SAMPLE_KEEP_ALL),
        ("sample/ratio_0_25", &SampleProcessorFactory, SAMPLE_QUARTER),
        ("adaptive_batch", &AdaptiveBatchProcessorFactory, BATCH),
    ] {
        for (form, make) in [
            ("decoded", &decoded as &dyn Fn() -> Batch),
            ("encoded", &encoded),
        ] {
            let mut p = build(factory, yaml);
            let mut out = discard();
            g.bench_function(format!("{name}/{form}"), |b| {
                b.iter_batched(
                    make,
                    |batch| rt.block_on(p.process(batch, &mut out)).unwrap(),
                    BatchSize::LargeInput,
                )
            });
            rt.block_on(p.flush(&mut out)).unwrap();
        }
    }
    g.finish();
}

const KEYS: usize = 10_000;

fn keyed_batch(key: &str, by_resource: bool) -> Batch {
    if by_resource {
        let logs = vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![str_kv("tenant", key)],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord::default()],
                ..Default::default()
            }],
            ..Default::default()
        }];
        Batch::logs(logs, BatchMeta::default())
    } else {
        let mut client = ClientInfo::default();
        client.subject = Some(key.into());
        let meta = BatchMeta::default().with_client(Arc::new(client));
        Batch::from_encoded(Signal::Logs, bytes::Bytes::new(), 1, meta)
    }
}

fn rate_limit(c: &mut Criterion, rt: &Runtime) {
    let mut g = c.benchmark_group("rate_limit");
    g.throughput(Throughput::Elements(1));
    let keys: Vec<String> = (0..KEYS).map(|i| format!("tenant-{i:05}")).collect();

    // The per-key decision alone: find the key's bucket among 10,000, refill
    // it from the clock reading, take the tokens.
    g.bench_function("key_table/take_10k_keys", |b| {
        let _rt = rt.enter();
        let limits = Limits {
            rate: 1e12,
            burst: 1e12,
        };
        let mut table = KeyTable::new(limits, KEYS);
        let now = tokio::time::Instant::now();
        for k in &keys {
            table.take(k, 1.0, now, false);
        }
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 7919) % KEYS;
            let d = table.take(&keys[i], 1.0, now, false);
            assert_eq!(d, Decision::Admit);
        })
    });

    for (name, key, by_resource) in [
        ("process/client_subject", "client: subject", false),
        (
            "process/resource_attribute",
            "resource_attribute: tenant",
            true,
        ),
    ] {
        let yaml = format!(
            "{{ rate: 1e12, burst: 1e12, unit: batches, max_keys: {KEYS}, key: {{ {key} }} }}"
        );
        let mut p = build(&RateLimitProcessorFactory, &yaml);
        let mut out = discard();
        rt.block_on(async {
            for k in &keys {
                p.process(keyed_batch(k, by_resource), &mut out)
                    .await
                    .unwrap();
            }
        });
        // A fresh batch per call, as a receiver hands them on: made (and
        // freed) inside the timed loop; `process/make_batch_only` is that part.
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for n in 0..iters as usize {
                        let batch = keyed_batch(&keys[(n * 7919) % KEYS], by_resource);
                        p.process(batch, &mut out).await.unwrap();
                    }
                    start.elapsed()
                })
            })
        });
        g.bench_function(format!("{name}/make_batch_only"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for n in 0..iters as usize {
                        let batch = keyed_batch(&keys[(n * 7919) % KEYS], by_resource);
                        drop(std::hint::black_box(batch));
                    }
                    start.elapsed()
                })
            })
        });
    }
    g.finish();
}

fn processors(c: &mut Criterion) {
    let rt = runtime();
    chain(c, &rt);
    rate_limit(c, &rt);
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1));
    targets = processors
}
criterion_main!(benches);
