//! From samples to the rows of `weir top`: per component, kind and signal,
//! totals at one scrape, and rates between two.
//!
//! What each column counts (docs/telemetry.md says the same):
//! - in: receiver: items accepted + refused (what clients offered);
//!   processor: items received; exporter: items sent + failed (what it finished).
//! - out: receiver: items accepted; processor: items sent; exporter: items sent.
//! - dropped: since start, receiver refused + processor dropped + exporter failed.
//! - queue: exporter: items in its queue, with its capacity in batches (or,
//!   for a disk queue, the batches in its spool); processor: items on its
//!   input edge.
//! - errors: since start, export attempts that failed and were retried.

use std::collections::BTreeMap;
use std::time::Instant;

use weir_core::telemetry::{names, reasons};

use super::parse::Sample;

/// Kinds in display order.
const KINDS: [&str; 3] = ["receiver", "processor", "exporter"];
/// Signals in display order.
const SIGNALS: [&str; 3] = ["logs", "traces", "metrics"];

/// Identifies one group of series: kind (as its display rank), component,
/// signal rank (3 = the component's series without a signal).
type Key = (usize, String, usize);

/// Totals of one group at one scrape.
#[derive(Debug, Clone, Default, PartialEq)]
struct Totals {
    inp: f64,
    out: f64,
    dropped: f64,
    /// Retried attempts, when the group has such a series.
    errors: Option<f64>,
    queue: Option<f64>,
    capacity: Option<f64>,
    spooled: Option<f64>,
}

impl Totals {
    fn busy(&self) -> bool {
        let nonzero = |v: Option<f64>| v.is_some_and(|v| v != 0.0);
        self.inp != 0.0
            || self.out != 0.0
            || self.dropped != 0.0
            || nonzero(self.errors)
            || nonzero(self.queue)
            || nonzero(self.spooled)
    }
}

/// Everything `weir top` reads from one scrape.
#[derive(Debug, Clone)]
pub struct Snapshot {
    at: Instant,
    groups: BTreeMap<Key, Totals>,
    /// weir's uptime, resident memory and CPU seconds, when served.
    pub uptime: Option<f64>,
    /// Resident memory in bytes.
    pub rss: Option<f64>,
    cpu: Option<f64>,
}

impl Snapshot {
    /// Groups `samples` scraped at `at`.
    pub fn new(samples: &[Sample], at: Instant) -> Self {
        let mut snap = Snapshot {
            at,
            groups: BTreeMap::new(),
            uptime: None,
            rss: None,
            cpu: None,
        };
        for s in samples {
            match s.name.as_str() {
                names::PROCESS_UPTIME => snap.uptime = Some(s.value),
                names::PROCESS_RESIDENT_MEMORY => snap.rss = Some(s.value),
                names::PROCESS_CPU_SECONDS => snap.cpu = Some(s.value),
                _ => snap.add(s),
            }
        }
        snap
    }

    fn add(&mut self, s: &Sample) {
        let (Some(component), Some(kind)) = (s.label("component"), s.label("kind")) else {
            return;
        };
        let Some(kind) = KINDS.iter().position(|k| *k == kind) else {
            return;
        };
        let signal = s
            .label("signal")
            .and_then(|sig| SIGNALS.iter().position(|x| *x == sig))
            .unwrap_or(SIGNALS.len());
        let key = (kind, component.to_string(), signal);
        let v = s.value;
        let reason = s.label("reason").unwrap_or("");
        // Refusals after acceptance (acknowledgements) are in `accepted` already.
        let refused_after_accept = matches!(reason, reasons::NOT_DELIVERED | reasons::ACK_TIMEOUT);
        let g = self.groups.entry(key).or_default();
        match s.name.as_str() {
            names::RECEIVER_ACCEPTED_ITEMS => {
                g.inp += v;
                g.out += v;
            }
            names::RECEIVER_REFUSED_ITEMS => {
                if !refused_after_accept {
                    g.inp += v;
                }
                g.dropped += v;
            }
            names::PROCESSOR_RECEIVED_ITEMS => g.inp += v,
            names::PROCESSOR_SENT_ITEMS => g.out += v,
            names::PROCESSOR_DROPPED_ITEMS => g.dropped += v,
            names::EXPORTER_SENT_ITEMS => {
                g.inp += v;
                g.out += v;
            }
            names::EXPORTER_FAILED_ITEMS => {
                g.inp += v;
                g.dropped += v;
            }
            names::EXPORTER_RETRIES => *g.errors.get_or_insert(0.0) += v,
            names::EXPORTER_QUEUE_ITEMS | names::CHANNEL_ITEMS => *g.queue.get_or_insert(0.0) += v,
            names::EXPORTER_QUEUE_CAPACITY => *g.capacity.get_or_insert(0.0) += v,
            names::EXPORTER_SPOOL_BATCHES => *g.spooled.get_or_insert(0.0) += v,
            _ => {}
        }
    }

