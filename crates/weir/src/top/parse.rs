//! The Prometheus text format (0.0.4), read back into samples: just what
//! `weir top` needs from weir's own `/metrics` (names, labels, values).

/// One sample line: `name{labels} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The series name (with `_bucket`/`_sum`/`_count` for histogram lines).
    pub name: String,
    /// Label pairs in the order written.
    pub labels: Vec<(String, String)>,
    /// The value (`+Inf`, `-Inf` and `NaN` included).
    pub value: f64,
}

impl Sample {
    /// The value of label `key`, if present.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Every sample in `text`; comments, blank and malformed lines are skipped
/// (a newer weir may add series or syntax this reader does not know).
pub fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(parse_line)
        .collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let name_end = line
        .find(|c: char| c == '{' || c.is_whitespace())
        .unwrap_or(line.len());
    let name = &line[..name_end];
    if name.is_empty() {
        return None;
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(body) = rest.strip_prefix('{') {
        let (parsed, after) = parse_labels(body)?;
        labels = parsed;
        rest = after;
    }
    // The value, then an optional timestamp.
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" | "Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// Parses `k="v",...}` and returns the pairs and the text after the `}`.
fn parse_labels(mut s: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut labels = Vec::new();
    loop {
        s = s.trim_start();
        if let Some(after) = s.strip_prefix('}') {
            return Some((labels, after));
        }
        let eq = s.find('=')?;
        let key = s[..eq].trim().to_string();
        s = s[eq + 1..].trim_start().strip_prefix('"')?;
        let mut value = String::new();
        let mut chars = s.char_indices();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    c => value.push(c),
                },
                (_, c) => value.push(c),
            }
        };
        labels.push((key, value));
        s = s[end + 1..].trim_start();
        s = s.strip_prefix(',').unwrap_or(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_labels_values_and_escapes() {
        let text = "# TYPE weir_exporter_sent_items_total counter\n\
            weir_exporter_sent_items_total{component=\"file/a\\\"b\",kind=\"exporter\",signal=\"logs\"} 42\n\
            \n\
            weir_process_uptime_seconds 12.5\n\
            weir_x_bucket{le=\"+Inf\"} 3 1700000000\n\
            weir_y{a=\"line\\nbreak\",b=\"back\\\\slash\",} +Inf\n\
            garbage{unterminated=\"x 1\n";
        let s = parse(text);
        assert_eq!(s.len(), 4, "{s:?}");
        assert_eq!(s[0].name, "weir_exporter_sent_items_total");
        assert_eq!(s[0].label("component"), Some("file/a\"b"));
        assert_eq!(s[0].label("signal"), Some("logs"));
        assert_eq!(s[0].value, 42.0);
        assert_eq!(s[1].name, "weir_process_uptime_seconds");
        assert!(s[1].labels.is_empty());
        assert_eq!(s[1].value, 12.5);
        assert_eq!(s[2].label("le"), Some("+Inf"));
        assert_eq!(s[2].value, 3.0);
        assert_eq!(s[3].label("a"), Some("line\nbreak"));
        assert_eq!(s[3].label("b"), Some("back\\slash"));
        assert!(s[3].value.is_infinite());
    }

    #[test]
    fn reads_what_the_runtime_renders() {
        use weir_core::Signal;
        use weir_core::telemetry::{ComponentTelemetry, Kind, MetricsRegistry, names};
        let reg = MetricsRegistry::new();
        let t = ComponentTelemetry::new(reg.clone(), "otlp/in", Kind::Receiver);
        t.counter(names::RECEIVER_ACCEPTED_ITEMS, Some(Signal::Traces), &[])
            .add(7);
        let text = weir_runtime::telemetry::prometheus::render(&reg.snapshot());
        let s = parse(&text);
        let accepted = s
            .iter()
            .find(|s| s.name == names::RECEIVER_ACCEPTED_ITEMS)
            .expect("the series");
        assert_eq!(accepted.label("component"), Some("otlp/in"));
        assert_eq!(accepted.label("kind"), Some("receiver"));
        assert_eq!(accepted.label("signal"), Some("traces"));
        assert_eq!(accepted.value, 7.0);
    }
}
