//! The `file` exporter against real files: what goes in comes back out.

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use serde_json::Value;
use weir_core::otlp::common::v1::{AnyValue, any_value};
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_core::otlp::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric,
};
use weir_core::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span};
use weir_core::telemetry::Kind;
use weir_core::{BatchMeta, SignalData};

use super::*;

fn build(yaml: &str, signals: &[Signal]) -> Result<Box<dyn Exporter>, ConfigError> {
    let cx = BuildContext::for_test("file", Kind::Exporter, signals);
    FileExporterFactory.build(&ComponentConfig::from_yaml(yaml)?, &cx)
}

fn exporter(path: &Path, extra: &str) -> Box<dyn Exporter> {
    build(
        &format!("path: '{}'\n{extra}", path.display()),
        &[Signal::Logs],
    )
    .unwrap()
}

/// Log records with bodies `first..first + n`.
fn logs(first: usize, n: usize) -> SignalData {
    let record = |i: usize| LogRecord {
        time_unix_nano: 1_700_000_000_000_000_000 + i as u64,
        severity_number: 9,
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue(format!("record {i}"))),
        }),
        trace_id: vec![0xab; 16],
        ..Default::default()
    };
    SignalData::Logs(vec![ResourceLogs {
        scope_logs: vec![ScopeLogs {
            log_records: (first..first + n).map(record).collect(),
            ..Default::default()
        }],
        ..Default::default()
    }])
}

/// The same data as a batch over received bytes.
fn encoded(data: &SignalData) -> Batch {
    let mut buf = Vec::new();
    data.encode_to(&mut buf);
    Batch::from_encoded(
        data.signal(),
        buf.into(),
        data.item_count(),
        BatchMeta::default(),
    )
}

fn read(path: &Path) -> Vec<u8> {
    let raw = fs::read(path).unwrap();
    if path.to_string_lossy().ends_with(".gz") {
        let mut out = Vec::new();
        MultiGzDecoder::new(&raw[..]).read_to_end(&mut out).unwrap();
        out
    } else {
        raw
    }
}

/// Bodies of every log record in a JSON-lines file.
fn json_bodies(path: &Path) -> Vec<String> {
    let text = String::from_utf8(read(path)).unwrap();
    let mut bodies = Vec::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        for rl in v["resourceLogs"].as_array().unwrap() {
            for sl in rl["scopeLogs"].as_array().unwrap() {
                for r in sl["logRecords"].as_array().unwrap() {
                    assert_eq!(r["traceId"], "abababababababababababababababab");
                    bodies.push(r["body"]["stringValue"].as_str().unwrap().to_string());
                }
            }
        }
    }
    bodies
}

/// The export requests in a proto file.
fn proto_frames(path: &Path, signal: Signal) -> Vec<SignalData> {
    let bytes = read(path);
    let mut rest = &bytes[..];
    let mut frames = Vec::new();
    while !rest.is_empty() {
        let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        frames.push(SignalData::decode(signal, &rest[4..4 + len]).unwrap());
        rest = &rest[4 + len..];
    }
    frames
}

/// The files in `dir`, backups (oldest first) before the active file.
fn files_in(dir: &Path, active: &Path) -> Vec<PathBuf> {
    let mut backups: Vec<(u64, PathBuf)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p != active)
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let seq = name.split('-').nth(2).unwrap().split('.').next().unwrap();
            (seq.parse().unwrap(), p)
        })
        .collect();
    backups.sort();
    let mut files: Vec<PathBuf> = backups.into_iter().map(|(_, p)| p).collect();
    if active.exists() {
        files.push(active.to_path_buf());
    }
    files
}

fn bodies(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("record {i}")).collect()
}

