//! Full runs from an unoptimised harness (`cargo xtask` runs in the dev
//! profile): an unoptimised load generator and sink on one core cannot load a
//! release weir, so the scenario is run by a release `weir-loadgen scenario`
//! process instead, and its result read back as JSON.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::{BenchEnv, BenchResult};

/// The line prefix of a result printed by `weir-loadgen scenario --json`.
pub const PREFIX: &str = "BENCH_RESULT ";

/// `result` as one JSON line.
pub fn to_json(r: &BenchResult) -> String {
    let v = serde_json::json!({
        "scenario": r.scenario,
        "sent": r.sent,
        "received": r.received,
        "seconds": r.seconds,
        "cpu_seconds": r.cpu_seconds,
        "peak_rss": r.peak_rss,
        "errors": r.errors,
        "note": r.note,
    });
    format!("{PREFIX}{v}")
}

fn from_json(line: &str) -> Option<BenchResult> {
    let v: serde_json::Value = serde_json::from_str(line.strip_prefix(PREFIX)?).ok()?;
    Some(BenchResult {
        scenario: v["scenario"].as_str()?.to_string(),
        sent: v["sent"].as_u64()?,
        received: v["received"].as_u64()?,
        seconds: v["seconds"].as_f64()?,
        cpu_seconds: v["cpu_seconds"].as_f64()?,
        peak_rss: v["peak_rss"].as_u64()?,
        errors: v["errors"].as_u64()?,
        note: v["note"].as_str()?.to_string(),
    })
}

/// Builds the release `weir-loadgen` once; its path.
fn release_loadgen(workspace: &Path) -> Result<PathBuf, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            eprintln!("building the release load generator...");
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let ok = Command::new(cargo)
                .args([
                    "build",
                    "--release",
                    "-p",
                    "weir-bench",
                    "--bin",
                    "weir-loadgen",
                ])
                .current_dir(workspace)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return Err("building the release weir-loadgen failed".into());
            }
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(|| workspace.join("target"), PathBuf::from);
            Ok(target.join("release/weir-loadgen"))
        })
        .clone()
}

/// Runs `name` in a release `weir-loadgen` when this harness is an
/// unoptimised build doing a full run; `None` to run it here.
pub fn delegate(name: &str, env: &BenchEnv) -> Option<Result<BenchResult, String>> {
    if !cfg!(debug_assertions) || env.quick {
        return None;
    }
    Some(run(name, env))
}

fn run(name: &str, env: &BenchEnv) -> Result<BenchResult, String> {
    let loadgen = release_loadgen(&env.workspace)?;
    let out = Command::new(&loadgen)
        .arg("scenario")
        .arg("--json")
        .arg("--weir")
        .arg(&env.weir)
        .arg("--workspace")
        .arg(&env.workspace)
        .arg("--scratch")
        .arg(&env.scratch)
        .arg(name)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("running {}: {e}", loadgen.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(from_json)
        .ok_or_else(|| format!("{} gave no result for {name}", loadgen.display()))
}
