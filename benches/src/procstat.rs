//! Sampling a process's CPU time and peak RSS from /proc while it runs.

use std::process::Child;
use std::time::{Duration, Instant};

/// What sampling saw.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcUsage {
    /// User + system CPU seconds at the last sample.
    pub cpu_seconds: f64,
    /// Peak resident set size (VmHWM), bytes.
    pub peak_rss: u64,
}

/// Reads the CPU seconds and VmHWM of `pid`; `None` once it has exited.
pub fn sample(pid: u32) -> Option<ProcUsage> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // A zombie has released its memory figures; its times are still final.
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let hwm_kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Some(ProcUsage {
        // USER_HZ is 100 on Linux.
        cpu_seconds: (utime + stime) / 100.0,
        peak_rss: hwm_kib * 1024,
    })
}

/// Waits for `child`, sampling every 10 ms; returns exit code, wall time and
/// usage (CPU time as of the last sample, peak RSS as the highest seen).
pub fn wait_sampled(child: &mut Child, started: Instant) -> (Option<i32>, Duration, ProcUsage) {
    let pid = child.id();
    let mut usage = ProcUsage::default();
    loop {
        if let Some(s) = sample(pid) {
            usage.cpu_seconds = usage.cpu_seconds.max(s.cpu_seconds);
            usage.peak_rss = usage.peak_rss.max(s.peak_rss);
        }
        if let Ok(Some(status)) = child.try_wait() {
            return (status.code(), started.elapsed(), usage);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
