//! weir's own log lines on the real binary: every line from inside a
//! component carries its id (JSON `span.component`, text `kind{component=id}`),
//! a storm of the same warning is one line and then a count, and a stdin batch
//! run ends with a summary line on stderr.

mod otlp_support;
mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use otlp_support::{wait_exit, write_pipeline};
use serde_json::Value;
use support::{WEIR, Weir, metric, wait_metrics, workspace};

/// POSTs one OTLP/JSON logs request of two records; returns the status.
fn post_logs(addr: &str) -> u16 {
    let body = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"a"}},{"body":{"stringValue":"b"}}]}]}]}"#;
    let mut s = TcpStream::connect(addr).unwrap();
    let request = format!(
        "POST /v1/logs HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn pipeline(dir: &std::path::Path) -> std::path::PathBuf {
    let yaml = format!(
        r#"
receivers:
  otlp:
    protocols: {{ http: {{ endpoint: 127.0.0.1:0 }} }}
exporters:
  otlp/dead:
    endpoint: http://127.0.0.1:{}
    protocol: http/protobuf
    retry: {{ initial: 10ms, max: 20ms, max_elapsed: 0s }}
service:
  shutdown_timeout: 1s
  telemetry: {{ metrics: {{ address: 127.0.0.1:0 }} }}
  pipelines:
    logs: {{ receivers: [otlp], exporters: [otlp/dead] }}
"#,
        closed_port()
    );
    write_pipeline(dir, "pipeline.yaml", &yaml)
}

#[test]
fn json_lines_carry_the_component_and_a_storm_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut weir = Weir::start(&pipeline(dir.path()), &[]);
    let (_, http) = weir.otlp_addrs();
    let metrics_addr = weir.metrics_addr();
    assert_eq!(post_logs(&http), 200);
    // The destination is down: the exporter retries every 10-20 ms.
    wait_metrics(&metrics_addr, |t| {
        metric(
            t,
            "weir_exporter_retries_total",
            &[("component", "otlp/dead")],
        ) >= 20.0
    });
    weir.signal("TERM");
    assert_eq!(wait_exit(&mut weir), 3, "undelivered data abandoned");

    let stderr = weir.stderr();
    let lines: Vec<Value> = stderr
        .lines()
        // All JSON but the closing note on abandoned items.
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let message = |v: &Value| v["fields"]["message"].as_str().unwrap_or("").to_string();

    // The receiver's own line names it through the span.
    let listening = lines
        .iter()
        .find(|v| message(v) == "OTLP receiver listening")
        .expect("the receiver's line");
    assert_eq!(listening["span"]["component"], "otlp", "{listening}");
    assert_eq!(listening["span"]["name"], "receiver", "{listening}");

    // The retry warning: logged once, in the exporter's span (its delivery
    // runs in a task of its own), then counted.
    let retries: Vec<&Value> = lines
        .iter()
        .filter(|v| message(v).starts_with("export failed; will retry"))
        .collect();
    assert_eq!(retries.len(), 2, "one line, one count:\n{stderr}");
    assert_eq!(
        retries[0]["span"]["component"], "otlp/dead",
        "{}",
        retries[0]
    );
    assert_eq!(retries[0]["span"]["name"], "exporter", "{}", retries[0]);
    let count = retries[1]["fields"]["repeated"].as_u64().expect("a count");
    assert!(count >= 19, "{}", retries[1]);
    assert_eq!(retries[1]["fields"]["component"], "otlp/dead");
    assert!(
        message(retries[1]).starts_with(&format!(
            "export failed; will retry (repeated {count} times in the last "
        )),
        "{}",
        retries[1]
    );
}

#[test]
fn text_lines_name_the_component() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(WEIR)
        .args(["--log-format", "text", "run"])
        .arg(pipeline(dir.path()))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut found = None;
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.contains("OTLP receiver listening") {
            found = Some(line);
            break;
        }
        assert!(Instant::now() < deadline, "no listening line");
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let line = found.expect("a listening line");
    assert!(
        line.contains(" receiver{component=otlp}: OTLP receiver listening"),
        "{line}"
    );
}

#[test]
fn a_stdin_run_ends_with_a_summary_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let mut child = Command::new(WEIR)
        .arg("run")
        .arg(workspace().join("pipelines/stdin-to-file.yaml"))
        .env("WEIR_OUTPUT", &out)
        .env("WEIR_METRICS_ADDRESS", "none")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for i in 0..2500 {
        writeln!(stdin, "line {i}").unwrap();
    }
    drop(stdin);
    let done = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(0), "{stderr}");
    // stderr is not a terminal here: no progress line, only the summary, last.
    assert!(!stderr.contains('\r'), "{stderr:?}");
    let last = stderr.lines().last().unwrap_or("");
    assert!(
        last.starts_with("weir: 2500 records in, 2500 out, 0 dropped, ")
            && last.ends_with(" records/s)"),
        "{stderr}"
    );
}
