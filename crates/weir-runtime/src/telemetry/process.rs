//! Process metrics read from /proc at scrape time (Linux; absent elsewhere).

use std::time::Instant;

use weir_core::telemetry::names;

/// Appends process metrics in Prometheus text format.
pub fn render(out: &mut String, started: Instant) {
    use std::fmt::Write;
    if let Some(rss) = resident_bytes() {
        let _ = writeln!(
            out,
            "# TYPE {0} gauge\n{0} {rss}",
            names::PROCESS_RESIDENT_MEMORY
        );
    }
    if let Some(cpu) = cpu_seconds() {
        let _ = writeln!(
            out,
            "# TYPE {0} counter\n{0} {cpu}",
            names::PROCESS_CPU_SECONDS
        );
    }
    let _ = writeln!(
        out,
        "# TYPE {0} gauge\n{0} {1:.3}",
        names::PROCESS_UPTIME,
        started.elapsed().as_secs_f64()
    );
}

/// Resident set size in bytes.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// User + system CPU time of the whole process, in seconds.
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the `(comm)` part, which may itself hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux ABI weir targets; reading it needs unsafe sysconf.
    Some((utime + stime) / 100.0)
}
