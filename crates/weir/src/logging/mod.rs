//! weir's own logs: `tracing` to stderr, text or JSON.
//!
//! Every line from inside a component carries its id: the runtime runs each
//! component's task in a span named for its kind with a `component` field
//! (text: `exporter{component=ledger}: ...`; JSON: `"span": {"component":
//! "ledger", "name": "exporter"}`). Repeated warnings and errors are limited
//! by [`repeats::RepeatLimiter`]: one line, then one count per 10 s.

mod repeats;
pub mod stderr;

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use weir_runtime::config::LogFormat;

pub use repeats::RepeatLimiter;

/// Repeats of a warning or error within this window are counted, not logged.
pub const REPEAT_WINDOW: Duration = Duration::from_secs(10);

/// The installed limiter, for the flush at exit.
static LIMITER: OnceLock<RepeatLimiter> = OnceLock::new();

/// Installs the global subscriber. `level` wins over RUST_LOG; default `info`.
pub fn init(level: Option<&str>, format: LogFormat) {
    let filter = match level {
        Some(l) => EnvFilter::try_new(l).unwrap_or_else(|e| {
            eprintln!("weir: invalid log level `{l}` ({e}); using `info`");
            EnvFilter::new("info")
        }),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    let limiter = RepeatLimiter::new(REPEAT_WINDOW);
    let (text, json) = match format {
        LogFormat::Text => (
            Some(
                tracing_subscriber::fmt::layer()
                    .with_writer(stderr::LogWriter)
                    .with_target(false)
                    .with_ansi(std::io::stderr().is_terminal()),
            ),
            None,
        ),
        LogFormat::Json => (
            None,
            Some(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(stderr::LogWriter)
                    .with_target(false)
                    // `span` holds the component; the list would repeat it.
                    .with_span_list(false),
            ),
        ),
    };
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(limiter.clone())
        .with(text)
        .with(json)
        .try_init()
        .is_ok();
    if installed {
        limiter.spawn_flusher();
        let _ = LIMITER.set(limiter);
    }
}

/// Logs the counts of repeats not reported yet (call before exiting).
pub fn flush_repeats() {
    if let Some(l) = LIMITER.get() {
        l.flush(Instant::now(), true);
    }
}
