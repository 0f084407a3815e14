//! The table as text lines, and the numbers in it.

use super::rows::{Row, Snapshot};

const HEADERS: [&str; 8] = [
    "COMPONENT",
    "KIND",
    "SIGNAL",
    "IN/S",
    "OUT/S",
    "DROPPED",
    "QUEUE",
    "ERRORS",
];
/// Columns aligned right (the numbers).
const RIGHT: [bool; 8] = [false, false, false, true, true, true, true, true];

/// A count, short: `812`, `9999`, `12.3k`, `4.56M`, `7.89G`.
pub fn count(v: f64) -> String {
    let v = v.max(0.0);
    if v < 10_000.0 {
        format!("{}", v.round() as u64)
    } else {
        si(v)
    }
}

/// A rate, short: `-` when unknown, `0.5`, `42`, `12.3k`.
pub fn rate(v: Option<f64>) -> String {
    match v {
        None => "-".to_string(),
        Some(v) if v > 0.0 && v < 10.0 => format!("{v:.1}"),
        Some(v) if v < 10_000.0 => format!("{}", v.max(0.0).round() as u64),
        Some(v) => si(v),
    }
}

fn si(v: f64) -> String {
    let (v, unit) = if v >= 1e9 {
        (v / 1e9, "G")
    } else if v >= 1e6 {
        (v / 1e6, "M")
    } else {
        (v / 1e3, "k")
    };
    if v >= 100.0 {
        format!("{v:.0}{unit}")
    } else if v >= 10.0 {
        format!("{v:.1}{unit}")
    } else {
        format!("{v:.2}{unit}")
    }
}

/// Bytes in binary units: `23.4 MiB`.
fn bytes(v: f64) -> String {
    let mut v = v.max(0.0);
    for unit in ["B", "KiB", "MiB", "GiB"] {
        if v < 1024.0 {
            return format!("{v:.1} {unit}");
        }
        v /= 1024.0;
    }
    format!("{v:.1} TiB")
}

/// Seconds as `45s`, `3m05s`, `2h04m`, `3d02h`.
fn uptime(s: f64) -> String {
    let s = s.max(0.0) as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86_400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// The first line: where from, and weir's uptime, memory and CPU.
pub fn header(source: &str, prev: Option<&Snapshot>, cur: &Snapshot) -> String {
    let mut h = format!("weir top  {source}");
    if let Some(u) = cur.uptime {
        h.push_str(&format!("  up {}", uptime(u)));
    }
    if let Some(r) = cur.rss {
        h.push_str(&format!("  rss {}", bytes(r)));
    }
    if let Some(c) = prev.and_then(|p| cur.cpu_percent(p)) {
        h.push_str(&format!("  cpu {c:.0}%"));
    }
    h
}

/// The table: a header line and one line per row, columns padded to fit.
pub fn table(rows: &[Row]) -> Vec<String> {
    if rows.is_empty() {
        return vec![
            "no component series on this endpoint (is service.telemetry.metrics.level none?)"
                .to_string(),
        ];
    }
    let cells: Vec<[String; 8]> = rows
        .iter()
        .map(|r| {
            [
                r.component.clone(),
                r.kind.to_string(),
                r.signal.clone(),
                rate(r.in_rate),
                rate(r.out_rate),
                count(r.dropped),
                r.queue.clone(),
                r.errors.map(count).unwrap_or_else(|| "-".to_string()),
            ]
        })
        .collect();
    let mut width = HEADERS.map(str::len);
    for row in &cells {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: [&str; 8]| {
        let mut out = String::new();
        for (i, c) in cols.iter().enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            let pad = width[i].saturating_sub(c.chars().count());
            if RIGHT[i] {
                out.extend(std::iter::repeat_n(' ', pad));
                out.push_str(c);
            } else {
                out.push_str(c);
                if i + 1 < cols.len() {
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
        out
    };
    let mut lines = vec![line(HEADERS)];
    for row in &cells {
        lines.push(line(row.each_ref().map(String::as_str)));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_stay_short() {
        assert_eq!(count(0.0), "0");
        assert_eq!(count(9999.0), "9999");
        assert_eq!(count(12_345.0), "12.3k");
        assert_eq!(count(4_560_000.0), "4.56M");
        assert_eq!(count(789_000_000_000.0), "789G");
        assert_eq!(rate(None), "-");
        assert_eq!(rate(Some(0.0)), "0");
        assert_eq!(rate(Some(0.5)), "0.5");
        assert_eq!(rate(Some(250.4)), "250");
        assert_eq!(rate(Some(123_456.0)), "123k");
        assert_eq!(bytes(24_000_000.0), "22.9 MiB");
        assert_eq!(uptime(65.0), "1m05s");
        assert_eq!(uptime(7500.0), "2h05m");
    }

    #[test]
    fn columns_line_up() {
        let rows = [
            Row {
                component: "otlp".into(),
                kind: "receiver",
                signal: "logs".into(),
                in_rate: Some(1500.0),
                out_rate: Some(1500.0),
                dropped: 0.0,
                queue: "-".into(),
                errors: None,
            },
            Row {
                component: "file/archive".into(),
                kind: "exporter",
                signal: "logs".into(),
                in_rate: Some(12.0),
                out_rate: Some(12.0),
                dropped: 3.0,
                queue: "5 (cap 64)".into(),
                errors: Some(1.0),
            },
        ];
        let lines = table(&rows);
        assert_eq!(
            lines,
            [
                "COMPONENT     KIND      SIGNAL  IN/S  OUT/S  DROPPED       QUEUE  ERRORS",
                "otlp          receiver  logs    1500   1500        0           -       -",
                "file/archive  exporter  logs      12     12        3  5 (cap 64)       1",
            ]
        );
    }
}