    /// CPU use between `prev` and this scrape, in percent of one core.
    pub fn cpu_percent(&self, prev: &Snapshot) -> Option<f64> {
        let dt = self.at.duration_since(prev.at).as_secs_f64();
        let used = self.cpu? - prev.cpu?;
        (dt > 0.0).then(|| (used.max(0.0) / dt) * 100.0)
    }
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The component id.
    pub component: String,
    /// `receiver`, `processor` or `exporter`.
    pub kind: &'static str,
    /// The signal, or `-` for a component with no traffic yet (several
    /// signals joined by `,` when it serves several).
    pub signal: String,
    /// Items per second in, when there was an earlier scrape.
    pub in_rate: Option<f64>,
    /// Items per second out.
    pub out_rate: Option<f64>,
    /// Items dropped since start.
    pub dropped: f64,
    /// Queue fill, as shown.
    pub queue: String,
    /// Retried attempts since start, where the component retries.
    pub errors: Option<f64>,
}

/// The table for `cur`, with rates against `prev` when given. A component
/// shows one row per signal it has seen traffic on; an idle one shows one row.
/// Series without a signal (an exporter's queue) go on its first row.
pub fn table(prev: Option<&Snapshot>, cur: &Snapshot) -> Vec<Row> {
    let dt = prev.map(|p| cur.at.duration_since(p.at).as_secs_f64());
    let rate = |key: &Key, now: f64, pick: fn(&Totals) -> f64| -> Option<f64> {
        let (p, dt) = (prev?, dt?);
        let before = p.groups.get(key).map(pick).unwrap_or(0.0);
        // A restarted weir counts from 0 again: no negative rates.
        (dt > 0.0).then(|| (now - before).max(0.0) / dt)
    };
    let mut rows = Vec::new();
    let mut components: Vec<(usize, &str)> = cur
        .groups
        .keys()
        .map(|(k, c, _)| (*k, c.as_str()))
        .collect();
    components.dedup();
    for (kind, component) in components {
        let groups: Vec<(&Key, &Totals)> = cur
            .groups
            .range((kind, component.to_string(), 0)..=(kind, component.to_string(), SIGNALS.len()))
            .collect();
        let wide = groups
            .iter()
            .find(|(k, _)| k.2 == SIGNALS.len())
            .map(|(_, t)| *t);
        let signals: Vec<&(&Key, &Totals)> =
            groups.iter().filter(|(k, _)| k.2 < SIGNALS.len()).collect();
        let busy: Vec<&&(&Key, &Totals)> = signals.iter().filter(|(_, t)| t.busy()).collect();
        let start = rows.len();
        if busy.is_empty() {
            let names: Vec<&str> = signals.iter().map(|(k, _)| SIGNALS[k.2]).collect();
            let mut totals = Totals::default();
            for (_, t) in &signals {
                totals.dropped += t.dropped;
                if let Some(e) = t.errors {
                    *totals.errors.get_or_insert(0.0) += e;
                }
            }
            rows.push(Row {
                component: component.to_string(),
                kind: KINDS[kind],
                signal: if names.is_empty() || names.len() == SIGNALS.len() {
                    "-".to_string()
                } else {
                    names.join(",")
                },
                in_rate: prev.map(|_| 0.0),
                out_rate: prev.map(|_| 0.0),
                dropped: totals.dropped,
                queue: queue(&totals, KINDS[kind]),
                errors: totals.errors,
            });
        } else {
            for (key, t) in busy {
                rows.push(Row {
                    component: component.to_string(),
                    kind: KINDS[kind],
                    signal: SIGNALS[key.2].to_string(),
                    in_rate: rate(key, t.inp, |t| t.inp),
                    out_rate: rate(key, t.out, |t| t.out),
                    dropped: t.dropped,
                    queue: queue(t, KINDS[kind]),
                    errors: t.errors,
                });
            }
        }
        if let Some(w) = wide {
            let first = &mut rows[start];
            first.queue = queue(w, KINDS[kind]);
            first.dropped += w.dropped;
            if let Some(e) = w.errors {
                *first.errors.get_or_insert(0.0) += e;
            }
        }
    }
    rows
}

