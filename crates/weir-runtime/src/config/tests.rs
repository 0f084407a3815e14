//! Loading whole files against a small registry of fake factories.

use std::net::SocketAddr;
use std::time::Duration;

use weir_core::{
    BuildContext, ByteSize, ComponentConfig, ConfigError, Exporter, ExporterFactory, Processor,
    ProcessorFactory, Receiver, ReceiverFactory, Registry, Signal,
};

use super::*;

mod errors;
mod expansion;

/// Declares a fake factory: only its name and signals matter to the loader.
macro_rules! fake {
    ($name:ident, $trait:ident, $out:ident, $type_name:literal, $signals:expr) => {
        struct $name;
        impl $trait for $name {
            fn type_name(&self) -> &'static str {
                $type_name
            }
            fn description(&self) -> &'static str {
                "a test double"
            }
            fn signals(&self) -> &'static [Signal] {
                $signals
            }
            fn build(
                &self,
                _: &ComponentConfig,
                _: &BuildContext,
            ) -> Result<Box<dyn $out>, ConfigError> {
                Err(ConfigError::new("test doubles are not built"))
            }
        }
    };
}

fake!(Stdin, ReceiverFactory, Receiver, "stdin", &[Signal::Logs]);
fake!(Otlp, ReceiverFactory, Receiver, "otlp", &Signal::ALL);
fake!(Batch, ProcessorFactory, Processor, "batch", &Signal::ALL);
fake!(FileExp, ExporterFactory, Exporter, "file", &Signal::ALL);
fake!(
    LogsOnly,
    ExporterFactory,
    Exporter,
    "logsonly",
    &[Signal::Logs]
);

fn registry() -> Registry {
    let mut r = Registry::new();
    r.add_receiver(Stdin)
        .add_receiver(Otlp)
        .add_processor(Batch)
        .add_exporter(FileExp)
        .add_exporter(LogsOnly);
    r
}

/// The environment every test sees.
fn test_env(name: &str) -> Option<String> {
    let v = match name {
        "PORT" => "4317",
        "HOST" => "collector.local",
        "ON" => "true",
        "TIMEOUT" => "45s",
        "METRICS" => "none",
        _ => return None,
    };
    Some(v.to_string())
}

fn load(text: &str) -> LoadReport {
    load_str("pipeline.yaml", text, &registry(), &test_env)
}

/// Asserts the report holds exactly these diagnostics, in this order:
/// (line, column, a piece of the message). Warnings are marked `warning:`.
#[track_caller]
fn assert_diags(report: &LoadReport, expected: &[(usize, usize, &str)]) {
    let got: Vec<String> = report.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(
        report.diagnostics.len(),
        expected.len(),
        "got:\n{}",
        got.join("\n")
    );
    for (d, (line, column, text)) in report.diagnostics.iter().zip(expected) {
        let shown = d.to_string();
        assert_eq!(
            d.location,
            Some(Location {
                line: *line,
                column: *column
            }),
            "{shown}"
        );
        assert!(shown.contains(text), "`{shown}` lacks `{text}`");
    }
}

/// A pipeline file with nothing wrong, for tests to break in one place.
const VALID: &str = "\
receivers:
  stdin:
  otlp/edge:
    protocols:
      grpc: { endpoint: 127.0.0.1:4317 }
processors:
  batch:
    max_size: 512
exporters:
  file:
    path: /tmp/out.json
  logsonly:
service:
  shutdown_timeout: 30s
  telemetry:
    metrics: { address: 127.0.0.1:9999 }
    logs: { level: debug, format: json }
  pipelines:
    logs:
      receivers: [stdin, otlp/edge]
      processors: [batch]
      exporters: [file, logsonly]
      channel_capacity: 2
      channel_max_bytes: 1MiB
    traces/edge:
      receivers: [otlp/edge]
      exporters: [file]
";

fn ids(list: &[ComponentId]) -> Vec<String> {
    list.iter().map(ToString::to_string).collect()
}

fn entry_ids(list: &[ComponentEntry]) -> Vec<String> {
    list.iter().map(|e| e.id.to_string()).collect()
}

