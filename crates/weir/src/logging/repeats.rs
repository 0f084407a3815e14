//! Rate limits repeated warnings and errors: the first of a kind (same target,
//! component and message) is logged, repeats within the window are counted
//! instead, and when the window ends one line says how many there were:
//! `<message> (repeated 57 times in the last 10s)`. A storm that goes on
//! gives one such line per window; after a quiet window the next one is
//! logged again. INFO and below pass untouched.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// The target of the summary lines (never limited themselves).
pub const TARGET: &str = "weir::repeats";
/// Kinds tracked at once; beyond this new kinds pass unlimited (a log line
/// is never lost to bookkeeping).
const MAX_KINDS: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Kind {
    target: &'static str,
    component: Option<String>,
    message: String,
}

#[derive(Debug)]
struct Window {
    since: Instant,
    suppressed: u64,
    level: Level,
}

/// The layer; clones share their state.
#[derive(Debug, Clone)]
pub struct RepeatLimiter {
    window: Duration,
    kinds: Arc<Mutex<HashMap<Kind, Window>>>,
}

/// One summary line to log.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Summary {
    level: Level,
    component: Option<String>,
    message: String,
    count: u64,
    /// How long the window lasted, in whole seconds (at least 1).
    secs: u64,
}

/// The `component` of a span, kept in its extensions.
struct SpanComponent(String);

/// Reads `message`, and the component from `component` (or `receiver`).
#[derive(Default)]
struct Fields {
    message: Option<String>,
    component: Option<String>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = Some(value.to_string()),
            "component" | "receiver" if self.component.is_none() => {
                self.component = Some(value.to_string())
            }
            _ => {}
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => self.message = Some(format!("{value:?}")),
            "component" | "receiver" if self.component.is_none() => {
                self.component = Some(format!("{value:?}"))
            }
            _ => {}
        }
    }
}

impl RepeatLimiter {
    /// A limiter with a `window` (10 s in weir).
    pub fn new(window: Duration) -> Self {
        RepeatLimiter {
            window,
            kinds: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Kind, Window>> {
        self.kinds.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether an event of `kind` at `now` is logged (else it is counted).
    fn admit(&self, kind: Kind, level: Level, now: Instant) -> bool {
        let mut kinds = self.lock();
        match kinds.get_mut(&kind) {
            None => {
                if kinds.len() < MAX_KINDS {
                    kinds.insert(
                        kind,
                        Window {
                            since: now,
                            suppressed: 0,
                            level,
                        },
                    );
                }
                true
            }
            Some(w)
                if w.suppressed == 0 && now.saturating_duration_since(w.since) >= self.window =>
            {
                w.since = now;
                true
            }
            // Within the window, or past it with a count the next flush reports.
            Some(w) => {
                w.suppressed += 1;
                false
            }
        }
    }

    /// Ends the windows that are over at `now` (all of them with `all`): the
    /// summaries to log. A window with repeats starts a new one (the storm may
    /// go on); a quiet one is forgotten.
    fn take_due(&self, now: Instant, all: bool) -> Vec<Summary> {
        let mut out = Vec::new();
        self.lock().retain(|kind, w| {
            if !all && now.saturating_duration_since(w.since) < self.window {
                return true;
            }
            if w.suppressed == 0 {
                return false;
            }
            out.push(Summary {
                level: w.level,
                component: kind.component.clone(),
                message: kind.message.clone(),
                count: w.suppressed,
                secs: now
                    .saturating_duration_since(w.since)
                    .as_secs_f64()
                    .round()
                    .max(1.0) as u64,
            });
            w.since = now;
            w.suppressed = 0;
            true
        });
        out
    }

    /// Logs the summaries of the windows over at `now`; `all` ends every
    /// window (at exit, so no count is lost).
    pub fn flush(&self, now: Instant, all: bool) {
        for s in self.take_due(now, all) {
            let c = s.component.as_deref();
            let (n, secs) = (s.count, s.secs);
            let m = &s.message;
            if s.level == Level::ERROR {
                tracing::error!(target: TARGET, component = c, repeated = n, "{m} (repeated {n} times in the last {secs}s)");
            } else {
                tracing::warn!(target: TARGET, component = c, repeated = n, "{m} (repeated {n} times in the last {secs}s)");
            }
        }
    }

    /// Flushes every second on a thread of its own, for the process's life.
    pub fn spawn_flusher(&self) {
        let me = self.clone();
        let _ = std::thread::Builder::new()
            .name("weir-log-repeats".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_secs(1));
                    me.flush(Instant::now(), false);
                }
            });
    }
}

impl<S> Layer<S> for RepeatLimiter
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().fields().field("component").is_none() {
            return;
        }
        let mut f = Fields::default();
        attrs.record(&mut f);
        if let (Some(c), Some(span)) = (f.component, ctx.span(id)) {
            span.extensions_mut().insert(SpanComponent(c));
        }
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, S>) -> bool {
        let meta = event.metadata();
        let level = *meta.level();
        // Levels order by verbosity: INFO and below are "greater" than WARN.
        if level > Level::WARN || meta.target() == TARGET {
            return true;
        }
        let mut f = Fields::default();
        event.record(&mut f);
        let component = f.component.or_else(|| {
            ctx.event_scope(event)?.find_map(|span| {
                span.extensions()
                    .get::<SpanComponent>()
                    .map(|c| c.0.clone())
            })
        });
        let kind = Kind {
            target: meta.target(),
            component,
            message: f.message.unwrap_or_default(),
        };
        self.admit(kind, level, Instant::now())
    }
}

#[cfg(test)]
mod tests;
