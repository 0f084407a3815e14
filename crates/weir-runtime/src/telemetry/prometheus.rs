//! Prometheus text exposition of the metrics registry.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Instant;

use weir_core::telemetry::{Metric, MetricsRegistry, Series};

/// The `/metrics` body: every series of `registry` and the process metrics
/// (`started` is when the process started); empty with `metrics.level: none`.
pub fn exposition(registry: &MetricsRegistry, started: Instant) -> String {
    if !registry.is_enabled() {
        return String::new();
    }
    let mut text = render(&registry.snapshot());
    super::process::render(&mut text, started);
    text
}

/// Renders `series` (plus process metrics) as Prometheus text format 0.0.4.
pub fn render(series: &[Series]) -> String {
    let mut by_name: BTreeMap<&str, Vec<&Series>> = BTreeMap::new();
    for s in series {
        by_name.entry(s.name).or_default().push(s);
    }
    let mut out = String::with_capacity(series.len() * 96);
    for (name, list) in by_name {
        let kind = match list[0].metric {
            Metric::Counter(_) => "counter",
            Metric::Gauge(_) => "gauge",
            Metric::Histogram(_) => "histogram",
        };
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for s in list {
            match &s.metric {
                Metric::Counter(c) => line(&mut out, name, "", &s.labels, None, c.get() as f64),
                Metric::Gauge(g) => line(&mut out, name, "", &s.labels, None, g.get() as f64),
                Metric::Histogram(h) => {
                    let snap = h.snapshot();
                    for (bound, count) in snap.bounds.iter().zip(&snap.cumulative) {
                        let le = format_value(*bound);
                        line(
                            &mut out,
                            name,
                            "_bucket",
                            &s.labels,
                            Some(&le),
                            *count as f64,
                        );
                    }
                    line(
                        &mut out,
                        name,
                        "_bucket",
                        &s.labels,
                        Some("+Inf"),
                        snap.count as f64,
                    );
                    line(&mut out, name, "_sum", &s.labels, None, snap.sum);
                    line(&mut out, name, "_count", &s.labels, None, snap.count as f64);
                }
            }
        }
    }
    out
}

fn line(
    out: &mut String,
    name: &str,
    suffix: &str,
    labels: &[(&'static str, String)],
    le: Option<&str>,
    value: f64,
) {
    out.push_str(name);
    out.push_str(suffix);
    if !labels.is_empty() || le.is_some() {
        out.push('{');
        let mut first = true;
        let all = labels
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .chain(le.map(|v| ("le", v)));
        for (k, v) in all {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(k);
            out.push_str("=\"");
            for c in v.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '"' => out.push_str("\\\""),
                    '\n' => out.push_str("\\n"),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        out.push('}');
    }
    out.push(' ');
    out.push_str(&format_value(value));
    out.push('\n');
}

fn format_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_core::Signal;
    use weir_core::telemetry::{ComponentTelemetry, Kind, MetricsRegistry, names};

    #[test]
    fn renders_counters_with_labels_and_histograms() {
        let reg = MetricsRegistry::new();
        let t = ComponentTelemetry::new(reg.clone(), "file/a\"b", Kind::Exporter);
        t.counter(names::EXPORTER_SENT_ITEMS, Some(Signal::Logs), &[])
            .add(42);
        t.histogram(names::EXPORTER_SEND_DURATION, None, &[], &[0.1, 1.0])
            .observe(0.5);
        let text = render(&reg.snapshot());
        assert!(text.contains("# TYPE weir_exporter_sent_items_total counter\n"));
        assert!(text.contains(
            "weir_exporter_sent_items_total{component=\"file/a\\\"b\",kind=\"exporter\",signal=\"logs\"} 42\n"
        ));
        assert!(text.contains("weir_exporter_send_duration_seconds_bucket{component=\"file/a\\\"b\",kind=\"exporter\",le=\"0.1\"} 0\n"));
        assert!(text.contains("le=\"1\"} 1\n"));
        assert!(text.contains("le=\"+Inf\"} 1\n"));
        assert!(text.contains("weir_exporter_send_duration_seconds_count{component=\"file/a\\\"b\",kind=\"exporter\"} 1\n"));
    }

    #[test]
    fn metrics_off_serve_nothing_not_even_process_metrics() {
        let on = MetricsRegistry::new();
        let text = exposition(&on, Instant::now());
        assert!(text.contains(names::PROCESS_UPTIME), "{text}");
        let off = MetricsRegistry::disabled();
        ComponentTelemetry::new(off.clone(), "x", Kind::Exporter)
            .counter(names::EXPORTER_SENT_ITEMS, Some(Signal::Logs), &[])
            .add(1);
        assert_eq!(exposition(&off, Instant::now()), "");
    }

    #[test]
    fn histogram_sums_keep_their_fraction() {
        let reg = MetricsRegistry::new();
        ComponentTelemetry::new(reg.clone(), "x", Kind::Exporter)
            .histogram(names::EXPORTER_END_TO_END_LATENCY, None, &[], &[1.0])
            .observe(0.25);
        let text = render(&reg.snapshot());
        assert!(text.contains("weir_exporter_end_to_end_latency_seconds_sum{component=\"x\",kind=\"exporter\"} 0.25\n"), "{text}");
    }
}