#[tokio::test]
async fn json_lines_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/folders/out.json");
    let e = exporter(&path, "");
    assert!(!dir.path().join("nested").exists(), "building does no I/O");
    let outcome = e
        .export(&Batch::from_data(logs(0, 3), BatchMeta::default()))
        .await
        .unwrap();
    assert_eq!(outcome, ExportOutcome::delivered(3));
    e.export(&encoded(&logs(3, 2))).await.unwrap();
    e.shutdown().await.unwrap();
    assert_eq!(json_bodies(&path), bodies(0..5));
    assert_eq!(String::from_utf8(read(&path)).unwrap().lines().count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_on_a_multi_thread_runtime_and_timer_flush() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.json");
    let e = exporter(&path, "flush_interval: 50ms");
    assert_eq!(e.timer(), Some(Duration::from_millis(50)));
    e.export(&Batch::from_data(logs(0, 4), BatchMeta::default()))
        .await
        .unwrap();
    e.export(&encoded(&logs(4, 1))).await.unwrap();
    e.on_timer().await.unwrap();
    assert_eq!(json_bodies(&path), bodies(0..5), "flushed by the timer");
    e.shutdown().await.unwrap();
}

#[tokio::test]
async fn proto_frames_keep_received_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.pb");
    let e = exporter(&path, "format: proto");
    let first = encoded(&logs(0, 2));
    e.export(&first).await.unwrap();
    e.export(&Batch::from_data(logs(2, 3), BatchMeta::default()))
        .await
        .unwrap();
    e.shutdown().await.unwrap();
    let raw = fs::read(&path).unwrap();
    let received = first.received_bytes().unwrap();
    assert_eq!(
        &raw[4..4 + received.len()],
        &received[..],
        "written as received"
    );
    assert_eq!(
        proto_frames(&path, Signal::Logs),
        vec![logs(0, 2), logs(2, 3)]
    );
}

#[tokio::test]
async fn gzip_reads_back_across_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.json.gz");
    let e = exporter(&path, "compression: gzip");
    e.export(&encoded(&logs(0, 10))).await.unwrap();
    e.on_timer().await.unwrap();
    e.shutdown().await.unwrap();
    // After shutdown the file is a complete gzip stream; a new session appends a member.
    let e = exporter(&path, "compression: gzip");
    e.export(&encoded(&logs(10, 5))).await.unwrap();
    e.shutdown().await.unwrap();
    assert_eq!(json_bodies(&path), bodies(0..15));
}

/// Writes `batches` batches of 5 records each into `name`, configured by `config`.
async fn write_batches(name: &str, config: &str, batches: usize) -> (PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    let e = exporter(&path, config);
    for b in 0..batches {
        e.export(&encoded(&logs(b * 5, 5))).await.unwrap();
    }
    e.shutdown().await.unwrap();
    (path, dir)
}

#[tokio::test]
async fn rotation_keeps_every_record_once() {
    let config = "rotation: { max_bytes: 2KiB, max_backups: 0 }";
    let (path, dir) = write_batches("out.json", config, 50).await;
    let files = files_in(dir.path(), &path);
    assert!(files.len() > 5, "rotated: {files:?}");
    let all: Vec<String> = files.iter().flat_map(|f| json_bodies(f)).collect();
    assert_eq!(all, bodies(0..250), "in order, each exactly once");
    for f in &files[..files.len() - 1] {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("out-") && name.ends_with(".json"),
            "{name}"
        );
        let size = fs::metadata(f).unwrap().len();
        assert!(
            (2048..2048 + 1024).contains(&size),
            "rotated just past max_bytes: {size}"
        );
    }
}

#[tokio::test]
async fn gzip_rotation() {
    // gzip output lags its input by what the compressor holds, so write more.
    let config = "compression: gzip\nrotation: { max_bytes: 2KiB, max_backups: 0 }";
    let (path, dir) = write_batches("out.json.gz", config, 2000).await;
    let files = files_in(dir.path(), &path);
    assert!(files.len() > 2, "rotated: {files:?}");
    let all: Vec<String> = files.iter().flat_map(|f| json_bodies(f)).collect();
    assert_eq!(all, bodies(0..10_000));
    assert!(files[0].to_string_lossy().ends_with(".json.gz"));
}

#[tokio::test]
async fn proto_rotation() {
    let config = "format: proto\nrotation: { max_bytes: 1KiB, max_backups: 0 }";
    let (path, dir) = write_batches("out.pb", config, 20).await;
    let files = files_in(dir.path(), &path);
    assert!(files.len() > 3, "rotated: {files:?}");
    let frames: Vec<SignalData> = files
        .iter()
        .flat_map(|f| proto_frames(f, Signal::Logs))
        .collect();
    assert_eq!(frames, (0..20).map(|b| logs(b * 5, 5)).collect::<Vec<_>>());
}

