//! The channel hop between components: a 1000-record logs batch through a
//! `weir_runtime::channel::edge` and through a `FanOut` of two edges, at the
//! runtime's default edge size (8 batches, 8 MiB). Each iteration is one batch,
//! so criterion's time is the cost per batch and its throughput is per record.
//!
//! - `*/same_task/*`: send then receive in one task, the bare cost of the edge
//!   (slot and byte permits, gauge, fan-out clones) without scheduling.
//! - `*/cross_task`: a producer and a consumer task on a two-worker runtime,
//!   pipelined as in a running pipeline, so wake-ups are paid.
//! - `encoded`: the batch holds the received bytes (pass-through);
//!   `decoded`: it holds records only, so its size is computed by walking them,
//!   and a fan-out copies them for every edge but the last.
//!
//! `cargo bench -p weir-bench --bench channel_hop -- --warm-up-time 1 --measurement-time 3`

mod common;

use std::time::Instant;

use bytes::Bytes;
use criterion::{Bencher, Criterion, Throughput, criterion_group, criterion_main};
use tokio::runtime::Runtime;
use weir_core::telemetry::Gauge;
use weir_core::{Batch, BatchMeta, BatchSink, Signal, SignalData};
use weir_runtime::channel::{EdgeReceiver, EdgeSender, FanOut, edge};

use common::RECORDS;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The runtime's default edge: `channel_capacity: 8`, `channel_max_bytes: 8MiB`.
const CAPACITY: usize = 8;
const MAX_BYTES: usize = 8 << 20;

fn new_edge() -> (EdgeSender, EdgeReceiver) {
    edge(CAPACITY, MAX_BYTES, Gauge::detached())
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

struct Data {
    proto: Bytes,
    records: SignalData,
}

impl Data {
    fn new() -> Self {
        let request = common::logs_request(RECORDS);
        Data {
            proto: common::encode(&request),
            records: SignalData::Logs(request.resource_logs),
        }
    }

    fn encoded(&self) -> Batch {
        Batch::from_encoded(
            Signal::Logs,
            self.proto.clone(),
            RECORDS,
            BatchMeta::default(),
        )
    }

    fn decoded(&self) -> Batch {
        Batch::from_data(self.records.clone(), BatchMeta::default())
    }
}

/// One batch goes round and round: sent, received, sent again, so making
/// batches costs nothing inside the timed loop.
fn same_task_edge(b: &mut Bencher<'_>, rt: &Runtime, make: &dyn Fn() -> Batch) {
    b.to_async(rt).iter_custom(|iters| {
        let (tx, mut rx) = new_edge();
        let mut batch = make();
        async move {
            let start = Instant::now();
            for _ in 0..iters {
                tx.send(batch, None).await.expect("edge open");
                batch = rx.recv().await.expect("a batch");
            }
            start.elapsed()
        }
    });
}

/// As [`same_task_edge`] through a fan-out of two: the copy from one edge is
/// dropped, the other goes round again.
fn same_task_fan_out(b: &mut Bencher<'_>, rt: &Runtime, make: &dyn Fn() -> Batch) {
    b.to_async(rt).iter_custom(|iters| {
        let (a, mut ra) = new_edge();
        let (c, mut rc) = new_edge();
        let fan = FanOut::new(vec![a, c]);
        let mut batch = make();
        async move {
            let start = Instant::now();
            for _ in 0..iters {
                fan.send(batch, None).await.expect("edges open");
                drop(ra.recv().await.expect("a batch"));
                batch = rc.recv().await.expect("a batch");
            }
            start.elapsed()
        }
    });
}

/// Fresh encoded batches from this task to consumer tasks on the workers, with
/// up to the edge capacity in flight; timed until every batch has arrived.
fn cross_task(b: &mut Bencher<'_>, rt: &Runtime, data: &Data, edges: usize) {
    b.to_async(rt).iter_custom(|iters| {
        let (senders, receivers): (Vec<_>, Vec<_>) = (0..edges).map(|_| new_edge()).unzip();
        let sink = FanOut::new(senders).into_sink();
        let batches: Vec<Batch> = (0..iters).map(|_| data.encoded()).collect();
        async move {
            let consumers: Vec<_> = receivers
                .into_iter()
                .map(|mut rx| {
                    tokio::spawn(async move {
                        let mut items = 0;
                        while let Some(batch) = rx.recv().await {
                            items += batch.items();
                        }
                        items
                    })
                })
                .collect();
            let start = Instant::now();
            for batch in batches {
                sink.send(batch, None).await.expect("edges open");
            }
            drop(sink);
            for consumer in consumers {
                let items = consumer.await.expect("consumer ran");
                assert_eq!(items, iters as usize * RECORDS);
            }
            start.elapsed()
        }
    });
}

fn channel_hop(c: &mut Criterion) {
    let rt = runtime();
    let data = Data::new();
    let encoded = || data.encoded();
    let decoded = || data.decoded();

    let mut g = c.benchmark_group("channel_hop");
    g.throughput(Throughput::Elements(RECORDS as u64));
    g.bench_function("edge/same_task/encoded", |b| {
        same_task_edge(b, &rt, &encoded)
    });
    g.bench_function("edge/same_task/decoded", |b| {
        same_task_edge(b, &rt, &decoded)
    });
    g.bench_function("fan_out_2/same_task/encoded", |b| {
        same_task_fan_out(b, &rt, &encoded)
    });
    g.bench_function("fan_out_2/same_task/decoded", |b| {
        same_task_fan_out(b, &rt, &decoded)
    });
    g.bench_function("edge/cross_task", |b| cross_task(b, &rt, &data, 1));
    g.bench_function("fan_out_2/cross_task", |b| cross_task(b, &rt, &data, 2));
    g.finish();
}

criterion_group!(benches, channel_hop);
criterion_main!(benches);
