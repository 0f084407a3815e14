//! `${env:...}` expansion through the whole loader.

use super::*;

/// VALID with the otlp receiver's config replaced by `body` (indented under it).
fn with_otlp(body: &str) -> String {
    VALID.replace(
        "    protocols:\n      grpc: { endpoint: 127.0.0.1:4317 }\n",
        body,
    )
}

fn otlp_config(report: &LoadReport) -> yaml_serde::Value {
    let c = report.config.as_ref().unwrap();
    let e = c
        .receivers
        .iter()
        .find(|e| e.id.to_string() == "otlp/edge")
        .expect("otlp/edge kept");
    e.config.value().clone()
}

#[test]
fn a_lone_reference_becomes_a_typed_scalar() {
    let report = load(&with_otlp(
        "    port: ${env:PORT}\n    enabled: ${env:ON}\n    host: ${env:HOST}\n",
    ));
    assert_diags(&report, &[]);
    let v = otlp_config(&report);
    assert_eq!(v["port"], yaml_serde::Value::Number(4317.into()));
    assert_eq!(v["enabled"], yaml_serde::Value::Bool(true));
    assert_eq!(v["host"], "collector.local");
}

#[test]
fn a_quoted_reference_stays_a_string() {
    let report = load(&with_otlp("    port: \"${env:PORT}\"\n"));
    assert_eq!(otlp_config(&report)["port"], "4317");
}

#[test]
fn references_expand_inside_longer_strings_and_lists() {
    // In a flow list `{` is syntax, so a reference there must be quoted (as YAML
    // requires for the Collector too); quoting only stops the typed re-read.
    let report = load(&with_otlp(
        "    endpoint: http://${env:HOST}:${env:PORT}/v1\n    tags: [\"a-${env:ON}\"]\n",
    ));
    assert_diags(&report, &[]);
    let v = otlp_config(&report);
    assert_eq!(v["endpoint"], "http://collector.local:4317/v1");
    assert_eq!(v["tags"][0], "a-true");
}

#[test]
fn defaults_apply_when_the_variable_is_unset() {
    let report = load(&with_otlp(
        "    port: ${env:NO_SUCH_PORT:-4318}\n    path: ${env:NO_SUCH_PATH:-/v1/logs}\n",
    ));
    assert_diags(&report, &[]);
    let v = otlp_config(&report);
    assert_eq!(v["port"], yaml_serde::Value::Number(4318.into()));
    assert_eq!(v["path"], "/v1/logs");
}

#[test]
fn double_dollar_is_a_literal_reference() {
    let report = load(&with_otlp("    template: $${env:HOST} costs $$5\n"));
    assert_eq!(otlp_config(&report)["template"], "${env:HOST} costs $$5");
}

#[test]
fn expansion_reaches_the_service_section_with_types() {
    let text = VALID
        .replace("shutdown_timeout: 30s", "shutdown_timeout: ${env:TIMEOUT}")
        .replace(
            "metrics: { address: 127.0.0.1:9999 }",
            "metrics: { address: \"${env:METRICS}\" }",
        )
        .replace("channel_capacity: 2", "channel_capacity: ${env:CAP:-16}")
        .replace(
            "receivers: [otlp/edge]",
            "receivers: [\"otlp/${env:EDGE:-edge}\"]",
        );
    let report = load(&text);
    assert_diags(&report, &[]);
    let c = report.config.unwrap();
    assert_eq!(c.shutdown_timeout, Duration::from_secs(45));
    assert_eq!(c.telemetry.metrics_address, None);
    assert_eq!(c.pipelines[0].channel.capacity, 16);
    assert_eq!(ids(&c.pipelines[1].receivers), ["otlp/edge"]);
}

#[test]
fn a_missing_variable_is_an_error_at_its_node_naming_it() {
    let report = load(&with_otlp(
        "    protocols:\n      grpc:\n        endpoint: ${env:GRPC_ENDPOINT}\n",
    ));
    assert_diags(
        &report,
        &[(
            6,
            9,
            "at `receivers.otlp/edge.protocols.grpc.endpoint`: environment variable `GRPC_ENDPOINT` is not set",
        )],
    );
    // The component is left out (its factory would only add a second error), and
    // the pipelines naming it do not report it as undeclared.
    let c = report.config.unwrap();
    assert_eq!(entry_ids(&c.receivers), ["stdin"]);
    assert_eq!(ids(&c.pipelines[0].receivers), ["stdin"]);
    assert!(c.pipelines[1].receivers.is_empty());
}

#[test]
fn unsupported_reference_forms_name_the_supported_ones() {
    let report = load(&with_otlp(
        "    a: ${file:/etc/x}\n    b: ${HOST}\n    c: x-${env:HOST\n",
    ));
    assert_diags(
        &report,
        &[
            (
                4,
                5,
                "unsupported reference `${file:/etc/x}`: expected `${env:VAR}` or `${env:VAR:-default}`",
            ),
            (5, 5, "unsupported reference `${HOST}`"),
            (6, 5, "unterminated `${`"),
        ],
    );
}

#[test]
fn a_missing_variable_outside_components_uses_the_default_value() {
    let text = VALID.replace("shutdown_timeout: 30s", "shutdown_timeout: ${env:NOPE}");
    let report = load(&text);
    assert_diags(
        &report,
        &[(14, 3, "environment variable `NOPE` is not set")],
    );
    assert_eq!(
        report.config.unwrap().shutdown_timeout,
        Duration::from_secs(10)
    );
}

#[test]
fn a_missing_variable_in_a_pipeline_list_is_one_error() {
    let text = VALID.replace("receivers: [otlp/edge]", "receivers: [\"${env:RECV}\"]");
    let report = load(&text);
    // No "has no receivers" on top: the list has an item, it just failed.
    assert_diags(
        &report,
        &[(26, 19, "environment variable `RECV` is not set")],
    );
}

#[test]
fn keys_are_not_expanded() {
    let report = load(&with_otlp("    ${env:HOST}: 1\n"));
    assert_eq!(otlp_config(&report)["${env:HOST}"], 1);
}
