//! A spool that fills up while the destination is down (disk queue,
//! acknowledgements on): the disk queue's own bound (`max_bytes`), and a
//! file system that runs out of room (a size-limited tmpfs, when this
//! machine lets an ordinary process mount one in a namespace of its own).
//! Either way the receivers must push back with retryable answers, weir must
//! stay up, and everything acknowledged must arrive once the destination is
//! back.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::load::LoadSpec;
use super::pipeline::{Pipeline, otlp_exporter};
use super::report::FaultReport;
use super::rig::{Recovery, Rig};
use super::{DRAIN, MAX_IN_FLIGHT, RSS_BUDGET, pick};
use crate::BenchEnv;
use crate::loadgen::Protocol;

/// What limits the spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// `queue.max_bytes: 2MiB` on an ordinary folder.
    MaxBytes,
    /// A 1 MiB tmpfs under a `max_bytes` of 64 MiB: the disk fills (ENOSPC).
    Tmpfs,
}

/// The disk queue's bound in `faults-spool-full`, and as YAML.
const MAX_BYTES: u64 = 2 << 20;
const MAX_BYTES_YAML: &str = "2MiB";
/// What the spool folder may hold beyond `max_bytes`: the acks log and
/// segment headers.
const SLACK: u64 = 64 << 10;
/// The tmpfs of `faults-disk-full`.
const TMPFS_SIZE: &str = "1m";

/// Whether a size-limited tmpfs can be mounted here for one process
/// (`unshare --user --map-root-user --mount`); why not, when not. Typical CI
/// machines forbid unprivileged user namespaces.
pub fn tmpfs_available() -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("weir-tmpfs-probe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c"])
        .arg("mount -t tmpfs -o size=64k weir-probe \"$0\"")
        .arg(&dir)
        .stdin(Stdio::null())
        .output();
    let _ = std::fs::remove_dir(&dir);
    match out {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!(
            "unshare/mount failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Err(format!("cannot run unshare: {e}")),
    }
}

/// A script that runs weir in a mount namespace of its own with a
/// `TMPFS_SIZE` tmpfs on `spool`; it execs all the way, so its pid is weir's.
fn tmpfs_wrapper(dir: &Path, weir: &Path, spool: &Path) -> Result<PathBuf, String> {
    let script = dir.join("weir-on-tmpfs.sh");
    let text = format!(
        "#!/bin/sh\nexec unshare --user --map-root-user --mount sh -c 'mount -t tmpfs -o size={TMPFS_SIZE} weir-spool \"$0\" && exec \"$@\"' '{}' '{}' \"$@\"\n",
        spool.display(),
        weir.display()
    );
    std::fs::write(&script, text).map_err(|e| format!("{}: {e}", script.display()))?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("{}: {e}", script.display()))?;
    Ok(script)
}

/// Samples the bytes in a folder as process `pid` sees it (through
/// `/proc/<pid>/root`, so a tmpfs in its own namespace counts).
struct FolderSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: JoinHandle<()>,
}

impl FolderSampler {
    fn start(pid: u32, folder: &Path) -> FolderSampler {
        let path = Path::new(&format!("/proc/{pid}/root"))
            .join(folder.strip_prefix("/").unwrap_or(folder));
        let (stop, peak) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicU64::new(0)),
        );
        let (flag, high) = (stop.clone(), peak.clone());
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                let bytes: u64 = std::fs::read_dir(&path)
                    .map(|d| {
                        d.filter_map(Result::ok)
                            .filter_map(|e| e.metadata().ok())
                            .filter(|m| m.is_file())
                            .map(|m| m.len())
                            .sum()
                    })
                    .unwrap_or(0);
                high.fetch_max(bytes, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        FolderSampler { stop, peak, thread }
    }

    fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        self.peak.load(Ordering::Relaxed)
    }
}

