//! OTLP codec hot paths, per request of 1000 records (throughput in records):
//! prost decode and encode, the validating wire walk, OTLP/JSON encode and
//! decode, the lazy-batch pass-through, `Batch::clone`, gzip and zstd, and the
//! log-line mapping of the stdin receiver. DESIGN.md §3 has the reference costs.
//!
//! `cargo bench -p weir-bench --bench otlp_codec -- --warm-up-time 1 --measurement-time 3`

mod common;

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use prost::Message;
use weir_core::otlp::collector::logs::v1::ExportLogsServiceRequest;
use weir_core::otlp::collector::trace::v1::ExportTraceServiceRequest;
use weir_core::{Batch, BatchMeta, Signal, SignalData};
use weir_otlp::compression::{self, Encoding};
use weir_otlp::logline::{LineFormat, record_from_line};

use common::RECORDS;

// As in the `weir` binary: what ships is what is measured.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Decompression limit: far above any request here, so it never trips.
const LIMIT: usize = 64 << 20;

fn logs(c: &mut Criterion) {
    let request = common::logs_request(RECORDS);
    let proto = common::encode(&request);
    assert_eq!(
        weir_otlp::wire::inspect(Signal::Logs, &proto)
            .unwrap()
            .items,
        RECORDS
    );
    let mut json = Vec::new();
    weir_otlp::json::encode_logs(&request.resource_logs, &mut json);
    eprintln!(
        "logs request: {RECORDS} records, {} bytes protobuf, {} bytes OTLP/JSON",
        proto.len(),
        json.len()
    );

    let mut g = c.benchmark_group("otlp_logs");
    g.throughput(Throughput::Elements(RECORDS as u64));
    g.bench_function("prost_decode", |b| {
        b.iter(|| ExportLogsServiceRequest::decode(black_box(&proto[..])).unwrap())
    });
    g.bench_function("prost_encode", |b| {
        b.iter(|| black_box(&request).encode_to_vec())
    });
    g.bench_function("wire_inspect", |b| {
        b.iter(|| weir_otlp::wire::inspect(Signal::Logs, black_box(&proto)).unwrap())
    });
    // The file exporter's way: one buffer, reused.
    let mut buf = Vec::with_capacity(json.len());
    g.bench_function("json_encode", |b| {
        b.iter(|| {
            buf.clear();
            weir_otlp::json::encode_logs(black_box(&request.resource_logs), &mut buf);
        })
    });
    g.bench_function("json_decode", |b| {
        b.iter(|| weir_otlp::json::decode(Signal::Logs, black_box(&json)).unwrap())
    });
    // Received bytes out as they came: no decode, no encode, no copy.
    g.bench_function("batch_passthrough_to_protobuf", |b| {
        b.iter(|| {
            Batch::from_encoded(
                Signal::Logs,
                black_box(&proto).clone(),
                RECORDS,
                BatchMeta::default(),
            )
            .to_protobuf()
        })
    });
    let decoded = Batch::from_data(
        SignalData::Logs(request.resource_logs.clone()),
        BatchMeta::default(),
    );
    // A processor changed the records: the batch must be encoded afresh.
    g.bench_function("batch_decoded_to_protobuf", |b| {
        b.iter(|| black_box(&decoded).to_protobuf())
    });
    let encoded = Batch::from_encoded(Signal::Logs, proto.clone(), RECORDS, BatchMeta::default());
    g.bench_function("batch_clone_encoded", |b| {
        b.iter(|| black_box(&encoded).clone())
    });
    g.bench_function("batch_clone_decoded", |b| {
        b.iter(|| black_box(&decoded).clone())
    });
    g.finish();

    compression_benches(c, &proto);
}

fn compression_benches(c: &mut Criterion, proto: &Bytes) {
    let mut g = c.benchmark_group("otlp_logs_compression");
    g.throughput(Throughput::Elements(RECORDS as u64));
    for (name, encoding) in [("gzip", Encoding::Gzip), ("zstd", Encoding::Zstd)] {
        // `None` is weir's default level (1 for both).
        let compressed = compression::compress(encoding, proto, None);
        assert_eq!(
            compression::decompress(encoding, &compressed, LIMIT).unwrap(),
            *proto
        );
        eprintln!(
            "{name} default level: {} -> {} bytes ({:.1}x)",
            proto.len(),
            compressed.len(),
            proto.len() as f64 / compressed.len() as f64
        );
        g.bench_function(format!("{name}_compress"), |b| {
            b.iter(|| compression::compress(encoding, black_box(proto), None))
        });
        g.bench_function(format!("{name}_decompress"), |b| {
            b.iter(|| compression::decompress(encoding, black_box(&compressed), LIMIT).unwrap())
        });
    }
    g.finish();
}

fn traces(c: &mut Criterion) {
    let request = common::traces_request(RECORDS);
    let proto = common::encode(&request);
    assert_eq!(
        weir_otlp::wire::inspect(Signal::Traces, &proto)
            .unwrap()
            .items,
        RECORDS
    );
    let mut json = Vec::new();
    weir_otlp::json::encode_traces(&request.resource_spans, &mut json);
    eprintln!(
        "traces request: {RECORDS} spans, {} bytes protobuf, {} bytes OTLP/JSON",
        proto.len(),
        json.len()
    );

    let mut g = c.benchmark_group("otlp_traces");
    g.throughput(Throughput::Elements(RECORDS as u64));
    g.bench_function("prost_decode", |b| {
        b.iter(|| ExportTraceServiceRequest::decode(black_box(&proto[..])).unwrap())
    });
    g.bench_function("prost_encode", |b| {
        b.iter(|| black_box(&request).encode_to_vec())
    });
    g.bench_function("wire_inspect", |b| {
        b.iter(|| weir_otlp::wire::inspect(Signal::Traces, black_box(&proto)).unwrap())
    });
    let mut buf = Vec::with_capacity(json.len());
    g.bench_function("json_encode", |b| {
        b.iter(|| {
            buf.clear();
            weir_otlp::json::encode_traces(black_box(&request.resource_spans), &mut buf);
        })
    });
    g.bench_function("json_decode", |b| {
        b.iter(|| weir_otlp::json::decode(Signal::Traces, black_box(&json)).unwrap())
    });
    g.finish();
}

/// One line in, one record out: the stdin receiver's per-line cost, in its
/// default `auto` format.
fn log_lines(c: &mut Criterion) {
    let text = common::text_line_1k();
    let json = common::json_line();
    let record = record_from_line(&json, LineFormat::Auto, 1);
    assert!(
        record.attributes.len() >= 5,
        "the JSON line maps as an object"
    );
    eprintln!(
        "log lines: text {} bytes, JSON {} bytes",
        text.len(),
        json.len()
    );

    let mut g = c.benchmark_group("logline");
    g.throughput(Throughput::Elements(1));
    g.bench_function("text_1k", |b| {
        b.iter(|| record_from_line(black_box(&text), LineFormat::Auto, 1))
    });
    g.bench_function("json", |b| {
        b.iter(|| record_from_line(black_box(&json), LineFormat::Auto, 1))
    });
    g.finish();
}

criterion_group!(benches, logs, traces, log_lines);
criterion_main!(benches);
