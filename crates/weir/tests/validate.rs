//! `weir validate`: every shipped pipeline passes; broken files get every problem
//! listed with its line and column.

mod support;

use std::process::Command;

use support::{WEIR, workspace};

fn validate(files: &[&std::path::Path], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(WEIR)
        .arg("validate")
        .args(files)
        .envs(env.iter().copied())
        .env_remove("WEIR_TEST_MISSING")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_shipped_pipeline_is_valid() {
    let mut files: Vec<_> = std::fs::read_dir(workspace().join("pipelines"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 2);
    let refs: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
    // The Ledger pipelines take their key from the environment, as in use.
    let (code, stdout, stderr) = validate(&refs, &[("LEDGER_API_KEY", "ledger_validate")]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
    for f in &files {
        assert!(stdout.contains(&format!("{}: ok", f.display())), "{stdout}");
    }
}

/// Writes `yaml` and validates it; returns (exit code, stderr).
fn broken(yaml: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("broken.yaml");
    std::fs::write(&p, yaml).unwrap();
    let (code, _, stderr) = validate(&[&p], &[]);
    (
        code,
        stderr.replace(&p.display().to_string(), "broken.yaml"),
    )
}

#[test]
fn unknown_key_in_a_component_is_located() {
    let (code, err) = broken(
        "receivers:\n  stdin:\n    formt: json\nexporters:\n  debug:\nservice:\n  pipelines:\n    logs:\n      receivers: [stdin]\n      exporters: [debug]\n",
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("broken.yaml:3:5: error: at `receivers.stdin.formt`"),
        "{err}"
    );
    assert!(err.contains("unknown field `formt`"), "{err}");
}

#[test]
fn wrong_type_is_located_and_says_what_was_expected() {
    let (code, err) = broken(
        "receivers:\n  stdin:\n    max_batch: lots\nexporters:\n  debug:\nservice:\n  pipelines:\n    logs:\n      receivers: [stdin]\n      exporters: [debug]\n",
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("broken.yaml:3:5: error: at `receivers.stdin.max_batch`"),
        "{err}"
    );
    assert!(err.contains("invalid type"), "{err}");
}

#[test]
fn unknown_component_type_lists_the_known_ones() {
    let (code, err) = broken(
        "receivers:\n  stdin:\nexporters:\n  kafka:\nservice:\n  pipelines:\n    logs:\n      receivers: [stdin]\n      exporters: [kafka]\n",
    );
    assert_eq!(code, 1);
    assert!(err.contains("broken.yaml:4:3: error"), "{err}");
    assert!(err.contains("kafka") && err.contains("file"), "{err}");
}

#[test]
fn missing_env_var_is_named_at_its_line() {
    let (code, err) = broken(
        "receivers:\n  stdin:\nexporters:\n  file:\n    path: ${env:WEIR_TEST_MISSING}\nservice:\n  pipelines:\n    logs:\n      receivers: [stdin]\n      exporters: [file]\n",
    );
    assert_eq!(code, 1);
    assert!(err.contains("broken.yaml:5:"), "{err}");
    assert!(err.contains("WEIR_TEST_MISSING"), "{err}");
}

#[test]
fn signal_mismatch_is_an_error() {
    let (code, err) = broken(
        "receivers:\n  stdin:\nexporters:\n  debug:\nservice:\n  pipelines:\n    traces:\n      receivers: [stdin]\n      exporters: [debug]\n",
    );
    assert_eq!(code, 1);
    assert!(err.contains("broken.yaml:8:"), "{err}");
    assert!(err.contains("does not support traces"), "{err}");
}

#[test]
fn two_errors_in_one_file_are_both_reported() {
    let (code, err) = broken(
        "receivers:\n  stdin:\n    max_line_bytes: huge\nexporters:\n  file:\n    path: /tmp/x\n    compression: brotli\nservice:\n  pipelines:\n    logs:\n      receivers: [stdin]\n      exporters: [file]\n",
    );
    assert_eq!(code, 1);
    let errors: Vec<&str> = err.lines().filter(|l| l.contains(": error: ")).collect();
    assert_eq!(errors.len(), 2, "{err}");
    assert!(errors[0].starts_with("broken.yaml:3:"), "{err}");
    assert!(errors[1].starts_with("broken.yaml:7:"), "{err}");
}

#[test]
fn two_listeners_on_one_address_are_refused() {
    let (code, err) = broken(
        "receivers:\n  stdin:\nexporters:\n  debug:\nservice:\n  telemetry:\n    metrics: { address: 127.0.0.1:0 }\n  pipelines:\n    logs:\n      receivers: [stdin]\n      exporters: [debug]\n",
    );
    // Port 0 never clashes; with no network receiver yet, this file is valid.
    assert_eq!(code, 0, "{err}");
}

#[test]
fn unused_component_is_a_warning_not_an_error() {
    let (code, err) = broken(
        "receivers:\n  stdin:\nexporters:\n  debug:\n  file:\n    path: /tmp/unused\nservice:\n  pipelines:\n    logs:\n      receivers: [stdin]\n      exporters: [debug]\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("broken.yaml:5:3: warning"), "{err}");
}

#[test]
fn bad_config_on_run_exits_non_zero_naming_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.yaml");
    std::fs::write(&p, "receivers:\n  stdin:\n    format: xml\n").unwrap();
    let out = Command::new(WEIR).arg("run").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:3:", p.display())), "{err}");
}
