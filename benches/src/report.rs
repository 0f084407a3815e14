//! The results table, printed and appended to BENCHMARKS.md.

use std::fmt::Write;

use crate::BenchResult;

/// The machine, as BENCHMARKS.md records it.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / (1024 * 1024));
    format!("{cores} cores, {model}, {mem_gib} GiB")
}

/// A markdown table of `results`.
pub fn table(results: &[BenchResult]) -> String {
    let mut s = String::from(
        "| scenario | sent | received | errors | seconds | items/s | items/s per core | peak RSS MiB | note |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for r in results {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.2} | {:.0} | {:.0} | {:.1} | {} |",
            r.scenario,
            r.sent,
            r.received,
            r.errors,
            r.seconds,
            r.items_per_sec(),
            r.items_per_cpu_sec(),
            r.peak_rss as f64 / (1024.0 * 1024.0),
            r.note
        );
    }
    s
}
