//! `cargo xtask bench [SCENARIO...] [--quick] [--no-record]`: builds release
//! binaries, runs benchmark scenarios, prints a table and appends it, with the
//! commit and the machine, to BENCHMARKS.md. `faults` stands for every fault
//! injection scenario (`faults-...`, not run by default: they are long).
//!
//! `cargo xtask docs`: writes docs/components.md, the reference generated
//! from the components' config structs (`weir components --markdown`).
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use weir_bench::faults::FAULT_SCENARIOS;
use weir_bench::{BenchEnv, SCENARIOS, report};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("bench") => bench(&args[1..]),
        Some("docs") => docs(),
        _ => {
            eprintln!("usage: cargo xtask bench [SCENARIO...] [--quick] [--no-record]");
            eprintln!("       cargo xtask docs");
            eprintln!("scenarios: {}", SCENARIOS.join(", "));
            eprintln!(
                "fault injection (`faults` for all): {}",
                FAULT_SCENARIOS.join(", ")
            );
            ExitCode::from(2)
        }
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("workspace root")
}

/// docs/components.md from `weir components --markdown` (a debug build).
fn docs() -> ExitCode {
    let root = workspace();
    let out = Command::new(env!("CARGO"))
        .args([
            "run",
            "--quiet",
            "-p",
            "weir",
            "--",
            "components",
            "--markdown",
        ])
        .current_dir(&root)
        .output();
    let text = match out {
        Ok(o) if o.status.success() => o.stdout,
        Ok(o) => {
            eprintln!(
                "weir components --markdown failed: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("cannot run cargo: {e}");
            return ExitCode::FAILURE;
        }
    };
    let path = root.join("docs/components.md");
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!("cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    eprintln!("wrote {}", path.display());
    ExitCode::SUCCESS
}

fn bench(args: &[String]) -> ExitCode {
    let quick = args.iter().any(|a| a == "--quick");
    let record = !args.iter().any(|a| a == "--no-record");
    let mut names: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .flat_map(|a| match a.as_str() {
            "faults" => FAULT_SCENARIOS.to_vec(),
            one => vec![one],
        })
        .collect();
    if names.is_empty() {
        names = SCENARIOS.to_vec();
    }
    let root = workspace();
    eprintln!("building release binaries...");
    let ok = Command::new(env!("CARGO"))
        .args(["build", "--release", "-p", "weir"])
        .current_dir(&root)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("release build failed");
        return ExitCode::FAILURE;
    }
    // tmpfs when there is one: measure weir, not the disk.
    let shm = Path::new("/dev/shm");
    let scratch = if shm.is_dir() {
        shm.join("weir-bench")
    } else {
        std::env::temp_dir().join("weir-bench")
    };
    let env = BenchEnv {
        weir: root.join("target/release/weir"),
        workspace: root.clone(),
        scratch,
        quick,
    };
    let mut results = Vec::new();
    let mut failed = false;
    for name in names {
        eprintln!("running {name}...");
        match weir_bench::run(name, &env) {
            Ok(r) => {
                failed |= r.sent != r.received || r.errors > 0;
                results.push(r);
            }
            Err(e) => {
                eprintln!("{name}: {e}");
                failed = true;
            }
        }
    }
    let table = report::table(&results);
    println!("{table}");
    if record && !quick {
        let commit = Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .current_dir(&root)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        let date = Command::new("date")
            .arg("-u")
            .arg("+%Y-%m-%d %H:%M UTC")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        let entry = format!(
            "\n### {date}, commit {commit}\n\nMachine: {}. Command: `cargo xtask bench {}`.\n\n{table}",
            report::machine(),
            args.join(" ")
        );
        let path = root.join("BENCHMARKS.md");
        let mut text = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".into());
        text.push_str(&entry);
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("cannot write {}: {e}", path.display());
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
