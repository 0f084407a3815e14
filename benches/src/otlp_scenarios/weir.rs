//! Running weir for a scenario: the pipeline file, the process (pinned to a
//! core of its own when there are two), its listening ports read from its JSON
//! log, CPU and memory sampled from /proc, and a clean SIGTERM stop.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use weir_core::Signal;

use crate::BenchEnv;
use crate::procstat;

/// weir's core and the harness's, when the machine has two or more.
const WEIR_CPU: &str = "1";
const HARNESS_CPU: &str = "0";

/// Pins this process (every thread) to core 0 once, so weir can have core 1.
/// True when pinned; false on one core or without `taskset`.
pub fn pin_harness() -> bool {
    static PINNED: OnceLock<bool> = OnceLock::new();
    *PINNED.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        cores >= 2
            && Command::new("taskset")
                .args(["-a", "-p", "-c", HARNESS_CPU])
                .arg(std::process::id().to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
    })
}

/// How the note describes pinning.
pub fn pin_note(pinned: bool) -> &'static str {
    if pinned {
        "weir on cpu 1, loadgen+sink on cpu 0"
    } else {
        "not pinned"
    }
}

/// A pipeline of `signal`: OTLP receiver on free ports → `processors` (YAML
/// and ids, when given) → OTLP gRPC exporter to `sink`.
pub fn pipeline(
    signal: Signal,
    sink: SocketAddr,
    compression: &str,
    backpressure_timeout: Option<&str>,
    processors: Option<(&str, &str)>,
) -> String {
    let bp = backpressure_timeout
        .map(|t| format!("    backpressure_timeout: {t}\n"))
        .unwrap_or_default();
    let (defs, chain) = match processors {
        Some((defs, ids)) => (defs.to_string(), format!("      processors: {ids}\n")),
        None => (String::new(), String::new()),
    };
    format!(
        "receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: 127.0.0.1:0 }}
      http: {{ endpoint: 127.0.0.1:0 }}
{bp}{defs}exporters:
  otlp:
    protocol: grpc
    endpoint: http://{sink}
    compression: {compression}
service:
  telemetry:
    metrics: {{ address: none }}
  pipelines:
    {signal}:
      receivers: [otlp]
{chain}      exporters: [otlp]
"
    )
}

/// A running weir.
pub struct Weir {
    child: Child,
    exited: bool,
    /// Holds the pipeline file; removed on drop.
    dir: PathBuf,
    /// The OTLP receiver's gRPC address (the `http` receiver's address when
    /// the pipeline has that one instead).
    pub grpc: SocketAddr,
    /// The OTLP receiver's HTTP address, or the `http` receiver's.
    pub http: SocketAddr,
    /// Warnings and errors weir logged.
    pub problems: Arc<Mutex<Vec<String>>>,
}

