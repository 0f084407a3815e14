use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

use super::RepeatLimiter;

const WINDOW: Duration = Duration::from_secs(10);

/// Collects formatted log lines.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    fn lines(&self) -> Vec<String> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

/// Runs `f` with a text subscriber behind `limiter`; returns the lines.
fn logged(limiter: &RepeatLimiter, f: impl FnOnce()) -> Vec<String> {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(limiter.clone()).with(
        tracing_subscriber::fmt::layer()
            .with_writer(capture.clone())
            .with_ansi(false)
            .without_time(),
    );
    tracing::subscriber::with_default(subscriber, f);
    capture.lines()
}

#[test]
fn a_storm_is_one_line_then_one_count() {
    let limiter = RepeatLimiter::new(WINDOW);
    let lines = logged(&limiter, || {
        let span = tracing::error_span!("exporter", component = "ledger");
        span.in_scope(|| {
            for i in 0..100 {
                tracing::warn!(attempt = i, "a request failed; retrying");
            }
        });
        // Same message, other component (a field this time): its own kind.
        tracing::warn!(component = "otlp", "a request failed; retrying");
        // Another message: its own kind.
        tracing::error!("export failed for good");
        // INFO is never limited.
        for _ in 0..3 {
            tracing::info!("progress");
        }
        limiter.flush(Instant::now() + WINDOW, false);
    });
    let count = |needle: &str| lines.iter().filter(|l| l.contains(needle)).count();
    assert_eq!(count("a request failed; retrying"), 3, "{lines:#?}");
    assert_eq!(count("attempt=0"), 1, "the first is logged: {lines:#?}");
    assert_eq!(count("attempt=1 "), 0, "{lines:#?}");
    assert_eq!(count("progress"), 3);
    assert_eq!(count("export failed for good"), 1);
    let summary: Vec<&String> = lines.iter().filter(|l| l.contains("repeated")).collect();
    assert_eq!(summary.len(), 1, "only the storm has repeats: {lines:#?}");
    assert!(
        summary[0].contains(
            "WARN weir::repeats: a request failed; retrying (repeated 99 times in the last 10s)"
        ) && summary[0].contains("component=\"ledger\"")
            && summary[0].contains("repeated=99"),
        "{}",
        summary[0]
    );
}

#[test]
fn after_a_quiet_window_the_next_one_is_logged_again() {
    let limiter = RepeatLimiter::new(WINDOW);
    let lines = logged(&limiter, || {
        tracing::error!(component = "file", "disk full");
        tracing::error!(component = "file", "disk full");
        // The window ends with one repeat: a count, and a new window.
        let end = Instant::now() + WINDOW;
        limiter.flush(end, false);
        // A window with no repeats: forgotten.
        limiter.flush(end + WINDOW, false);
        tracing::error!(component = "file", "disk full");
    });
    let plain = lines
        .iter()
        .filter(|l| l.contains("disk full") && !l.contains("repeated"))
        .count();
    assert_eq!(plain, 2, "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("ERROR") && l.contains("disk full (repeated 1 times")),
        "{lines:#?}"
    );
}

#[test]
fn a_window_not_over_is_kept_until_an_exit_flush() {
    let limiter = RepeatLimiter::new(WINDOW);
    let lines = logged(&limiter, || {
        for _ in 0..5 {
            tracing::warn!("slow destination");
        }
        limiter.flush(Instant::now(), false);
        assert!(limiter.take_due(Instant::now(), false).is_empty());
        // At exit, 3 s into the window: the count and how long it covers.
        limiter.flush(Instant::now() + Duration::from_secs(3), true);
    });
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines[1].contains("slow destination (repeated 4 times in the last 3s)"),
        "{lines:#?}"
    );
}
