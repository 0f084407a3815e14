//! `service.telemetry.metrics.level: none` on the real binary: `/metrics`
//! serves nothing, while data flows and the run summary counts what was
//! delivered (it does not read the switched-off counters).

use std::io::Write;

use serde_json::Value;

use crate::support::{Weir, http_get, read_records};

#[test]
fn metrics_level_none_serves_nothing_and_still_counts_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let file = dir.path().join("pipeline.yaml");
    std::fs::write(
        &file,
        format!(
            "receivers:\n  stdin: {{ max_delay: 10ms }}\nexporters:\n  file: {{ path: \"{}\" }}\n\
             service:\n  telemetry: {{ metrics: {{ address: 127.0.0.1:0, level: none }} }}\n  \
             pipelines:\n    logs: {{ receivers: [stdin], exporters: [file] }}\n",
            out.display()
        ),
    )
    .unwrap();
    let mut weir = Weir::start(&file, &[]);
    let metrics = weir.metrics_addr();
    {
        let stdin = weir.child.stdin.as_mut().unwrap();
        for i in 0..25 {
            writeln!(stdin, "record {i}").unwrap();
        }
    }
    let (status, text) = http_get(&metrics, "/metrics");
    assert_eq!((status, text.as_str()), (200, ""), "an empty /metrics");
    let (status, _) = http_get(&metrics, "/healthz");
    assert_eq!(status, 200, "health is still served");

    drop(weir.child.stdin.take());
    assert_eq!(weir.wait(), 0, "a clean run\n{}", weir.stderr());
    assert_eq!(read_records(&out).len(), 25);
    let delivered = weir
        .stderr()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find_map(|v| v["fields"]["delivered"].as_u64());
    assert_eq!(delivered, Some(25), "the summary\n{}", weir.stderr());
}
