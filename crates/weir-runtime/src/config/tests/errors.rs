//! Each kind of problem, at its exact line and column, and several at once.

use super::*;

#[test]
fn yaml_syntax_error_has_the_parser_location_and_no_config() {
    let report = load("receivers:\n  stdin: [1, 2\nexporters: {}\n");
    assert!(report.config.is_none());
    assert_eq!(report.diagnostics.len(), 1);
    let d = &report.diagnostics[0];
    assert_eq!(d.severity, Severity::Error);
    assert!(d.message.starts_with("invalid YAML: "), "{d}");
    assert_eq!(
        d.location,
        Some(Location {
            line: 3,
            column: 10
        }),
        "{d}"
    );
}

#[test]
fn tab_indentation_is_a_syntax_error_on_its_line() {
    let report = load("receivers:\n\tstdin:\n");
    assert!(report.config.is_none());
    let d = &report.diagnostics[0];
    assert!(d.message.contains("tabs"), "{d}");
    assert_eq!(d.location, Some(Location { line: 2, column: 2 }), "{d}");
}

#[test]
fn duplicate_keys_are_a_yaml_error() {
    let report = load("receivers:\n  stdin:\n  stdin:\n");
    assert!(report.config.is_none());
    let d = &report.diagnostics[0];
    assert_eq!(
        d.message,
        "invalid YAML: duplicate key `stdin` (first at line 2, column 3)"
    );
    assert_eq!(d.location, Some(Location { line: 3, column: 3 }), "{d}");
}

#[test]
fn unknown_top_level_key_lists_the_expected_ones() {
    let report = load(&format!("{VALID}recievers: {{}}\n"));
    assert_diags(
        &report,
        &[(
            28,
            1,
            "unknown key `recievers`: expected `receivers`, `processors`, `exporters` or `service`",
        )],
    );
    assert!(report.config.is_some());
}

#[test]
fn extensions_and_connectors_are_not_supported_yet() {
    let report = load(&format!(
        "extensions: {{}}\n{VALID}connectors:\n  x: {{}}\n"
    ));
    assert_diags(
        &report,
        &[
            (1, 1, "`extensions` are not supported yet"),
            (29, 1, "`connectors` are not supported yet"),
        ],
    );
}

#[test]
fn unknown_keys_in_service_telemetry_and_pipelines() {
    let text = VALID
        .replace(
            "  shutdown_timeout: 30s",
            "  shutdown_timeout: 30s\n  extensions: [x]",
        )
        .replace("    logs: { level", "    resource: {}\n    logs: { level")
        .replace(
            "      channel_capacity: 2",
            "      channel_capacity: 2\n      exporter: [file]",
        );
    assert_diags(
        &load(&text),
        &[
            (
                15,
                3,
                "`extensions` are not supported yet; expected `pipelines`, `telemetry`, `shutdown_timeout` or `memory_limit`",
            ),
            (
                18,
                5,
                "unknown key `resource`: expected `metrics`, `traces` or `logs`",
            ),
            (
                26,
                7,
                "unknown key `exporter`: expected `receivers`, `processors`, `exporters`, `channel_capacity` or `channel_max_bytes`",
            ),
        ],
    );
}

#[test]
fn wrong_types_say_what_was_expected() {
    let text = "\
receivers: [stdin]
exporters:
  file: just-a-path
service:
  shutdown_timeout: 10
  telemetry:
    metrics: { address: 'not an address' }
    logs: { level: 3, format: xml }
  pipelines:
    logs:
      receivers: stdin
      exporters: [file, {x: 1}]
      channel_capacity: 0
      channel_max_bytes: 12XB
";
    assert_diags(
        &load(text),
        &[
            (
                1,
                1,
                "at `receivers`: expected a mapping of component ids to configs, found a list",
            ),
            (
                3,
                3,
                "expected the config of `file` as a mapping (or nothing, for the defaults), found `just-a-path`",
            ),
            (5, 3, "expected a duration such as 10s or 500ms, found `10`"),
            (
                7,
                16,
                "expected an address host:port (such as 127.0.0.1:8888) or `none`, found `not an address`",
            ),
            (8, 13, "expected a log level such as `info`"),
            (8, 23, "expected `text` or `json`, found `xml`"),
            (
                11,
                7,
                "expected a list of component ids, such as [otlp, file/archive], found `stdin`",
            ),
            (
                12,
                25,
                "at `service.pipelines.logs.exporters[1]`: expected a component id, found a mapping",
            ),
            (
                13,
                7,
                "expected a whole number of batches, at least 1, found `0`",
            ),
            (14, 7, "invalid size unit `XB`"),
        ],
    );
}