/// The queue cell: `812 (cap 64 batches)`, `812 (spool 37 batches)`, `812`,
/// or `-` (items waiting; an exporter's queue capacity is in batches).
fn queue(t: &Totals, kind: &str) -> String {
    let Some(items) = t.queue else {
        return "-".to_string();
    };
    let items = super::render::count(items);
    match (t.spooled, t.capacity) {
        (Some(b), _) => format!("{items} (spool {} batches)", super::render::count(b)),
        (None, Some(c)) if kind == "exporter" => {
            format!("{items} (cap {} batches)", super::render::count(c))
        }
        _ => items,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::parse::parse;
    use super::*;

    const FIRST: &str = r#"
weir_receiver_accepted_items_total{component="otlp",kind="receiver",signal="logs"} 100
weir_receiver_accepted_items_total{component="otlp",kind="receiver",signal="traces"} 0
weir_receiver_refused_items_total{component="otlp",kind="receiver",signal="logs",reason="backpressure"} 0
weir_processor_received_items_total{component="sample",kind="processor",signal="logs"} 100
weir_processor_sent_items_total{component="sample",kind="processor",signal="logs"} 50
weir_channel_items{component="sample",kind="processor",signal="logs",pipeline="logs"} 3
weir_exporter_sent_items_total{component="file",kind="exporter",signal="logs"} 40
weir_exporter_sent_items_total{component="file",kind="exporter",signal="traces"} 0
weir_exporter_sent_items_total{component="file",kind="exporter",signal="metrics"} 0
weir_exporter_queue_items{component="file",kind="exporter"} 10
weir_exporter_queue_capacity{component="file",kind="exporter"} 64
weir_exporter_sent_items_total{component="idle",kind="exporter",signal="logs"} 0
weir_exporter_sent_items_total{component="idle",kind="exporter",signal="traces"} 0
weir_exporter_sent_items_total{component="idle",kind="exporter",signal="metrics"} 0
weir_exporter_retries_total{component="idle",kind="exporter",signal="logs"} 0
weir_process_uptime_seconds 5
weir_process_cpu_seconds_total 1
"#;

    const SECOND: &str = r#"
weir_receiver_accepted_items_total{component="otlp",kind="receiver",signal="logs"} 300
weir_receiver_accepted_items_total{component="otlp",kind="receiver",signal="traces"} 0
weir_receiver_refused_items_total{component="otlp",kind="receiver",signal="logs",reason="backpressure"} 20
weir_receiver_refused_items_total{component="otlp",kind="receiver",signal="logs",reason="not_delivered"} 5
weir_processor_received_items_total{component="sample",kind="processor",signal="logs"} 300
weir_processor_sent_items_total{component="sample",kind="processor",signal="logs"} 150
weir_processor_dropped_items_total{component="sample",kind="processor",signal="logs",reason="sampled_out"} 150
weir_exporter_sent_items_total{component="file",kind="exporter",signal="logs"} 140
weir_exporter_failed_items_total{component="file",kind="exporter",signal="logs",reason="http_400"} 2
weir_exporter_retries_total{component="file",kind="exporter",signal="logs"} 7
weir_exporter_queue_items{component="file",kind="exporter"} 0
weir_exporter_queue_capacity{component="file",kind="exporter"} 64
weir_exporter_sent_items_total{component="idle",kind="exporter",signal="logs"} 0
weir_exporter_spool_batches{component="idle",kind="exporter"} 0
weir_exporter_queue_items{component="idle",kind="exporter"} 0
weir_process_cpu_seconds_total 1.5
"#;

    #[test]
    fn rows_per_component_and_signal_with_rates() {
        let t0 = Instant::now();
        let a = Snapshot::new(&parse(FIRST), t0);
        let b = Snapshot::new(&parse(SECOND), t0 + Duration::from_secs(2));
        let rows = table(Some(&a), &b);
        let show: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {:?} {:?} {} {} {:?}",
                    r.component,
                    r.kind,
                    r.signal,
                    r.in_rate,
                    r.out_rate,
                    r.dropped,
                    r.queue,
                    r.errors
                )
            })
            .collect();
        assert_eq!(
            show,
            [
                // in: 300 accepted + 20 refused (not_delivered was accepted) - 100.
                "otlp receiver logs Some(110.0) Some(100.0) 25 - None",
                "sample processor logs Some(100.0) Some(50.0) 150 - None",
                "file exporter logs Some(51.0) Some(50.0) 2 0 (cap 64 batches) Some(7.0)",
                "idle exporter logs Some(0.0) Some(0.0) 0 0 (spool 0 batches) None",
            ],
        );
        assert_eq!(b.cpu_percent(&a), Some(25.0));
    }

    #[test]
    fn without_an_earlier_scrape_there_are_no_rates() {
        let a = Snapshot::new(&parse(FIRST), Instant::now());
        let rows = table(None, &a);
        assert_eq!(rows.len(), 4, "{rows:?}");
        assert_eq!(rows[0].in_rate, None);
        assert_eq!(rows[1].queue, "3");
        assert_eq!(rows[2].queue, "10 (cap 64 batches)");
        // Idle on every signal: one row, no signal named.
        assert_eq!(rows[3].signal, "-");
        assert_eq!(rows[3].errors, Some(0.0));
    }
}
