//! The compliance helper: runs one component in a real pipeline on the real
//! binary, feeds it logs, scrapes `/metrics` (served on a port-0 address) and
//! checks that the standard series of its kind (DESIGN.md §6,
//! docs/telemetry.md) exist with their `component`, `kind` and `signal`
//! labels and moved.
//!
//! The component under test gets the id `<type>/compliance`; the rest of the
//! pipeline is `stdin` in front of it (when it is not a receiver) and
//! `blackhole` behind it (when it is not an exporter).

use std::any::Any;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use prost::Message;
use weir_core::telemetry::{Kind, names};

use super::scrape::{self, Sample};
use crate::otlp_support::{install_crypto, logs_request};
use crate::support::{Weir, http_get};

/// Records fed in each of [`SENDS`] sends.
pub const RECORDS: usize = 10;
/// Sends, so histograms see more than one batch.
pub const SENDS: usize = 2;

/// How a receiver under test gets its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// Lines on weir's stdin.
    Stdin,
    /// OTLP/HTTP protobuf requests to the `otlp` receiver.
    OtlpHttp,
    /// JSON arrays to the `http` receiver's `/v1/json`.
    HttpJson,
}

/// A component's config for the run, and whatever it needs kept alive
/// (a destination server, its runtime, a temporary folder).
pub struct Setup {
    /// The YAML value under the component's id, as a flow mapping.
    pub config: String,
    /// Dropped, in order, when the run ends.
    pub keep: Vec<Box<dyn Any>>,
}

impl Setup {
    /// A config that needs nothing else.
    pub fn plain(config: &str) -> Setup {
        Setup {
            config: config.to_string(),
            keep: Vec::new(),
        }
    }
}

/// One compliance case: a component type, how it is fed, its minimal config.
pub struct Case {
    pub kind: Kind,
    pub type_name: &'static str,
    /// For receivers: how the data reaches it. Others are fed through stdin.
    pub feed: Feed,
    pub setup: fn() -> Setup,
}

/// What a series must show.
#[derive(Debug, Clone, Copy)]
enum Moved {
    /// Present (a gauge that may read 0, a counter of rare events).
    Exists,
    /// Above 0.
    Positive,
    /// At least this much (items that were fed).
    AtLeast(f64),
}

/// One expected sample.
#[derive(Debug, Clone)]
struct Expect {
    sample: String,
    /// Carries `signal="logs"` (per-signal series); exporter-wide series
    /// (queue, concurrency) carry `component` and `kind` only.
    per_signal: bool,
    moved: Moved,
}

fn expect(sample: &str, per_signal: bool, moved: Moved) -> Expect {
    Expect {
        sample: sample.to_string(),
        per_signal,
        moved,
    }
}

fn histogram_count(name: &str) -> String {
    format!("{name}_count")
}

/// The standard series of `kind` (docs/telemetry.md, "standard series").
fn standard(kind: Kind) -> Vec<Expect> {
    let fed = (RECORDS * SENDS) as f64;
    match kind {
        Kind::Receiver => vec![expect(
            names::RECEIVER_ACCEPTED_ITEMS,
            true,
            Moved::AtLeast(fed),
        )],
        Kind::Processor => vec![
            expect(names::PROCESSOR_RECEIVED_ITEMS, true, Moved::AtLeast(fed)),
            expect(names::PROCESSOR_SENT_ITEMS, true, Moved::AtLeast(fed)),
            expect(names::CHANNEL_ITEMS, true, Moved::Exists),
        ],
        Kind::Exporter => vec![
            expect(names::EXPORTER_SENT_ITEMS, true, Moved::AtLeast(fed)),
            expect(names::EXPORTER_RETRIES, true, Moved::Exists),
            expect(
                &histogram_count(names::EXPORTER_SEND_DURATION),
                true,
                Moved::Positive,
            ),
            expect(
                &histogram_count(names::EXPORTER_BATCH_SIZE_ITEMS),
                true,
                Moved::Positive,
            ),
            expect(
                &format!("{}_sum", names::EXPORTER_BATCH_SIZE_ITEMS),
                true,
                Moved::AtLeast(fed),
            ),
            expect(
                &format!("{}_sum", names::EXPORTER_BATCH_SIZE_BYTES),
                true,
                Moved::Positive,
            ),
            expect(
                &histogram_count(names::EXPORTER_END_TO_END_LATENCY),
                true,
                Moved::Positive,
            ),
            expect(names::EXPORTER_QUEUE_ITEMS, false, Moved::Exists),
            expect(names::EXPORTER_QUEUE_CAPACITY, false, Moved::Positive),
            expect(names::EXPORTER_CONCURRENCY_LIMIT, false, Moved::Positive),
        ],
        Kind::Channel => Vec::new(),
    }
}

