//! The `ledger` exporter's encode path on the shared 1000-record logs request
//! (10 attributes, ~300-byte body, ids; a resource with `service.name`,
//! `service.version` and 4 more): each record mapped to a Ledger entry,
//! fitted to the default limits and written into one `{"logs": [...]}` body,
//! then gzipped at level 1, as `weir_exporters`' `ledger::encode` does. Each
//! iteration is one batch; criterion's throughput is per record.
//!
//! - `direct/*`: `weir_ledger::otlp::write_fitted_entry`, what the exporter
//!   uses: the JSON written straight from the record.
//! - `entry/*`: `record_to_entry` + `fit` + `serde_json::to_writer`, the path
//!   it replaced (same bytes).
//! - `*/json` is the body alone; `*/gzip` adds compressing it.
//!
//! `cargo bench -p weir-bench --bench ledger_encode -- --warm-up-time 1 --measurement-time 3`

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use weir_core::otlp::common::v1::KeyValue;
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs};
use weir_ledger::settings::Constraints;
use weir_otlp::compression::{self, Encoding};

use common::RECORDS;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Just after the request's records, so no timestamp is moved.
const NOW: u64 = 1_714_560_100_000_000_000;

type WriteOne = fn(&mut Vec<u8>, &[KeyValue], &LogRecord, &Constraints) -> bool;

fn direct(out: &mut Vec<u8>, resource: &[KeyValue], r: &LogRecord, c: &Constraints) -> bool {
    weir_ledger::otlp::write_fitted_entry(out, resource, r, c, NOW).expect("writes")
}

fn entry(out: &mut Vec<u8>, resource: &[KeyValue], r: &LogRecord, c: &Constraints) -> bool {
    let mut e = weir_ledger::otlp::record_to_entry(resource, r);
    let cut = weir_ledger::fit::fit(&mut e, c, NOW);
    serde_json::to_writer(out, &e).expect("writes");
    cut
}

/// One body of every record, gzipped when asked; its length.
fn body(logs: &[ResourceLogs], c: &Constraints, write: WriteOne, gzip: bool) -> usize {
    let mut body = b"{\"logs\":[".to_vec();
    let mut first = true;
    for rl in logs {
        let resource = rl.resource.as_ref().map_or(&[][..], |r| &r.attributes[..]);
        for record in rl.scope_logs.iter().flat_map(|sl| &sl.log_records) {
            if !first {
                body.push(b',');
            }
            first = false;
            write(&mut body, resource, record, c);
        }
    }
    body.extend_from_slice(b"]}");
    if gzip {
        compression::compress(Encoding::Gzip, &body, Some(1)).len()
    } else {
        body.len()
    }
}

fn ledger_encode(c: &mut Criterion) {
    let logs = common::logs_request(RECORDS).resource_logs;
    let limits = Constraints::default();
    let mut g = c.benchmark_group("ledger_encode");
    g.throughput(Throughput::Elements(RECORDS as u64));
    let paths: [(&str, WriteOne); 2] = [("direct", direct), ("entry", entry)];
    for (name, write) in paths {
        for (form, gzip) in [("json", false), ("gzip", true)] {
            g.bench_function(format!("{name}/{form}"), |b| {
                b.iter(|| body(&logs, &limits, write, gzip))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, ledger_encode);
criterion_main!(benches);
