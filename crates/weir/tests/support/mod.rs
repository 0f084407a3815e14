//! Helpers for driving the real `weir` binary.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const WEIR: &str = env!("CARGO_BIN_EXE_weir");

/// The workspace root (for `pipelines/`).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A running weir whose stderr is collected in the background.
pub struct Weir {
    pub child: Child,
    pub stderr: Arc<Mutex<String>>,
}

impl Weir {
    /// Starts `weir run <pipeline>` with JSON logs, stdin piped, and `env`.
    pub fn start(pipeline: &Path, env: &[(&str, &str)]) -> Weir {
        let mut cmd = Command::new(WEIR);
        cmd.args(["--log-format", "json", "run"]).arg(pipeline);
        Self::spawn(cmd, env)
    }

    fn spawn(mut cmd: Command, env: &[(&str, &str)]) -> Weir {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn weir");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let pipe = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Weir { child, stderr }
    }

    /// Starts `weir run` (the embedded default pipeline) in folder `cwd`.
    pub fn start_default(cwd: &Path, env: &[(&str, &str)]) -> Weir {
        let mut cmd = Command::new(WEIR);
        cmd.args(["--log-format", "json", "run"]).current_dir(cwd);
        Self::spawn(cmd, env)
    }

    /// The telemetry address weir logged at start.
    pub fn metrics_addr(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            for line in self.stderr.lock().unwrap().lines() {
                if let Ok(v) = serde_json::from_str::<Value>(line)
                    && let Some(a) = v["fields"]["addr"].as_str()
                {
                    return a.to_string();
                }
            }
            assert!(
                Instant::now() < deadline,
                "weir never logged its address:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The (gRPC, HTTP) addresses the `otlp` receiver logged once listening.
    pub fn otlp_addrs(&self) -> (String, String) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            for line in self.stderr.lock().unwrap().lines() {
                if let Ok(v) = serde_json::from_str::<Value>(line)
                    && v["fields"]["message"] == "OTLP receiver listening"
                {
                    let f = &v["fields"];
                    return (
                        f["grpc"].as_str().unwrap_or_default().to_string(),
                        f["http"].as_str().unwrap_or_default().to_string(),
                    );
                }
            }
            assert!(
                Instant::now() < deadline,
                "no OTLP listener logged:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The address the `http` receiver logged once listening.
    pub fn http_addr(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            for line in self.stderr.lock().unwrap().lines() {
                if let Ok(v) = serde_json::from_str::<Value>(line)
                    && v["fields"]["message"] == "HTTP receiver listening"
                {
                    return v["fields"]["address"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                }
            }
            assert!(
                Instant::now() < deadline,
                "no HTTP listener logged:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends a signal with kill(1).
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -{sig} failed");
    }

    /// Waits for exit (at most 60 s) and returns the exit code.
    pub fn wait(&mut self) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("weir did not exit:\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Weir {
    /// A test that fails part-way must not leave weir running.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// GET `path` on `addr`; returns (status, body).
pub fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect to telemetry endpoint");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = resp
        .split_once("\r\n\r\n")
        .map(|x| x.1)
        .unwrap_or("")
        .to_string();
    (status, body)
}

/// Sum of the samples of `name` whose labels contain every `(k, v)` of `labels`.
pub fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (n, rest) = series.split_once('{').unwrap_or((series, ""));
            (n == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))))
            .then(|| value.parse::<f64>().ok())
            .flatten()
        })
        .sum()
}

/// Polls `/metrics` until `cond` holds (at most 30 s); returns the last text.
pub fn wait_metrics(addr: &str, cond: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, text) = http_get(addr, "/metrics");
        if cond(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "metrics never matched:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every log record in an OTLP/JSON-lines file (plain or gzip).
pub fn read_records(path: &Path) -> Vec<Value> {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let text = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_string(&mut s)
            .expect("valid gzip");
        s
    } else {
        String::from_utf8(raw).expect("utf-8")
    };
    let mut out = Vec::new();
    for line in text.lines() {
        let req: Value = serde_json::from_str(line).expect("each line is one JSON export request");
        for rl in req["resourceLogs"].as_array().expect("resourceLogs") {
            for sl in rl["scopeLogs"].as_array().expect("scopeLogs") {
                out.extend(
                    sl["logRecords"]
                        .as_array()
                        .expect("logRecords")
                        .iter()
                        .cloned(),
                );
            }
        }
    }
    out
}

/// The attribute `key` of an OTLP/JSON record, as its AnyValue JSON.
pub fn attr<'a>(record: &'a Value, key: &str) -> Option<&'a Value> {
    record["attributes"]
        .as_array()?
        .iter()
        .find(|kv| kv["key"] == key)
        .map(|kv| &kv["value"])
}
