//! The `file` exporter writing 1000-record logs batches through its public
//! surface (factory, YAML config, `Exporter::export` on a multi-thread runtime,
//! as the runtime drives it), into a temporary folder:
//!
//! - `json/*/decoded`: a batch holding records (stdin → file), OTLP/JSON lines,
//!   plain and gzip (level 1);
//! - `json/none/encoded`: a batch of received bytes (OTLP → JSON file), which
//!   adds a decode;
//! - `proto/*/encoded`: received bytes as length-prefixed frames, which should
//!   cost little more than writing the bytes, next to two floors: `memcpy` of
//!   the same bytes, and one plain `write` of them to a file.
//!
//! Files rotate at 256 MiB keeping one backup, so a long run stays within
//! 512 MiB of disk; the rotation is part of what is measured (rare: one per
//! ~250 JSON batches).
//!
//! `cargo bench -p weir-bench --bench file_writer -- --warm-up-time 1 --measurement-time 3`

mod common;

use std::hint::black_box;
use std::io::{Seek, Write};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::runtime::Runtime;
use weir_core::telemetry::Kind;
use weir_core::{
    Batch, BatchMeta, BuildContext, ComponentConfig, Exporter, ExporterFactory, Signal, SignalData,
};
use weir_exporters::file::FileExporterFactory;

use common::RECORDS;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A `file` exporter writing into `dir` with `settings` (YAML lines).
fn exporter(dir: &tempfile::TempDir, file: &str, settings: &str) -> Box<dyn Exporter> {
    let yaml = format!(
        "path: '{}'\n{settings}\nrotation: {{ max_bytes: 256MiB, max_backups: 1 }}",
        dir.path().join(file).display()
    );
    let cx = BuildContext::for_test("file", Kind::Exporter, &[Signal::Logs]);
    FileExporterFactory
        .build(&ComponentConfig::from_yaml(&yaml).expect("yaml"), &cx)
        .expect("valid file exporter config")
}

fn file_writer(c: &mut Criterion) {
    let rt = runtime();
    let request = common::logs_request(RECORDS);
    let proto = common::encode(&request);
    let decoded = Batch::from_data(
        SignalData::Logs(request.resource_logs),
        BatchMeta::default(),
    );
    let encoded = Batch::from_encoded(Signal::Logs, proto.clone(), RECORDS, BatchMeta::default());
    let dir = tempfile::tempdir().expect("temp dir");

    let cases: [(&str, &str, &str, &Batch); 5] = [
        (
            "json/none/decoded",
            "out.json",
            "format: json\ncompression: none",
            &decoded,
        ),
        (
            "json/gzip/decoded",
            "out.json.gz",
            "format: json\ncompression: gzip",
            &decoded,
        ),
        (
            "json/none/encoded",
            "enc.json",
            "format: json\ncompression: none",
            &encoded,
        ),
        (
            "proto/none/encoded",
            "out.pb",
            "format: proto\ncompression: none",
            &encoded,
        ),
        (
            "proto/gzip/encoded",
            "out.pb.gz",
            "format: proto\ncompression: gzip",
            &encoded,
        ),
    ];

    let mut g = c.benchmark_group("file_exporter");
    g.throughput(Throughput::Elements(RECORDS as u64));
    for (name, file, settings, batch) in cases {
        let exporter = exporter(&dir, file, settings);
        g.bench_function(name, |b| {
            b.to_async(&rt).iter(|| exporter.export(batch));
        });
        rt.block_on(exporter.shutdown()).expect("file closed");
    }
    // Floors for `proto/none/encoded`: copying the same bytes in memory, and
    // appending them to a file with one `write` call (truncated at 256 MiB, as
    // the exporter's rotation bounds its file).
    let mut buf = Vec::with_capacity(proto.len());
    g.bench_function("memcpy_baseline", |b| {
        b.iter(|| {
            buf.clear();
            buf.extend_from_slice(black_box(&proto));
        })
    });
    let mut file = std::fs::File::create(dir.path().join("raw.pb")).expect("raw file");
    let mut len = 0;
    g.bench_function("file_write_baseline", |b| {
        b.iter(|| {
            if len >= 256 << 20 {
                file.set_len(0).expect("truncate");
                file.rewind().expect("seek");
                len = 0;
            }
            file.write_all(black_box(&proto)).expect("write");
            len += proto.len();
        })
    });
    g.finish();
}

criterion_group!(benches, file_writer);
criterion_main!(benches);
