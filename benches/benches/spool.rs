//! The disk spool (`weir_runtime::spool`) on real files in a temporary folder,
//! with 1000-record OTLP logs batches (the shared test shape, ~670 KB encoded):
//!
//! - `append/fsync_interval`: `Spool::append` of one batch with the default
//!   `fsync: interval` (100 ms or 32 MiB), 64 MiB segments. Each record is
//!   acknowledged right after its append, so rolled segments are deleted and a
//!   long run stays within a couple of segments of disk; that deletion is part of
//!   what is measured, as is the ack log write. Throughput in bytes of OTLP
//!   payload (target ≥ 200 MB/s).
//! - `replay/batches`: `Spool::open` of a spool holding 128 such batches, then
//!   `Spool::read_pending` segment by segment until every record is back (as the
//!   harness replays), throughput in OTLP items (target ≥ 500,000 records/s).
//! - `replay/small_frames`: the same for 100,000 records of 100-byte payloads,
//!   throughput in spool records, to show the per-frame cost.
//!
//! `cargo bench -p weir-bench --bench spool -- --warm-up-time 1 --measurement-time 3`

mod common;

use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use weir_runtime::spool::{FsyncPolicy, Signal, Spool, SpoolConfig, SpoolRecord};

use common::RECORDS;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn record(payload: &Bytes, items: u64) -> SpoolRecord {
    SpoolRecord {
        signal: Signal::Logs as i32,
        payload: payload.clone(),
        items,
        sequence: 0,
        received_at_unix_nanos: 1_714_560_000_000_000_000,
        metadata: Vec::new(),
    }
}

fn config() -> SpoolConfig {
    SpoolConfig {
        segment_bytes: 64 * 1024 * 1024,
        max_bytes: 4 * 1024 * 1024 * 1024,
        fsync: FsyncPolicy::default(),
    }
}

/// A spool in a fresh folder holding `count` records of `payload`.
fn filled(payload: &Bytes, items: u64, count: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut spool = Spool::open(dir.path(), config()).expect("open");
    for _ in 0..count {
        spool.append(record(payload, items)).expect("append");
    }
    spool.close().expect("close");
    dir
}

fn spool(c: &mut Criterion) {
    let payload = common::encode(&common::logs_request(RECORDS));

    let mut group = c.benchmark_group("spool/append");
    group.throughput(Throughput::Bytes(payload.len() as u64));
    group.bench_function("fsync_interval", |b| {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut spool = Spool::open(dir.path(), config()).expect("open");
        b.iter(|| {
            let seq = spool
                .append(record(&payload, RECORDS as u64))
                .expect("append");
            spool.ack(black_box(seq)).expect("ack");
        });
    });
    group.finish();

    let mut group = c.benchmark_group("spool/replay");
    let batches = 128;
    let dir = filled(&payload, RECORDS as u64, batches);
    group.throughput(Throughput::Elements((batches * RECORDS) as u64));
    group.bench_function("batches", |b| {
        b.iter(|| {
            let (spool, replayed) = replay(dir.path());
            assert_eq!(replayed.len(), batches);
            black_box((spool, replayed))
        });
    });

    let small = Bytes::from(vec![7u8; 100]);
    let frames = 100_000;
    let dir = filled(&small, 1, frames);
    group.throughput(Throughput::Elements(frames as u64));
    group.bench_function("small_frames", |b| {
        b.iter(|| {
            let (spool, replayed) = replay(dir.path());
            assert_eq!(replayed.len(), frames);
            black_box((spool, replayed))
        });
    });
    group.finish();
}

/// Opens the spool and reads every pending record back, a segment at a time.
fn replay(dir: &std::path::Path) -> (Spool, Vec<weir_runtime::spool::Replayed>) {
    let spool = Spool::open(dir, config()).expect("open");
    let mut all = Vec::new();
    let mut from = 0;
    loop {
        let part = spool.read_pending(from, spool.next_seq()).expect("read");
        let Some(last) = part.last() else { break };
        from = last.seq + 1;
        all.extend(part);
    }
    (spool, all)
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = spool
}
criterion_main!(benches);
