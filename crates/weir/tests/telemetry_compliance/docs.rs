//! docs/telemetry.md and docs/dashboard.json against
//! `weir_core::telemetry::names`: the page lists every series and only those,
//! the dashboard queries only series that exist and is a Grafana dashboard of
//! the expected shape.

use std::collections::BTreeSet;

use serde_json::Value;
use weir_core::telemetry::names;

use crate::support::workspace;

fn read(path: &str) -> String {
    std::fs::read_to_string(workspace().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every `weir_...` word in `text` (letters, digits, `_`).
fn weir_words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("weir_") {
        let before = rest[..i].chars().next_back();
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.push(&tail[..end]);
        }
        rest = &tail[end..];
    }
    out
}

/// The series a name used in a query belongs to: itself, or the histogram
/// whose `_bucket`, `_sum` or `_count` it is.
fn series_of(word: &str) -> &str {
    if names::ALL.contains(&word) {
        return word;
    }
    ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|s| word.strip_suffix(s).filter(|b| names::ALL.contains(b)))
        .unwrap_or(word)
}

#[test]
fn telemetry_md_lists_every_series_and_only_those() {
    let page = read("docs/telemetry.md");
    // The first cell of each table row: `| `weir_...` | type | labels | meaning |`.
    let listed: Vec<&str> = page
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once("` |"))
        .map(|(name, _)| name)
        .filter(|n| n.starts_with("weir_"))
        .collect();
    let set: BTreeSet<&str> = listed.iter().copied().collect();
    assert_eq!(set.len(), listed.len(), "a series listed twice");
    let known: BTreeSet<&str> = names::ALL.iter().copied().collect();
    let undocumented: Vec<_> = known.difference(&set).collect();
    assert!(
        undocumented.is_empty(),
        "in weir_core::telemetry::names but not in a table of docs/telemetry.md: {undocumented:?}"
    );
    let unknown: Vec<_> = set.difference(&known).collect();
    assert!(
        unknown.is_empty(),
        "in docs/telemetry.md but not in weir_core::telemetry::names: {unknown:?}"
    );
    // Series named in the prose too (not only the tables) must exist.
    let prefixes = [
        "weir_receiver_",
        "weir_processor_",
        "weir_exporter_",
        "weir_channel_",
        "weir_process_",
    ];
    for word in weir_words(&page) {
        if prefixes.iter().any(|p| word.starts_with(p)) {
            assert!(
                known.contains(series_of(word)),
                "docs/telemetry.md mentions {word}, which is not a series"
            );
        }
    }
}

/// Every PromQL expression of the dashboard, panels in rows included.
fn expressions(panels: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for p in panels {
        for t in p["targets"].as_array().into_iter().flatten() {
            if let Some(e) = t["expr"].as_str() {
                out.push(e.to_string());
            }
        }
        out.extend(expressions(p["panels"].as_array().map_or(&[], |v| v)));
    }
    out
}

#[test]
fn the_dashboard_queries_only_series_that_exist() {
    let text = read("docs/dashboard.json");
    let dash: Value = serde_json::from_str(&text).expect("docs/dashboard.json is JSON");
    let schema = dash["schemaVersion"].as_u64().expect("schemaVersion");
    assert!((36..=41).contains(&schema), "schemaVersion {schema}");
    let vars = dash["templating"]["list"].as_array().expect("templating");
    let var = |name: &str| {
        vars.iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no `{name}` variable"))
    };
    assert_eq!(var("datasource")["type"], "datasource");
    assert_eq!(var("datasource")["query"], "prometheus");
    assert_eq!(var("component")["type"], "query");
    assert_eq!(var("component")["datasource"]["uid"], "${datasource}");

    let panels = dash["panels"].as_array().expect("panels");
    for p in panels.iter().filter(|p| p["type"] != "row") {
        assert_eq!(
            p["datasource"]["uid"], "${datasource}",
            "panel {} queries the chosen data source",
            p["title"]
        );
    }
    let exprs = expressions(panels);
    assert!(exprs.len() >= 15, "{} queries", exprs.len());
    let mut used = BTreeSet::new();
    for e in &exprs {
        assert_eq!(e.matches('(').count(), e.matches(')').count(), "{e}");
        assert_eq!(e.matches('{').count(), e.matches('}').count(), "{e}");
        let words = weir_words(e);
        assert!(!words.is_empty(), "a query of no weir series: {e}");
        for word in words {
            let series = series_of(word);
            assert!(
                names::ALL.contains(&series),
                "the dashboard queries {word}, which weir does not serve: {e}"
            );
            if word.ends_with("_bucket") {
                assert!(
                    e.starts_with("histogram_quantile(") && e.contains(" le)"),
                    "a _bucket series outside histogram_quantile(.., sum by (.., le) ..): {e}"
                );
            }
            used.insert(series);
        }
        if e.contains("component=") {
            assert!(e.contains("component=~\"$component\""), "{e}");
        }
    }
    // What the dashboard is for (issue 9).
    for needed in [
        names::RECEIVER_ACCEPTED_ITEMS,
        names::EXPORTER_SENT_ITEMS,
        names::RECEIVER_REFUSED_ITEMS,
        names::PROCESSOR_DROPPED_ITEMS,
        names::EXPORTER_FAILED_ITEMS,
        names::EXPORTER_QUEUE_ITEMS,
        names::EXPORTER_SPOOL_BYTES,
        names::EXPORTER_SEND_DURATION,
        names::EXPORTER_END_TO_END_LATENCY,
        names::EXPORTER_CONCURRENCY_LIMIT,
        names::PROCESS_CPU_SECONDS,
        names::PROCESS_RESIDENT_MEMORY,
    ] {
        assert!(
            used.contains(needed),
            "the dashboard has no panel for {needed}"
        );
    }
}

#[test]
fn weir_words_finds_names_in_queries() {
    assert_eq!(
        weir_words("rate(weir_a_total{x=\"1\"}[5m]) / my_weir_b + weir_c_bucket"),
        ["weir_a_total", "weir_c_bucket"]
    );
}