#[tokio::test]
async fn rotation_caps_backups() {
    let config = "rotation: { max_bytes: 2KiB, max_backups: 2 }";
    let (path, dir) = write_batches("out.json", config, 50).await;
    let files = files_in(dir.path(), &path);
    let backups = files.iter().filter(|f| **f != path).count();
    assert_eq!(backups, 2, "{files:?}");
    let kept: Vec<String> = files.iter().flat_map(|f| json_bodies(f)).collect();
    let first: usize = kept[0].trim_start_matches("record ").parse().unwrap();
    assert!(first > 0);
    assert_eq!(kept, bodies(first..250), "the newest records, each once");
}

#[tokio::test]
async fn every_signal_in_one_json_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all.json");
    let yaml = format!("path: '{}'", path.display());
    let e = build(&yaml, &Signal::ALL).unwrap();
    let spans = SignalData::Traces(vec![ResourceSpans {
        scope_spans: vec![ScopeSpans {
            spans: vec![Span {
                name: "op".into(),
                span_id: vec![1; 8],
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }]);
    let point = NumberDataPoint {
        value: Some(weir_core::otlp::metrics::v1::number_data_point::Value::AsInt(7)),
        ..Default::default()
    };
    let metrics = SignalData::Metrics(vec![ResourceMetrics {
        scope_metrics: vec![ScopeMetrics {
            metrics: vec![Metric {
                name: "m".into(),
                data: Some(metric::Data::Gauge(Gauge {
                    data_points: vec![point.clone(), point],
                })),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }]);
    e.export(&encoded(&logs(0, 1))).await.unwrap();
    e.export(&encoded(&spans)).await.unwrap();
    let outcome = e
        .export(&Batch::from_data(metrics, BatchMeta::default()))
        .await
        .unwrap();
    assert_eq!(outcome.sent, 2);
    e.shutdown().await.unwrap();
    let lines: Vec<Value> = String::from_utf8(read(&path))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines[0]["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["body"]["stringValue"],
        "record 0"
    );
    assert_eq!(
        lines[1]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["spanId"],
        "0101010101010101"
    );
    let gauge = &lines[2]["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["gauge"];
    assert_eq!(gauge["dataPoints"][1]["asInt"], "7");
}

#[tokio::test]
async fn proto_traces_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spans.pb");
    let yaml = format!("path: '{}'\nformat: proto", path.display());
    let e = build(&yaml, &[Signal::Traces]).unwrap();
    let spans = SignalData::Traces(vec![ResourceSpans::default()]);
    e.export(&Batch::from_data(spans.clone(), BatchMeta::default()))
        .await
        .unwrap();
    e.shutdown().await.unwrap();
    assert_eq!(proto_frames(&path, Signal::Traces), vec![spans]);
}

#[test]
fn config_errors() {
    let e = build("path: out.json\nrotate: yes", &[Signal::Logs])
        .err()
        .unwrap();
    assert!(e.message.contains("unknown field `rotate`"), "{e}");
    let e = build(
        "path: out.pb\nformat: proto",
        &[Signal::Logs, Signal::Metrics],
    )
    .err()
    .unwrap();
    assert_eq!(e.path.as_deref(), Some("format"));
    assert!(
        e.to_string().contains("one file exporter per signal"),
        "{e}"
    );
    assert!(build("path: out.pb\nformat: proto", &[Signal::Metrics]).is_ok());
}

#[tokio::test]
async fn unwritable_paths_are_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    // A folder where the file should be.
    let e = exporter(dir.path(), "");
    let err = e.export(&encoded(&logs(0, 1))).await.unwrap_err();
    assert!(err.is_retryable());
    let text = err.to_string();
    assert!(
        text.contains(&format!("cannot open {}:", dir.path().display())),
        "{text}"
    );
    assert!(text.contains("os error"), "{text}");

    // A regular file where a parent folder should be.
    let blocker = dir.path().join("blocker");
    fs::write(&blocker, "x").unwrap();
    let path = blocker.join("sub/out.json");
    let err = exporter(&path, "")
        .export(&encoded(&logs(0, 1)))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains(&blocker.display().to_string()),
        "{err}"
    );

    let names: BTreeSet<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "nothing else created: {names:?}");
}