#[test]
fn a_bad_component_id_is_an_error_at_the_key() {
    let text = VALID.replace("  logsonly:\n", "  logs only:\n");
    assert_diags(
        &load(&text),
        &[
            (12, 3, "invalid component id `logs only`"),
            (
                22,
                25,
                "exporter `logsonly` is not declared under `exporters`",
            ),
        ],
    );
}

#[test]
fn unknown_component_type_lists_the_known_types_and_is_left_out() {
    let text = VALID
        .replace("  logsonly:\n", "  kafka/x:\n")
        .replace("[file, logsonly]", "[file, kafka/x]");
    let report = load(&text);
    // Only the one error: the pipeline's reference to it is not reported again.
    assert_diags(
        &report,
        &[(
            12,
            3,
            "unknown exporter type `kafka`; expected one of the known exporter types: `file` or `logsonly`",
        )],
    );
    let c = report.config.unwrap();
    assert_eq!(entry_ids(&c.exporters), ["file"]);
    assert_eq!(ids(&c.pipelines[0].exporters), ["file"]);
}

#[test]
fn unknown_signal_in_a_pipeline_id() {
    let text = VALID.replace("    traces/edge:", "    spans/edge:");
    let report = load(&text);
    assert_diags(
        &report,
        &[(
            25,
            5,
            "unknown signal `spans` in pipeline id `spans/edge`: expected `logs`, `traces` or `metrics`",
        )],
    );
    // Its components still count as used: no unused warning for them.
    assert_eq!(report.config.unwrap().pipelines.len(), 1);
}

#[test]
fn an_undeclared_component_is_reported_at_the_list_item() {
    let text = VALID.replace(
        "receivers: [otlp/edge]",
        "receivers: [otlp/edge, otlp/core, file]",
    );
    assert_diags(
        &load(&text),
        &[
            (
                26,
                30,
                "receiver `otlp/core` is not declared under `receivers`",
            ),
            (
                26,
                41,
                "receiver `file` is not declared under `receivers` (it is declared under `exporters`)",
            ),
        ],
    );
}

#[test]
fn a_component_in_a_pipeline_of_a_signal_it_does_not_support() {
    let text = VALID.replace(
        "receivers: [otlp/edge]\n      exporters: [file]",
        "receivers: [stdin]\n      exporters: [file, logsonly]",
    );
    let report = load(&text);
    assert_diags(
        &report,
        &[
            (
                26,
                19,
                "receiver `stdin` does not support traces; it supports logs",
            ),
            (
                27,
                25,
                "exporter `logsonly` does not support traces; it supports logs",
            ),
        ],
    );
    // Left out of the pipeline, so what remains is consistent.
    let c = report.config.unwrap();
    assert!(c.pipelines[1].receivers.is_empty());
    assert_eq!(ids(&c.pipelines[1].exporters), ["file"]);
}

#[test]
fn pipelines_without_receivers_or_exporters() {
    let text = VALID.replace(
        "      receivers: [otlp/edge]\n      exporters: [file]\n",
        "      receivers: []\n    metrics:\n",
    );
    assert_diags(
        &load(&text),
        &[
            (
                25,
                5,
                "pipeline `traces/edge` has no exporters; list at least one under `exporters`",
            ),
            (26, 7, "pipeline `traces/edge` has no receivers"),
            (27, 5, "pipeline `metrics` has no receivers"),
            (27, 5, "pipeline `metrics` has no exporters"),
        ],
    );
}

#[test]
fn the_same_id_twice_in_one_list() {
    let text = VALID
        .replace(
            "receivers: [stdin, otlp/edge]",
            "receivers: [stdin, otlp/edge, stdin]",
        )
        .replace("processors: [batch]", "processors: [batch, batch]");
    let report = load(&text);
    assert_diags(
        &report,
        &[
            (
                20,
                37,
                "receiver `stdin` is listed twice in the receivers of pipeline `logs`",
            ),
            (
                21,
                27,
                "processor `batch` is listed twice in pipeline `logs`; to run it twice, declare a second one such as `batch/2`",
            ),
        ],
    );
    let c = report.config.unwrap();
    assert_eq!(ids(&c.pipelines[0].receivers), ["stdin", "otlp/edge"]);
    assert_eq!(ids(&c.pipelines[0].processors), ["batch"]);
}

