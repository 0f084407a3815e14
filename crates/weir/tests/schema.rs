//! `weir schema`: every shipped pipeline and every pipeline example in the docs
//! validates against the JSON Schema the binary prints; broken files do not;
//! `${env:...}` stands anywhere a value does; the size and duration patterns
//! accept what weir's parsers accept.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `weir schema`, parsed.
fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let out = Command::new(env!("CARGO_BIN_EXE_weir"))
            .arg("schema")
            .output()
            .expect("run weir schema");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("weir schema prints JSON")
    })
}

/// A validator for `schema` (compiling it also checks it against the 2020-12
/// meta-schema).
struct Validator {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Validator {
    fn new(schema: &Value) -> Self {
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler
            .add_resource("weir-pipeline.json", schema.clone())
            .expect("add the schema");
        let index = compiler
            .compile("weir-pipeline.json", &mut schemas)
            .unwrap_or_else(|e| panic!("the schema does not compile: {e:#}"));
        Validator { schemas, index }
    }

    fn check(&self, doc: &Value) -> Result<(), String> {
        self.schemas
            .validate(doc, self.index)
            .map_err(|e| format!("{e}"))
    }
}

fn full() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| Validator::new(schema()))
}

/// The same schema without required top-level keys, for examples that show
/// one section.
fn fragments() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| {
        let mut s = schema().clone();
        s.as_object_mut().unwrap().remove("required");
        Validator::new(&s)
    })
}

fn yaml(text: &str) -> Value {
    yaml_serde::from_str(text).unwrap_or_else(|e| panic!("{e}:\n{text}"))
}

#[test]
fn every_shipped_pipeline_validates() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(root().join("pipelines")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let doc = yaml(&std::fs::read_to_string(&path).unwrap());
        if let Err(e) = full().check(&doc) {
            failures.push(format!("{}:\n{e}", path.display()));
        }
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} pipeline files found");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The ```yaml blocks of README.md and docs/ (the reference's examples come
/// from the config structs' doc comments): those that are whole files must
/// validate as such, the others (one section) as fragments.
#[test]
fn every_pipeline_example_in_the_docs_validates() {
    let mut files = vec![root().join("README.md")];
    for dir in ["docs", "docs/processors"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) == Some("md") {
                files.push(path);
            }
        }
    }
    let sections = ["receivers", "processors", "exporters", "service"];
    let (mut checked, mut failures) = (0, Vec::new());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (line, block) in yaml_blocks(&text) {
            let doc = yaml(&block);
            let Some(keys) = doc.as_object() else {
                continue;
            };
            if keys.is_empty() || !keys.keys().all(|k| sections.contains(&k.as_str())) {
                continue;
            }
            let validator = if keys.contains_key("service") {
                full()
            } else {
                fragments()
            };
            if let Err(e) = validator.check(&doc) {
                failures.push(format!("{}:{line}:\n{e}", file.display()));
            }
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} examples found");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// (first line, text) of every ```yaml block.
fn yaml_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        match &mut current {
            None if line.trim_start().starts_with("```yaml") => {
                current = Some((i + 2, String::new()))
            }
            Some(_) if line.trim_start().starts_with("```") => out.extend(current.take()),
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {}
        }
    }
    out
}

const PIPELINE: &str =
    "service:\n  pipelines:\n    logs: { receivers: [stdin], exporters: [blackhole] }\n";

fn with_pipeline(sections: &str) -> Value {
    yaml(&format!("{sections}\n{PIPELINE}"))
}

#[test]
fn references_to_the_environment_stand_for_any_value() {
    let doc = with_pipeline(
        "receivers:
  stdin:
    format: ${env:FORMAT:-json}
    max_batch: ${env:BATCH}
    max_line_bytes: ${env:LINE:-64KiB}
    max_delay: ${env:DELAY}
  otlp:
    protocols: { grpc: { endpoint: '${env:HOST}:${env:PORT}' } }
    acknowledgements: ${env:ACKS:-false}
exporters:
  blackhole:
  file:
    path: ${env:OUT}
    rotation:
      max_backups: ${env:KEEP:-3}
    queue:
      capacity: ${env:CAP}
      when_full: ${env:WHEN_FULL}
    max_in_flight: ${env:FLIGHT}",
    );
    full().check(&doc).unwrap();
    let mut doc = doc;
    doc["service"]["shutdown_timeout"] = json!("${env:STOP:-30s}");
    doc["service"]["telemetry"] = json!({ "metrics": { "level": "${env:LEVEL}" } });
    full().check(&doc).unwrap();
}