#[test]
fn a_valid_file_loads_with_every_value() {
    let report = load(VALID);
    assert_diags(&report, &[]);
    let c = report.config.unwrap();
    assert_eq!(&*c.file, "pipeline.yaml");
    assert_eq!(entry_ids(&c.receivers), ["stdin", "otlp/edge"]);
    assert_eq!(entry_ids(&c.processors), ["batch"]);
    assert_eq!(entry_ids(&c.exporters), ["file", "logsonly"]);
    assert_eq!(c.receivers[1].path, "receivers.otlp/edge");
    assert_eq!(c.receivers[1].id.name(), Some("edge"));
    assert_eq!(c.processors[0].config.value()["max_size"], 512);
    assert_eq!(c.shutdown_timeout, Duration::from_secs(30));
    assert_eq!(
        c.telemetry.metrics_address,
        Some("127.0.0.1:9999".parse().unwrap())
    );
    assert_eq!(c.telemetry.log_level.as_deref(), Some("debug"));
    assert_eq!(c.telemetry.log_format, Some(LogFormat::Json));

    let [logs, traces] = &c.pipelines[..] else {
        panic!("two pipelines")
    };
    assert_eq!(
        logs.id,
        PipelineId {
            signal: Signal::Logs,
            name: None
        }
    );
    assert_eq!(ids(&logs.receivers), ["stdin", "otlp/edge"]);
    assert_eq!(ids(&logs.processors), ["batch"]);
    assert_eq!(ids(&logs.exporters), ["file", "logsonly"]);
    assert_eq!(
        logs.channel,
        ChannelConfig {
            capacity: 2,
            max_bytes: ByteSize::mib(1)
        }
    );
    assert_eq!(logs.path, "service.pipelines.logs");
    assert_eq!(traces.id.to_string(), "traces/edge");
    assert_eq!(traces.path, "service.pipelines.traces/edge");
    assert!(traces.processors.is_empty());
}