/// The id of the component under test.
pub fn id(case: &Case) -> String {
    format!("{}/compliance", case.type_name)
}

/// The pipeline file around the component under test.
fn pipeline(case: &Case, config: &str) -> String {
    let id = id(case);
    let (receiver, processors, exporter) = match case.kind {
        Kind::Receiver => (
            format!("{id}: {config}"),
            String::new(),
            "blackhole:".into(),
        ),
        Kind::Processor => (
            "stdin: { max_delay: 10ms }".to_string(),
            format!("processors:\n  {id}: {config}\n"),
            "blackhole:".into(),
        ),
        _ => (
            "stdin: { max_delay: 10ms }".to_string(),
            String::new(),
            format!("{id}: {config}"),
        ),
    };
    let ids = |line: &str| line.split(':').next().unwrap_or_default().to_string();
    let chain = match case.kind {
        Kind::Processor => format!(", processors: [{id}]"),
        _ => String::new(),
    };
    format!(
        "receivers:\n  {receiver}\n{processors}exporters:\n  {exporter}\n\
         service:\n  telemetry: {{ metrics: {{ address: 127.0.0.1:0 }} }}\n  \
         pipelines:\n    logs: {{ receivers: [{r}]{chain}, exporters: [{e}] }}\n",
        r = ids(&receiver),
        e = ids(&exporter),
    )
}

/// Feeds one send of [`RECORDS`] records (number `send`).
fn feed(weir: &mut Weir, how: Feed, send: usize) {
    match how {
        Feed::Stdin => {
            let stdin = weir.child.stdin.as_mut().expect("stdin piped");
            for i in 0..RECORDS {
                writeln!(stdin, "compliance record {send}-{i}").expect("write to weir's stdin");
            }
            stdin.flush().expect("flush weir's stdin");
        }
        Feed::OtlpHttp => {
            let (_, http) = weir.otlp_addrs();
            let body = logs_request(&format!("s{send}"), RECORDS).encode_to_vec();
            post(
                &format!("http://{http}/v1/logs"),
                "application/x-protobuf",
                body,
            );
        }
        Feed::HttpJson => {
            let addr = weir.http_addr();
            let records: Vec<serde_json::Value> = (0..RECORDS)
                .map(|i| serde_json::json!({ "message": format!("compliance {send}-{i}"), "level": "info" }))
                .collect();
            post(
                &format!("http://{addr}/v1/json"),
                "application/json",
                serde_json::to_vec(&records).unwrap(),
            );
        }
    }
}

fn post(url: &str, content_type: &str, body: Vec<u8>) {
    install_crypto();
    let resp = reqwest::blocking::Client::new()
        .post(url)
        .header("content-type", content_type)
        .body(body)
        .send()
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    assert!(resp.status().is_success(), "POST {url}: {}", resp.status());
}