#[test]
fn broken_files_fail() {
    let cases = [
        ("unknown top-level key", "bogus: 1\n".to_string()),
        (
            "unknown component type",
            "receivers: { kafka: {} }\n".into(),
        ),
        (
            "bad component name",
            "receivers: { 'stdin/a b': {} }\n".into(),
        ),
        (
            "unknown key",
            "receivers: { stdin: { max_lines: 3 } }\n".into(),
        ),
        (
            "wrong type",
            "receivers: { stdin: { max_batch: lots } }\n".into(),
        ),
        (
            "unknown enum value",
            "receivers: { stdin: { format: xml } }\n".into(),
        ),
        (
            "bad duration",
            "receivers: { stdin: { max_delay: 5 parsecs } }\n".into(),
        ),
        (
            "duration as a number",
            "receivers: { stdin: { max_delay: 5 } }\n".into(),
        ),
        (
            "bad size",
            "receivers: { stdin: { max_line_bytes: 12XB } }\n".into(),
        ),
        (
            "bad env reference",
            "receivers: { stdin: { max_batch: '${ENV:X}' } }\n".into(),
        ),
        (
            "missing required key",
            "exporters: { file: { format: json } }\n".into(),
        ),
        ("required key, no config", "exporters: { file: }\n".into()),
        (
            "bad harness key",
            "exporters: { blackhole: { queue: { when_full: maybe } } }\n".into(),
        ),
        (
            "harness key on a receiver",
            "receivers: { stdin: { retry: {} } }\n".into(),
        ),
        (
            "nested unknown key",
            "receivers: { otlp: { protocols: { grpc: { port: 1 } } } }\n".into(),
        ),
    ];
    for (what, sections) in cases {
        let doc = with_pipeline(&sections);
        assert!(full().check(&doc).is_err(), "{what} passed:\n{sections}");
    }
    let service_cases = [
        ("no service", "receivers: { stdin: }\n"),
        (
            "bad pipeline id",
            "service: { pipelines: { logz: { receivers: [a], exporters: [b] } } }",
        ),
        (
            "pipeline without exporters",
            "service: { pipelines: { logs: { receivers: [a] } } }",
        ),
        ("no pipelines", "service: { pipelines: {} }"),
        (
            "unknown service key",
            "service: { pipelines: { logs: { receivers: [a], exporters: [b] } }, workers: 4 }",
        ),
        (
            "bad log format",
            "service: { pipelines: { logs: { receivers: [a], exporters: [b] } }, telemetry: { logs: { format: xml } } }",
        ),
    ];
    for (what, text) in service_cases {
        assert!(full().check(&yaml(text)).is_err(), "{what} passed:\n{text}");
    }
}

#[test]
fn empty_configs_and_harness_settings_validate() {
    let doc = with_pipeline(
        "receivers: { stdin: , otlp/edge: {} }
processors:
exporters:
  blackhole: { max_in_flight: 2, retry: { max_elapsed: 0s }, queue: { storage: disk, path: /tmp/q } }
  ledger: { endpoint: 'http://127.0.0.1:1', api_key: k }",
    );
    full().check(&doc).unwrap();
}

/// The schema's size and duration patterns agree with the parsers weir uses.
#[test]
fn sizes_and_durations_match_the_parsers() {
    let check = |key: &str, value: &str| {
        let doc = with_pipeline(&format!("receivers: {{ stdin: {{ {key}: '{value}' }} }}"));
        full().check(&doc).is_ok()
    };
    for d in [
        "0",
        "5s",
        "500ms",
        "1m 30s",
        "1.5h",
        "2days",
        "10 sec",
        "1h30m",
        "3w",
        "7us",
        "x",
        "5",
        "1.s",
        "-1s",
        "5 parsecs",
        "",
        "1y 2M",
    ] {
        let parsed = humantime::parse_duration(d).is_ok();
        assert_eq!(
            check("max_delay", d),
            parsed,
            "duration `{d}`: humantime says {parsed}"
        );
    }
    for b in [
        "0", "1024", "512KiB", "20MiB", "1GB", "4 MB", "8M", "12XB", "MiB", "-1", "1.5MiB", " 7 ",
    ] {
        let parsed = b.parse::<weir_core::ByteSize>().is_ok();
        assert_eq!(
            check("max_line_bytes", b),
            parsed,
            "size `{b}`: ByteSize says {parsed}"
        );
    }
}