#[test]
fn unused_components_are_warnings() {
    let text = VALID
        .replace("      processors: [batch]\n", "")
        .replace("  logsonly:\n", "  logsonly:\n  file/spare:\n");
    let report = load(&text);
    assert_diags(
        &report,
        &[
            (
                7,
                3,
                "warning: at `processors.batch`: processor `batch` is declared but used in no pipeline",
            ),
            (
                13,
                3,
                "exporter `file/spare` is declared but used in no pipeline",
            ),
        ],
    );
    assert!(
        report
            .diagnostics
            .iter()
            .all(|d| d.severity == Severity::Warning)
    );
    assert!(!report.has_errors());
    // Still in the config: the lead builds them to check their configs.
    assert_eq!(report.config.unwrap().exporters.len(), 3);
}

#[test]
fn no_pipelines_is_an_error() {
    for text in ["receivers: {stdin: }\n", "service:\n  pipelines: {}\n", ""] {
        let report = load(text);
        let d = report
            .diagnostics
            .iter()
            .find(|d| d.severity == Severity::Error)
            .unwrap();
        assert!(d.message.starts_with("no pipelines"), "{d}");
        assert!(report.config.is_some());
    }
    let report = load("receivers: {stdin: }\nservice:\n  pipelines:\n");
    assert_diags(
        &report,
        &[
            (1, 13, "receiver `stdin` is declared but used"),
            (3, 3, "no pipelines"),
        ],
    );
}

#[test]
fn a_document_that_is_not_a_mapping_is_one_error() {
    assert_diags(
        &load("- receivers\n"),
        &[(
            1,
            1,
            "expected a mapping with `receivers`, `processors`, `exporters` and `service`, found a list",
        )],
    );
}

#[test]
fn every_problem_is_reported_in_file_order() {
    let text = "\
receivers:
  stdin:
  kafka:
exporters:
  file:
  debug:
service:
  shutdown_timeout: soon
  pipelines:
    logs:
      receivers: [stdin, kafka, nope]
      exporters: [file]
      bogus: true
    traces:
      receivers: [stdin]
      exporters: [file]
    events:
      receivers: [stdin]
";
    let report = load(text);
    assert_diags(
        &report,
        &[
            (3, 3, "unknown receiver type `kafka`"),
            (6, 3, "unknown exporter type `debug`"),
            (
                8,
                3,
                "expected a duration such as 10s or 500ms, found `soon`",
            ),
            (11, 33, "receiver `nope` is not declared"),
            (13, 7, "unknown key `bogus`"),
            (
                15,
                19,
                "receiver `stdin` does not support traces; it supports logs",
            ),
            (17, 5, "unknown signal `events`"),
            (17, 5, "pipeline `events` has no exporters"),
        ],
    );
    let c = report.config.unwrap();
    assert_eq!(entry_ids(&c.receivers), ["stdin"]);
    assert_eq!(c.pipelines.len(), 2);
    assert_eq!(c.shutdown_timeout, Duration::from_secs(10));
}

#[test]
fn a_bad_memory_limit_names_its_line_and_what_was_expected() {
    let with = |limit: &str| {
        load(&VALID.replace(
            "  shutdown_timeout: 30s",
            &format!("  shutdown_timeout: 30s\n  memory_limit: {limit}"),
        ))
    };
    for (limit, expected) in [
        ("lots", "invalid size"),
        ("512XB", "invalid size unit `XB`"),
        ("0", "at least 1 byte"),
        ("512", "at least 16MiB, such as 512MiB"),
        ("[1]", "found a list"),
    ] {
        let report = with(limit);
        assert_diags(&report, &[(15, 3, expected)]);
        let shown = report.diagnostics[0].to_string();
        assert!(
            shown.starts_with("pipeline.yaml:15:3: error: at `service.memory_limit`"),
            "{shown}"
        );
        assert_eq!(report.config.unwrap().memory_limit, None, "{limit}");
    }
    let report = with("512MiB");
    assert_diags(&report, &[]);
    assert_eq!(
        report.config.unwrap().memory_limit,
        Some(weir_core::ByteSize::mib(512))
    );
    assert_eq!(
        load(VALID).config.unwrap().memory_limit,
        None,
        "no limit by default"
    );
}