/// `faults-spool-full` ([`Limit::MaxBytes`]) and `faults-disk-full`
/// ([`Limit::Tmpfs`]): gRPC load into weir with a disk queue and
/// acknowledgements; the sink goes down long enough for the spool to fill
/// several times over, then comes back.
pub fn spool_full(env: &BenchEnv, limit: Limit) -> Result<FaultReport, String> {
    let name = match limit {
        Limit::MaxBytes => "faults-spool-full",
        Limit::Tmpfs => "faults-disk-full",
    };
    let (items, rate) = pick(env, (100, 20.0), (500, 20.0));
    let (warm, down, after) = pick(env, (1, 5, 2), (5, 60, 10));
    let mut rig = Rig::new(env, name, MAX_IN_FLIGHT * items as u64, RSS_BUDGET)?;
    let mut sink = rig.sink(Duration::ZERO)?;
    let arrivals = sink.arrivals().ok_or("sink records no ids")?;
    let sink_addr = sink.grpc_addr.ok_or("sink has no gRPC address")?;
    let spool = rig.dir.join("spool");
    std::fs::create_dir_all(&spool).map_err(|e| format!("{}: {e}", spool.display()))?;
    let (max_bytes, binary) = match limit {
        Limit::MaxBytes => (MAX_BYTES_YAML.to_string(), rig.env.weir.clone()),
        Limit::Tmpfs => {
            tmpfs_available()?;
            let script = tmpfs_wrapper(&rig.dir, &rig.env.weir, &spool)?;
            ("64MiB".to_string(), script)
        }
    };
    let extra = format!(
        "    queue: {{ storage: disk, path: {}, max_bytes: {max_bytes}, segment_bytes: 256KiB, fsync: interval }}\n",
        spool.display()
    );
    let mut p = Pipeline::new("otlp", otlp_exporter(sink_addr, "grpc", &extra));
    p.acknowledgements = true;
    let weir = rig.start_weir_as(&binary, &p)?;
    let folder = FolderSampler::start(weir.weir.pid(), &spool);
    // With acknowledgements a client waits for each answer, so a few in
    // flight just wait out a short outage; 32 overrun what weir holds in
    // memory in front of the spool, and are pushed back.
    let mut spec = LoadSpec::new(weir.grpc(), Protocol::Grpc, items, rate);
    spec.concurrency = 32;
    let load = rig.load(&spec)?;
    rig.sleep(Duration::from_secs(warm), || {});
    rig.rt.block_on(sink.down());
    let acked_before = rig.sends.acked_items();
    rig.sleep(Duration::from_secs(down), || {});
    let acked_during = rig.sends.acked_items() - acked_before;
    rig.rt
        .block_on(sink.up())
        .map_err(|e| format!("sink back up: {e}"))?;
    let mut recovery = Recovery::start(&rig.sends);
    rig.sleep(Duration::from_secs(after), || recovery.poll(&arrivals));
    rig.stop_load(load);
    rig.wait_delivered(&arrivals, DRAIN);
    recovery.poll(&arrivals);
    rig.report.recovery = recovery.took;
    let peak = folder.stop();
    rig.stop_weir(weir)?;
    let not_acked = rig
        .sends
        .all()
        .iter()
        .filter(|s| s.fate != super::ids::Fate::Acked)
        .count();
    rig.note(format!(
        "sink down {down} s; {acked_during} records acknowledged meanwhile; spool folder peaked at {:.2} MiB ({}); {not_acked} requests not acknowledged",
        peak as f64 / (1024.0 * 1024.0),
        match limit {
            Limit::MaxBytes => format!("max_bytes {:.0} MiB", MAX_BYTES as f64 / (1024.0 * 1024.0)),
            Limit::Tmpfs => format!("tmpfs of {TMPFS_SIZE}, max_bytes 64 MiB"),
        }
    ));
    if not_acked == 0 {
        rig.broke("no request was refused: the spool never pushed back");
    }
    if limit == Limit::MaxBytes && peak > MAX_BYTES + SLACK {
        rig.broke(format!(
            "the spool folder reached {peak} bytes, over max_bytes {MAX_BYTES} + {SLACK}"
        ));
    }
    Ok(rig.finish(&arrivals))
}
