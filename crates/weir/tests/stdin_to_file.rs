//! `weir run pipelines/stdin-to-file.yaml` on the real binary: every line arrives,
//! mapped as the issue says, with and without gzip and rotation.

mod support;

use std::collections::HashSet;
use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;
use support::{WEIR, attr, read_records, workspace};

const LINES: usize = 100_000;

/// Line `i` of the mixed input: text, JSON with epoch-ms time, JSON with RFC 3339.
fn line(i: usize) -> String {
    match i % 3 {
        0 => format!("plain text line {i}"),
        1 => format!(
            r#"{{"level":"error","msg":"json {i}","ts":{},"user":{{"id":{i},"name":"u{i}"}},"ok":true}}"#,
            1_700_000_000_000u64 + i as u64
        ),
        _ => format!(
            r#"{{"severity":"debug","message":"rfc {i}","time":"2024-05-01T12:00:00.5+02:00","tags":["a","b"],"ratio":0.25}}"#
        ),
    }
}

fn run_weir(env: &[(&str, &str)]) -> (i32, String) {
    let mut child = Command::new(WEIR)
        .arg("run")
        .arg(workspace().join("pipelines/stdin-to-file.yaml"))
        .env("WEIR_METRICS_ADDRESS", "none")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn weir");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let mut buf = Vec::with_capacity(8 << 20);
        for i in 0..LINES {
            buf.extend_from_slice(line(i).as_bytes());
            buf.push(b'\n');
        }
        stdin.write_all(&buf).unwrap();
        // Dropping stdin is the EOF that ends the run.
    });
    writer.join().unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn body(r: &Value) -> &str {
    r["body"]["stringValue"].as_str().expect("string body")
}

fn check_mapping(records: &[Value]) {
    assert_eq!(records.len(), LINES, "every line is one record");
    let mut seen = HashSet::new();
    for r in records {
        assert!(r["observedTimeUnixNano"].as_str().is_some());
        let b = body(r);
        let i: usize = b.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(seen.insert(i), "record {i} twice");
        match i % 3 {
            0 => {
                assert_eq!(b, format!("plain text line {i}"));
                assert!(r.get("severityNumber").is_none());
                assert!(r.get("attributes").is_none());
            }
            1 => {
                assert_eq!(b, format!("json {i}"));
                assert_eq!(r["severityNumber"], 17);
                assert_eq!(r["severityText"], "error");
                let nanos = (1_700_000_000_000u64 + i as u64) * 1_000_000;
                assert_eq!(r["timeUnixNano"], nanos.to_string());
                let user = &attr(r, "user").unwrap()["kvlistValue"]["values"];
                assert_eq!(user[0]["key"], "id");
                assert_eq!(user[0]["value"]["intValue"], i.to_string());
                assert_eq!(user[1]["value"]["stringValue"], format!("u{i}"));
                assert_eq!(attr(r, "ok").unwrap()["boolValue"], true);
            }
            _ => {
                assert_eq!(b, format!("rfc {i}"));
                assert_eq!(r["severityNumber"], 5);
                assert_eq!(r["severityText"], "debug");
                // 2024-05-01T10:00:00.5Z
                assert_eq!(r["timeUnixNano"], "1714557600500000000");
                let tags = &attr(r, "tags").unwrap()["arrayValue"]["values"];
                assert_eq!(tags[1]["stringValue"], "b");
                assert_eq!(attr(r, "ratio").unwrap()["doubleValue"], 0.25);
            }
        }
    }
}

#[test]
fn hundred_thousand_mixed_lines_arrive_mapped() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested/out.jsonl");
    let (code, stderr) = run_weir(&[("WEIR_OUTPUT", out.to_str().unwrap())]);
    assert_eq!(code, 0, "{stderr}");
    check_mapping(&read_records(&out));
}

#[test]
fn gzip_with_size_rotation_keeps_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl.gz");
    let (code, stderr) = run_weir(&[
        ("WEIR_OUTPUT", out.to_str().unwrap()),
        ("WEIR_COMPRESSION", "gzip"),
        ("WEIR_ROTATE_BYTES", "300KiB"),
        ("WEIR_MAX_BACKUPS", "0"),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(files.len() > 3, "rotation made several files: {files:?}");
    let mut all = Vec::new();
    for f in &files {
        all.extend(read_records(f));
    }
    check_mapping(&all);
}