impl Drop for Weir {
    fn drop(&mut self) {
        if !self.exited {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn find_str<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(|x| x.as_str()).or_else(|| {
        v.get("fields")
            .and_then(|f| f.get(key))
            .and_then(|x| x.as_str())
    })
}

impl Weir {
    /// Writes `yaml` into `dir` and starts `weir run` on it; waits for its
    /// receiver's ports.
    pub fn start(env: &BenchEnv, dir: &Path, yaml: &str, pinned: bool) -> Result<Weir, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let file: PathBuf = dir.join("pipeline.yaml");
        std::fs::write(&file, yaml).map_err(|e| format!("{}: {e}", file.display()))?;
        let mut cmd = if pinned {
            let mut c = Command::new("taskset");
            c.args(["-c", WEIR_CPU]).arg(&env.weir);
            c
        } else {
            Command::new(&env.weir)
        };
        let mut child = cmd
            .args(["--log-format", "json", "--log-level", "info", "run"])
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", env.weir.display()))?;
        let stderr = child.stderr.take().expect("piped stderr");
        let problems = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        {
            let problems = problems.clone();
            std::thread::spawn(move || {
                let mut tx = Some(tx);
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                        eprintln!("weir: {line}");
                        problems.lock().expect("problems").push(line);
                        continue;
                    };
                    let message = find_str(&v, "message").unwrap_or("");
                    if message == "HTTP receiver listening" {
                        // The `http` receiver has one listener: both fields get it.
                        let addr =
                            find_str(&v, "address").and_then(|a| a.parse::<SocketAddr>().ok());
                        if let (Some(tx), Some(a)) = (tx.take(), addr) {
                            let _ = tx.send((a, a));
                        }
                    }
                    if message == "OTLP receiver listening" {
                        let addr = |k| find_str(&v, k).and_then(|a| a.parse::<SocketAddr>().ok());
                        if let (Some(tx), Some(g), Some(h)) =
                            (tx.take(), addr("grpc"), addr("http"))
                        {
                            let _ = tx.send((g, h));
                        }
                    }
                    let level = find_str(&v, "level").unwrap_or("");
                    if level == "WARN" || level == "ERROR" {
                        eprintln!("weir: {line}");
                        let mut p = problems.lock().expect("problems");
                        if p.len() < 100 {
                            p.push(line);
                        }
                    }
                }
            });
        }
        let mut weir = Weir {
            child,
            exited: false,
            dir: dir.to_path_buf(),
            grpc: "0.0.0.0:0".parse().expect("address"),
            http: "0.0.0.0:0".parse().expect("address"),
            problems,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok((g, h)) => {
                    weir.grpc = g;
                    weir.http = h;
                    return Ok(weir);
                }
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                    if let Ok(Some(status)) = weir.child.try_wait() {
                        weir.exited = true;
                        return Err(format!(
                            "weir exited at start ({status}): {:?}",
                            weir.problems.lock().expect("problems")
                        ));
                    }
                }
                Err(_) => return Err("weir did not report its listening ports".into()),
            }
        }
    }

    /// weir's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits (at most 60 s, then kills); returns the exit code.
    pub fn stop(mut self) -> Result<Option<i32>, String> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.exited = true;
                return Ok(status.code());
            }
            if Instant::now() > deadline {
                return Err("weir did not stop within 60 s of SIGTERM".into());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// What sampling saw over a window.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// CPU seconds used in the window.
    pub cpu_seconds: f64,
    /// Highest VmHWM seen (peak RSS since start), bytes.
    pub peak_rss: u64,
    /// VmRSS at the end of the window, bytes.
    pub rss: u64,
    /// Window length.
    pub wall: Duration,
}

impl Usage {
    /// CPU used as a percentage of one core.
    pub fn cpu_percent(&self) -> f64 {
        100.0 * self.cpu_seconds / self.wall.as_secs_f64().max(1e-9)
    }
}

/// Current resident set (VmRSS) of `pid`, bytes.
pub fn rss_now(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib * 1024)
}

/// Samples a process every 10 ms on a thread until stopped.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Usage>,
}

impl Sampler {
    /// Starts sampling `pid`.
    pub fn start(pid: u32) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let first = procstat::sample(pid).unwrap_or_default();
            let mut usage = Usage {
                peak_rss: first.peak_rss,
                ..Usage::default()
            };
            let mut last_cpu = first.cpu_seconds;
            loop {
                let done = flag.load(Ordering::Relaxed);
                if let Some(s) = procstat::sample(pid) {
                    last_cpu = last_cpu.max(s.cpu_seconds);
                    usage.peak_rss = usage.peak_rss.max(s.peak_rss);
                }
                if done {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            usage.cpu_seconds = last_cpu - first.cpu_seconds;
            usage.rss = rss_now(pid);
            usage.wall = started.elapsed();
            usage
        });
        Sampler { stop, thread }
    }

    /// Stops and returns what was seen.
    pub fn stop(self) -> Usage {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}
