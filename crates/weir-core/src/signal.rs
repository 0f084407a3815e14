//! The three telemetry signals weir carries.

use std::fmt;
use std::str::FromStr;

/// One of the OpenTelemetry signals. A [`crate::Batch`] holds exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Signal {
    /// Log records (`ResourceLogs`).
    Logs,
    /// Spans (`ResourceSpans`).
    Traces,
    /// Metric data points (`ResourceMetrics`).
    Metrics,
}

impl Signal {
    /// All signals, in a stable order (also the index order of [`Signal::index`]).
    pub const ALL: [Signal; 3] = [Signal::Logs, Signal::Traces, Signal::Metrics];

    /// The name used in pipeline ids and metric labels: `logs`, `traces`, `metrics`.
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Logs => "logs",
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
        }
    }

    /// A dense index (0..3) for per-signal arrays.
    pub fn index(self) -> usize {
        match self {
            Signal::Logs => 0,
            Signal::Traces => 1,
            Signal::Metrics => 2,
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Signal {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "logs" => Ok(Signal::Logs),
            "traces" => Ok(Signal::Traces),
            "metrics" => Ok(Signal::Metrics),
            other => Err(format!(
                "unknown signal `{other}`, expected `logs`, `traces` or `metrics`"
            )),
        }
    }
}