/// What is wrong with `samples` for the component `id` of `kind`; empty when
/// it complies.
fn problems(samples: &[Sample], id: &str, kind: Kind) -> Vec<String> {
    let mine: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.label("component") == Some(id))
        .collect();
    let mut out = Vec::new();
    for s in &mine {
        if s.label("kind") != Some(kind.as_str()) {
            out.push(format!("{} has kind {:?}", s.name, s.label("kind")));
        }
    }
    for e in standard(kind) {
        let found: Vec<&&Sample> = mine
            .iter()
            .filter(|s| s.name == e.sample)
            .filter(|s| !e.per_signal || s.label("signal") == Some("logs"))
            .collect();
        let Some(best) = found.iter().map(|s| s.value).reduce(f64::max) else {
            let labels = if e.per_signal {
                ", kind, signal=\"logs\""
            } else {
                ", kind"
            };
            out.push(format!(
                "missing {}{{component=\"{id}\"{labels}}}",
                e.sample
            ));
            continue;
        };
        let ok = match e.moved {
            Moved::Exists => true,
            Moved::Positive => best > 0.0,
            Moved::AtLeast(n) => best >= n,
        };
        if !ok {
            out.push(format!(
                "{} did not move enough ({best}, {:?})",
                e.sample, e.moved
            ));
        }
    }
    out
}

/// Runs `case` and panics with what is missing when it does not comply.
pub fn check(case: &Case) {
    let Setup { config, keep } = (case.setup)();
    let dir = tempfile::tempdir().unwrap();
    let file: PathBuf = dir.path().join("pipeline.yaml");
    let yaml = pipeline(case, &config);
    std::fs::write(&file, &yaml).unwrap();
    let mut weir = Weir::start(&file, &[]);
    let metrics = weir.metrics_addr();
    let how = match case.kind {
        Kind::Receiver => case.feed,
        _ => Feed::Stdin,
    };
    for send in 0..SENDS {
        feed(&mut weir, how, send);
    }

    let id = id(case);
    let deadline = Instant::now() + Duration::from_secs(20);
    let (text, samples) = loop {
        let (status, text) = http_get(&metrics, "/metrics");
        assert_eq!(status, 200, "/metrics answered {status}");
        let samples = scrape::parse(&text);
        if problems(&samples, &id, case.kind).is_empty() || Instant::now() > deadline {
            break (text, samples);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let wrong = problems(&samples, &id, case.kind);
    assert!(
        wrong.is_empty(),
        "{} `{}` does not emit the standard series:\n  {}\n\npipeline:\n{yaml}\n/metrics:\n{text}\nweir:\n{}",
        case.kind,
        case.type_name,
        wrong.join("\n  "),
        weir.stderr()
    );
    every_series_is_named_in_names_rs(&text);
    // Shown with --nocapture: what the component served.
    for s in samples
        .iter()
        .filter(|s| s.label("component") == Some(id.as_str()))
    {
        eprintln!("{} {:?} {}", s.name, s.labels, s.value);
    }

    drop(weir.child.stdin.take());
    weir.signal("TERM");
    assert_eq!(weir.wait(), 0, "weir exit status\n{}", weir.stderr());
    // The destination goes after weir: it delivered to it until the end.
    for k in keep {
        drop(k);
    }
}

/// No component spells a metric name of its own: every family served is one
/// of `weir_core::telemetry::names`.
fn every_series_is_named_in_names_rs(text: &str) {
    let types = scrape::types(text);
    for s in scrape::parse(text) {
        let family = scrape::family(&s.name, &types);
        assert!(
            names::ALL.contains(&family),
            "{family} is served but not in weir_core::telemetry::names"
        );
    }
}

#[test]
fn a_series_without_its_labels_or_that_did_not_move_is_reported() {
    let text = "\
weir_receiver_accepted_items_total{component=\"r\",kind=\"receiver\"} 20
weir_processor_received_items_total{component=\"p\",kind=\"processor\",signal=\"logs\"} 20
weir_processor_sent_items_total{component=\"p\",kind=\"processor\",signal=\"logs\"} 0
weir_channel_items{component=\"p\",kind=\"receiver\",signal=\"logs\",pipeline=\"logs\"} 0
";
    let samples = scrape::parse(text);
    let r = problems(&samples, "r", Kind::Receiver);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(
        r[0].contains("missing weir_receiver_accepted_items_total"),
        "{r:?}"
    );
    let p = problems(&samples, "p", Kind::Processor);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(p[0].contains("weir_channel_items has kind"), "{p:?}");
    assert!(
        p[1].contains("weir_processor_sent_items_total did not move"),
        "{p:?}"
    );
    assert!(problems(&samples, "x", Kind::Exporter).len() >= 8);
}
