//! The custom binary, `my-weir`, as its users run it: it knows `redact` next
//! to the built-ins, validates and runs the shipped pipeline on stdin into a
//! file with the secrets masked, and serves its own series on /metrics where
//! `my-weir top` shows the processor.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

const MY_WEIR: &str = env!("CARGO_BIN_EXE_my-weir");

fn pipeline() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("pipeline.yaml")
}

/// Lines with secrets, and what each must become.
const INPUT: &[(&str, &str)] = &[
    (
        "ada@example.com paid with 4111 1111 1111 1111",
        "[email] paid with [card]",
    ),
    (
        "order 42 shipped at 1700000000123 to bob.smith+shop@mail.example.org",
        "order 42 shipped at 1700000000123 to [email]",
    ),
    (
        r#"{"msg":"refund","card":"5555-5555-5555-4444","user":{"email":"eve@example.net","id":7}}"#,
        "refund",
    ),
    ("nothing to see here", "nothing to see here"),
];

const SECRETS: &[&str] = &[
    "ada@example.com",
    "4111 1111 1111 1111",
    "bob.smith",
    "5555-5555-5555-4444",
    "eve@example.net",
];

fn input() -> String {
    INPUT.iter().map(|(line, _)| format!("{line}\n")).collect()
}

fn my_weir(args: &[&str]) -> Output {
    Command::new(MY_WEIR)
        .args(args)
        .output()
        .expect("run my-weir")
}

/// `my-weir run pipeline.yaml` writing to `out`, metrics on `metrics`.
fn spawn_run(out: &Path, metrics: &str) -> Child {
    Command::new(MY_WEIR)
        .args(["--log-format", "json", "run"])
        .arg(pipeline())
        .env("REDACT_OUTPUT", out)
        .env("WEIR_METRICS_ADDRESS", metrics)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn my-weir")
}

/// Every log record in an OTLP/JSON file.
fn records(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("output file");
    text.lines()
        .flat_map(|l| {
            let v: Value = serde_json::from_str(l).expect("an OTLP/JSON line");
            let mut out = Vec::new();
            for rl in v["resourceLogs"].as_array().unwrap() {
                for sl in rl["scopeLogs"].as_array().unwrap() {
                    out.extend(sl["logRecords"].as_array().unwrap().iter().cloned());
                }
            }
            out
        })
        .collect()
}

fn attr<'a>(attrs: &'a Value, key: &str) -> &'a Value {
    let found = attrs
        .as_array()
        .and_then(|a| a.iter().find(|kv| kv["key"] == key));
    &found.unwrap_or_else(|| panic!("no attribute {key} in {attrs}"))["value"]
}

#[test]
fn components_lists_redact_next_to_the_builtins() {
    let out = my_weir(&["components"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let has = |kind: &str, ty: &str| {
        text.lines().any(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            cells.len() > 2 && cells[0] == kind && cells[1] == ty
        })
    };
    assert!(has("processor", "redact"), "{text}");
    for (kind, ty) in [
        ("receiver", "stdin"),
        ("processor", "sample"),
        ("exporter", "file"),
    ] {
        assert!(has(kind, ty), "built-in {kind} {ty} missing:\n{text}");
    }
}

#[test]
fn validate_accepts_the_shipped_pipeline_and_names_a_bad_setting() {
    let ok = my_weir(&["validate", pipeline().to_str().unwrap()]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    let yaml = std::fs::read_to_string(pipeline())
        .unwrap()
        .replace("card_numbers: true", "card_numbers: true\n    cards: true");
    std::fs::write(&bad, yaml).unwrap();
    let out = my_weir(&["validate", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cards"), "{err}");
}

#[test]
fn the_shipped_pipeline_masks_stdin_into_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("redacted.jsonl");
    let mut child = spawn_run(&out, "none");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input().as_bytes())
        .unwrap();
    // stdin closed: EOF ends the run once everything is written.
    let done = child.wait_with_output().unwrap();
    assert_eq!(
        done.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );

    let raw = std::fs::read_to_string(&out).unwrap();
    for secret in SECRETS {
        assert!(!raw.contains(secret), "{secret} left in {raw}");
    }
    let recs = records(&out);
    let bodies: Vec<&str> = recs
        .iter()
        .map(|r| r["body"]["stringValue"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = INPUT.iter().map(|(_, w)| *w).collect();
    assert_eq!(bodies, want);
    // The JSON line's fields became attributes, masked where they held secrets.
    let refund = &recs[2]["attributes"];
    assert_eq!(attr(refund, "card")["stringValue"], "[card]");
    let user = attr(refund, "user")["kvlistValue"]["values"].clone();
    assert_eq!(attr(&user, "email")["stringValue"], "[email]");
    assert_eq!(attr(&user, "id")["intValue"], "7");
}

/// GET `path` from `addr` over plain HTTP/1.1; the body.
fn http_get(addr: &str, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    resp.split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
}

/// The value of the series of `name` whose labels include every one of `labels`.
fn series(metrics: &str, name: &str, labels: &[&str]) -> Option<f64> {
    metrics.lines().find_map(|l| {
        let (series, value) = l.rsplit_once(' ')?;
        (series.starts_with(&format!("{name}{{")) && labels.iter().all(|x| series.contains(x)))
            .then(|| value.parse().ok())?
    })
}

#[test]
fn a_running_my_weir_serves_its_own_series_and_top_shows_redact() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("redacted.jsonl");
    let mut child = spawn_run(&out, "127.0.0.1:0");
    // The metrics address comes in a log line (JSON logs: fields.addr).
    let stderr = child.stderr.take().unwrap();
    let addr: Arc<Mutex<Option<String>>> = Arc::default();
    let found = addr.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line)
                && let Some(a) = v["fields"]["addr"].as_str()
            {
                *found.lock().unwrap() = Some(a.to_string());
            }
        }
    });
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input().as_bytes()).unwrap();
    stdin.flush().unwrap();

    // stdin stays open: the run goes on while we look at it.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (addr, metrics) = loop {
        assert!(
            Instant::now() < deadline,
            "no redactions counted on /metrics"
        );
        std::thread::sleep(Duration::from_millis(100));
        let Some(a) = addr.lock().unwrap().clone() else {
            continue;
        };
        let Some(m) = http_get(&a, "/metrics") else {
            continue;
        };
        if series(&m, "weir_processor_redact_changed_items_total", &[]) == Some(3.0) {
            break (a, m);
        }
    };
    let rule = |r: &str| {
        series(
            &metrics,
            "weir_processor_redact_redactions_total",
            &[r#"component="redact""#, r#"signal="logs""#, r],
        )
    };
    assert_eq!(rule(r#"rule="email""#), Some(3.0), "{metrics}");
    assert_eq!(rule(r#"rule="card""#), Some(2.0), "{metrics}");

    let top = my_weir(&["top", "--once", "--address", &addr, "--interval", "200ms"]);
    assert!(
        top.status.success(),
        "{}",
        String::from_utf8_lossy(&top.stderr)
    );
    let table = String::from_utf8(top.stdout).unwrap();
    assert!(
        table
            .lines()
            .any(|l| l.split_whitespace().next() == Some("redact")),
        "{table}"
    );

    drop(stdin);
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert_eq!(records(&out).len(), INPUT.len());
}