#[test]
fn a_minimal_file_gets_the_defaults() {
    let text = "receivers: {stdin: }\nexporters: {file: }\nservice:\n  pipelines:\n    logs: {receivers: [stdin], exporters: [file]}\n";
    let report = load(text);
    assert_diags(&report, &[]);
    let c = report.config.unwrap();
    assert!(c.processors.is_empty());
    assert_eq!(c.shutdown_timeout, Duration::from_secs(10));
    assert_eq!(c.telemetry, TelemetryConfig::default());
    assert_eq!(
        c.telemetry.metrics_address,
        Some(SocketAddr::from(([127, 0, 0, 1], 8888)))
    );
    assert_eq!(c.pipelines[0].channel, ChannelConfig::default());
    // A component written without a config gets an empty mapping: all defaults.
    assert!(
        c.receivers[0]
            .config
            .value()
            .as_mapping()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn metrics_can_be_turned_off_either_way() {
    for telemetry in ["metrics: none", "metrics: { address: none }"] {
        let text = VALID.replace("metrics: { address: 127.0.0.1:9999 }", telemetry);
        let report = load(&text);
        assert_diags(&report, &[]);
        assert_eq!(report.config.unwrap().telemetry.metrics_address, None);
    }
}

#[test]
fn own_telemetry_can_go_out_over_otlp_and_metrics_can_be_switched_off() {
    let text = VALID.replace(
        "    metrics: { address: 127.0.0.1:9999 }\n",
        "    metrics:\n      address: none\n      level: none\n      otlp: { endpoint: http://127.0.0.1:4317, interval: 2s }\n    traces:\n      otlp: { endpoint: http://127.0.0.1:4318, protocol: http/protobuf }\n",
    );
    let report = load(&text);
    assert_diags(&report, &[]);
    let t = report.config.unwrap().telemetry;
    assert_eq!(t.metrics_level, MetricsLevel::None);
    assert_eq!(
        t.metrics_otlp,
        Some(OtlpTelemetry {
            endpoint: "http://127.0.0.1:4317".into(),
            protocol: OtlpProtocol::Grpc,
            interval: Duration::from_secs(2),
        })
    );
    let traces = t.traces_otlp.unwrap();
    assert_eq!(traces.protocol, OtlpProtocol::HttpProtobuf);
    assert_eq!(traces.interval, Duration::from_secs(5));
}

#[test]
fn bad_own_telemetry_settings_are_located() {
    let text = VALID.replace(
        "    metrics: { address: 127.0.0.1:9999 }\n",
        "    metrics:\n      level: some\n      otlp: { endpoint: 127.0.0.1:4317, protocol: thrift }\n    traces:\n      otlp: { interval: 1s }\n",
    );
    let report = load(&text);
    assert_diags(
        &report,
        &[
            (17, 7, "expected `normal` or `none`"),
            (18, 15, "expected a URL such as http://127.0.0.1:4317"),
            (18, 41, "expected `grpc` or `http/protobuf`"),
            (20, 7, "`endpoint` is required"),
        ],
    );
}

#[test]
fn localhost_is_accepted_as_a_metrics_host() {
    let text = VALID.replace("127.0.0.1:9999", "localhost:9100");
    let c = load(&text).config.unwrap();
    assert_eq!(
        c.telemetry.metrics_address,
        Some(SocketAddr::from(([127, 0, 0, 1], 9100)))
    );
}

#[test]
fn diagnostic_locates_paths_inside_component_configs() {
    let c = load(VALID).config.unwrap();
    let d = c.diagnostic(
        Severity::Error,
        "receivers.otlp/edge.protocols.grpc.endpoint",
        "bad",
    );
    assert_eq!(
        d.location,
        Some(Location {
            line: 5,
            column: 15
        })
    );
    assert_eq!(
        d.to_string(),
        "pipeline.yaml:5:15: error: at `receivers.otlp/edge.protocols.grpc.endpoint`: bad"
    );
    // A field the file does not have is reported at its parent.
    let d = c.diagnostic(
        Severity::Error,
        "receivers.otlp/edge.protocols.http",
        "missing",
    );
    assert_eq!(d.location, Some(Location { line: 4, column: 5 }));
    assert_eq!(
        c.locate("service.pipelines.logs.exporters[1]"),
        Some(Location {
            line: 22,
            column: 25
        })
    );
}

#[test]
fn load_file_reads_the_file_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.yaml");
    std::fs::write(
        &path,
        VALID.replace("logs: { level: debug, format: json }", "bogus: 1"),
    )
    .unwrap();
    let report = load_file(&path, &registry());
    assert!(report.config.is_some());
    assert_eq!(report.diagnostics.len(), 1);
    assert_eq!(&*report.diagnostics[0].file, path.display().to_string());
    assert_eq!(
        report.diagnostics[0].location,
        Some(Location {
            line: 17,
            column: 5
        })
    );
}

#[test]
fn an_unreadable_file_is_one_error_without_location() {
    let report = load_file(Path::new("/nonexistent/weir.yaml"), &registry());
    assert!(report.config.is_none());
    assert_eq!(report.diagnostics.len(), 1);
    assert_eq!(report.diagnostics[0].location, None);
    assert!(report.diagnostics[0].message.contains("cannot read"));
    assert!(report.has_errors());
}

#[test]
fn merge_keys_share_settings_between_components() {
    let text = VALID
        .replace("  otlp/edge:\n", "  otlp/edge: &shared\n    timeout: 5s\n")
        .replace(
            "processors:\n",
            "  otlp/b:\n    <<: *shared\n    timeout: 9s\nprocessors:\n",
        )
        .replace("receivers: [otlp/edge]", "receivers: [otlp/edge, otlp/b]");
    let report = load(&text);
    assert_diags(&report, &[]);
    let c = report.config.unwrap();
    let b = c
        .receivers
        .iter()
        .find(|e| e.id.to_string() == "otlp/b")
        .unwrap();
    assert_eq!(b.config.value()["timeout"], "9s");
    assert_eq!(
        b.config.value()["protocols"]["grpc"]["endpoint"],
        "127.0.0.1:4317"
    );
    // A merged key has no place of its own: the mapping it went into stands in.
    assert_eq!(
        c.locate("receivers.otlp/b.protocols.grpc"),
        Some(Location { line: 7, column: 3 })
    );
}
