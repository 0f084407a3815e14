//! Self-telemetry compliance (issue 9, DESIGN.md §6): every built-in
//! component, run in a real pipeline on the real binary, emits the standard
//! series of its kind with `component`, `kind` and `signal` labels, and they
//! move; a registered component type without a case fails the suite, so a new
//! component cannot forget its telemetry. Also: docs/telemetry.md and
//! docs/dashboard.json name exactly the series that exist, and
//! `metrics.level: none` serves nothing while delivering (and counting
//! delivered) as usual.

mod otlp_support;
mod support;

#[path = "telemetry_compliance/cases.rs"]
mod cases;
#[path = "telemetry_compliance/docs.rs"]
mod docs;
#[path = "telemetry_compliance/harness.rs"]
mod harness;
#[path = "telemetry_compliance/metrics_off.rs"]
mod metrics_off;
#[path = "telemetry_compliance/scrape.rs"]
mod scrape;

use std::collections::BTreeSet;

use weir_core::telemetry::Kind;

use cases::CASES;

fn run(kind: Kind, type_name: &str) {
    let case = CASES
        .iter()
        .find(|c| c.kind == kind && c.type_name == type_name)
        .unwrap_or_else(|| panic!("no compliance case for {kind} `{type_name}`"));
    harness::check(case);
}

#[test]
fn every_registered_component_has_a_compliance_case() {
    let dist = weir::Distribution::builtin();
    let registry = dist.registry();
    let registered: BTreeSet<(String, &str)> = [Kind::Receiver, Kind::Processor, Kind::Exporter]
        .into_iter()
        .flat_map(|k| {
            registry
                .type_names(k)
                .into_iter()
                .map(move |t| (k.to_string(), t))
        })
        .collect();
    let cased: BTreeSet<(String, &str)> = CASES
        .iter()
        .map(|c| (c.kind.to_string(), c.type_name))
        .collect();
    let missing: Vec<_> = registered.difference(&cased).collect();
    assert!(
        missing.is_empty(),
        "components without a telemetry compliance case (add one to tests/telemetry_compliance/cases.rs and a test here): {missing:?}"
    );
    let stale: Vec<_> = cased.difference(&registered).collect();
    assert!(stale.is_empty(), "cases for unknown components: {stale:?}");
    let tested: BTreeSet<(String, &str)> =
        TESTED.iter().map(|(k, t)| (k.to_string(), *t)).collect();
    assert_eq!(tested, cased, "every case has its test below, once");
    assert_eq!(TESTED.len(), tested.len(), "a case tested twice");
}

/// One test per case (so they run in parallel and fail by name).
macro_rules! compliance {
    ($($test:ident => ($kind:expr, $type_name:literal)),* $(,)?) => {
        const TESTED: &[(Kind, &str)] = &[$(($kind, $type_name)),*];
        $(
            #[test]
            fn $test() {
                run($kind, $type_name);
            }
        )*
    };
}

compliance! {
    receiver_otlp => (Kind::Receiver, "otlp"),
    receiver_http => (Kind::Receiver, "http"),
    receiver_stdin => (Kind::Receiver, "stdin"),
    processor_enrich => (Kind::Processor, "enrich"),
    processor_sample => (Kind::Processor, "sample"),
    processor_rate_limit => (Kind::Processor, "rate_limit"),
    processor_adaptive_batch => (Kind::Processor, "adaptive_batch"),
    exporter_ledger => (Kind::Exporter, "ledger"),
    exporter_otlp => (Kind::Exporter, "otlp"),
    exporter_file => (Kind::Exporter, "file"),
    exporter_debug => (Kind::Exporter, "debug"),
    exporter_blackhole => (Kind::Exporter, "blackhole"),
}
