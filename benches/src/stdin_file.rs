//! stdin → file: 1 KB log lines piped into `weir run pipelines/stdin-to-file.yaml`,
//! OTLP/JSON out. Input is a pre-generated file so the feeder costs nothing.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::procstat::wait_sampled;
use crate::{BenchEnv, BenchResult};

/// What the lines look like.
#[derive(Debug, Clone, Copy)]
pub enum Input {
    /// Plain text lines.
    Text,
    /// JSON objects with a level, a time, a message and a few attributes.
    Json,
}

const LINE_BYTES: usize = 1024;

fn write_input(path: &std::path::Path, input: Input, lines: usize) -> std::io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let filler = "abcdefghijklmnopqrstuvwxyz0123456789 ".repeat(LINE_BYTES / 37 + 1);
    for i in 0..lines {
        let head = match input {
            Input::Text => format!(
                "2026-11-26T10:00:00.{:03}Z INFO request {i} served: ",
                i % 1000
            ),
            Input::Json => format!(
                r#"{{"ts":"2026-11-26T10:00:00.{:03}Z","level":"info","user_id":{i},"route":"/api/v1/items","status":200,"msg":""#,
                i % 1000
            ),
        };
        let tail = match input {
            Input::Text => "",
            Input::Json => "\"}",
        };
        let fill = LINE_BYTES - 1 - head.len() - tail.len();
        w.write_all(head.as_bytes())?;
        w.write_all(&filler.as_bytes()[..fill])?;
        w.write_all(tail.as_bytes())?;
        w.write_all(b"\n")?;
    }
    w.flush()
}

fn count_records(dir: &std::path::Path, gzip: bool) -> Result<u64, String> {
    let finder = memchr::memmem::Finder::new(b"\"observedTimeUnixNano\"");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if !path
            .file_name()
            .is_some_and(|f| f.to_string_lossy().starts_with("out"))
        {
            continue;
        }
        let data = if gzip {
            let out = Command::new("gzip")
                .arg("-dc")
                .arg(&path)
                .output()
                .map_err(|e| format!("gzip: {e}"))?;
            out.stdout
        } else {
            std::fs::read(&path).map_err(|e| e.to_string())?
        };
        n += finder.find_iter(&data).count() as u64;
    }
    Ok(n)
}

/// Runs the scenario.
pub fn run(env: &BenchEnv, input: Input, gzip: bool) -> Result<BenchResult, String> {
    let lines = if env.quick { 20_000 } else { 1_000_000 };
    let name = match (input, gzip) {
        (Input::Text, false) => "stdin-file-text",
        (Input::Json, false) => "stdin-file-json",
        (_, true) => "stdin-file-gzip",
    };
    let dir = env.scratch.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let input_path = dir.join("input.log");
    write_input(&input_path, input, lines).map_err(|e| format!("writing input: {e}"))?;
    let out = dir.join(if gzip { "out.jsonl.gz" } else { "out.jsonl" });

    let started = Instant::now();
    let mut child = Command::new(&env.weir)
        .arg("run")
        .arg(env.workspace.join("pipelines/stdin-to-file.yaml"))
        .env("WEIR_OUTPUT", &out)
        .env("WEIR_COMPRESSION", if gzip { "gzip" } else { "none" })
        .env("WEIR_METRICS_ADDRESS", "none")
        .env("RUST_LOG", "warn")
        .stdin(File::open(&input_path).map_err(|e| e.to_string())?)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("starting {}: {e}", env.weir.display()))?;
    let (code, wall, usage) = wait_sampled(&mut child, started);
    let received = count_records(&dir, gzip)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(BenchResult {
        scenario: name.to_string(),
        sent: lines as u64,
        received,
        seconds: wall.as_secs_f64(),
        cpu_seconds: usage.cpu_seconds,
        peak_rss: usage.peak_rss,
        errors: u64::from(code != Some(0)),
        note: format!("{LINE_BYTES}-byte lines"),
    })
}
