//! The progress of a stdin batch run (`cat app.log | weir run ...`): on a
//! terminal, one line on stderr redrawn every 500 ms (records read, records/s,
//! out, dropped, elapsed); at the end, always, one summary line, so scripts
//! get it too:
//!
//! `weir: 100000 records in, 100000 out, 0 dropped, 1.42s (70422 records/s)`
//!
//! The numbers are the service's own counters (its `MetricsRegistry`, the
//! ones `/metrics` serves), read, never counted a second time. `in` is what
//! every receiver accepted, `out` what every exporter delivered (a record sent
//! to two exporters counts twice), `dropped` what receivers refused plus what
//! processors dropped plus what exporters gave up on.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use weir_core::telemetry::{Metric, MetricsRegistry, Series, names, reasons};

use crate::logging::stderr;

/// How often the progress line is redrawn.
const TICK: Duration = Duration::from_millis(500);

/// Records in, out and dropped so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Accepted by receivers.
    pub records_in: u64,
    /// Delivered by exporters.
    pub out: u64,
    /// Refused, dropped on purpose, or given up.
    pub dropped: u64,
}

impl Totals {
    /// Sums the standard counters in `series`.
    pub fn of(series: &[Series]) -> Self {
        let mut t = Totals::default();
        for s in series {
            let Metric::Counter(c) = &s.metric else {
                continue;
            };
            let v = c.get();
            let reason = s.labels.iter().find(|(k, _)| *k == "reason");
            match s.name {
                names::RECEIVER_ACCEPTED_ITEMS => t.records_in += v,
                names::EXPORTER_SENT_ITEMS => t.out += v,
                // Refused after acceptance (acknowledgements): the exporter's
                // failure counts it already.
                names::RECEIVER_REFUSED_ITEMS
                    if reason.is_some_and(|(_, r)| {
                        r == reasons::NOT_DELIVERED || r == reasons::ACK_TIMEOUT
                    }) => {}
                names::RECEIVER_REFUSED_ITEMS
                | names::PROCESSOR_DROPPED_ITEMS
                | names::EXPORTER_FAILED_ITEMS => t.dropped += v,
                _ => {}
            }
        }
        t
    }
}

/// The progress display of one run.
pub struct Progress {
    registry: MetricsRegistry,
    started: Instant,
    live: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl Progress {
    /// Starts counting time; draws the live line when stderr is a terminal
    /// (and metrics are on: with `metrics.level: none` there is nothing to read).
    pub fn start(registry: MetricsRegistry) -> Self {
        let started = Instant::now();
        let live = (registry.is_enabled() && std::io::stderr().is_terminal()).then(|| {
            let stop = Arc::new(AtomicBool::new(false));
            let (flag, reg) = (stop.clone(), registry.clone());
            let handle = std::thread::spawn(move || draw(&reg, started, &flag));
            (stop, handle)
        });
        Progress {
            registry,
            started,
            live,
        }
    }

    /// Stops the live line and prints the summary; `delivered` is the run's
    /// own count of delivered items (all there is when metrics are off).
    pub fn finish(mut self, delivered: u64) {
        self.stop_live();
        let totals = self
            .registry
            .is_enabled()
            .then(|| Totals::of(&self.registry.snapshot()));
        eprintln!("{}", summary(totals, delivered, self.started.elapsed()));
    }

    /// Stops (and wipes) the live line, if there is one.
    pub fn stop_live(&mut self) {
        if let Some((stop, handle)) = self.live.take() {
            stop.store(true, Ordering::Relaxed);
            let _ = handle.join();
            stderr::clear_status();
        }
    }
}

fn draw(registry: &MetricsRegistry, started: Instant, stop: &AtomicBool) {
    let mut last = (started, 0u64);
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(TICK);
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let now = Instant::now();
        let t = Totals::of(&registry.snapshot());
        let dt = now.duration_since(last.0).as_secs_f64();
        let rate = if dt > 0.0 {
            t.records_in.saturating_sub(last.1) as f64 / dt
        } else {
            0.0
        };
        last = (now, t.records_in);
        stderr::set_status(&live_line(t, rate, now.duration_since(started)));
    }
}

/// `weir: 12345 records read, 8123/s, 12000 out, 0 dropped, 3.2s`
fn live_line(t: Totals, rate: f64, elapsed: Duration) -> String {
    format!(
        "weir: {} records read, {:.0}/s, {} out, {} dropped, {:.1}s",
        t.records_in,
        rate,
        t.out,
        t.dropped,
        elapsed.as_secs_f64()
    )
}

/// The summary line; with metrics off (`metrics.level: none`: no `totals`)
/// only what the run itself counted, the delivered items.
fn summary(totals: Option<Totals>, delivered: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let Some(t) = totals else {
        return format!(
            "weir: {delivered} records out, {secs:.2}s (metrics.level none: no counts of records in or dropped)"
        );
    };
    let rate = if secs > 0.0 {
        t.records_in as f64 / secs
    } else {
        0.0
    };
    format!(
        "weir: {} records in, {} out, {} dropped, {secs:.2}s ({rate:.0} records/s)",
        t.records_in, t.out, t.dropped
    )
}

#[cfg(test)]
mod tests {
    use weir_core::Signal;
    use weir_core::telemetry::{ComponentTelemetry, Kind};

    use super::*;

    #[test]
    fn totals_read_the_standard_counters() {
        let reg = MetricsRegistry::new();
        let stdin = ComponentTelemetry::new(reg.clone(), "stdin", Kind::Receiver);
        let sample = ComponentTelemetry::new(reg.clone(), "sample", Kind::Processor);
        let file = ComponentTelemetry::new(reg.clone(), "file", Kind::Exporter);
        let logs = Some(Signal::Logs);
        stdin
            .counter(names::RECEIVER_ACCEPTED_ITEMS, logs, &[])
            .add(100);
        stdin.refused_items(Signal::Logs, reasons::INVALID).add(2);
        stdin
            .refused_items(Signal::Logs, reasons::NOT_DELIVERED)
            .add(5);
        sample
            .counter(
                names::PROCESSOR_DROPPED_ITEMS,
                logs,
                &[("reason", "sampled_out")],
            )
            .add(30);
        file.counter(names::EXPORTER_SENT_ITEMS, logs, &[]).add(65);
        file.counter(
            names::EXPORTER_FAILED_ITEMS,
            logs,
            &[("reason", "http_400")],
        )
        .add(5);
        let t = Totals::of(&reg.snapshot());
        assert_eq!(
            t,
            Totals {
                records_in: 100,
                out: 65,
                dropped: 37
            }
        );
        assert_eq!(
            summary(Some(t), 65, Duration::from_millis(2000)),
            "weir: 100 records in, 65 out, 37 dropped, 2.00s (50 records/s)"
        );
        assert_eq!(
            live_line(t, 12.4, Duration::from_millis(1500)),
            "weir: 100 records read, 12/s, 65 out, 37 dropped, 1.5s"
        );
        assert_eq!(
            summary(None, 9, Duration::from_secs(1)),
            "weir: 9 records out, 1.00s (metrics.level none: no counts of records in or dropped)"
        );
    }
}
