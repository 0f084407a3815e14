//! [`Emitted`]: what a processor passed on, with readers for assertions.

use crate::otlp::logs::v1::{LogRecord, ResourceLogs};
use crate::otlp::metrics::v1::{Metric, ResourceMetrics};
use crate::otlp::trace::v1::{ResourceSpans, Span};
use crate::testing::value::{as_str, attr_str};
use crate::{Batch, SignalData};

/// The batches a processor emitted during one harness call, in order.
///
/// The readers flatten every batch of one signal (batches of another signal
/// are skipped) and panic on data that cannot be decoded, as assertions do.
///
/// ```
/// use weir_core::testing::{Emitted, log, logs};
///
/// let out = Emitted::from(vec![logs([log("a").attr("user", "ada"), log("b")])]);
/// assert_eq!(out.items(), 2);
/// assert_eq!(out.bodies(), ["a", "b"]);
/// assert_eq!(out.log_attr("user"), [Some("ada"), None]);
/// ```
#[derive(Debug, Default, Clone)]
pub struct Emitted {
    batches: Vec<Batch>,
}

impl From<Vec<Batch>> for Emitted {
    fn from(batches: Vec<Batch>) -> Self {
        Emitted { batches }
    }
}

fn decoded(b: &Batch) -> &SignalData {
    match b.data() {
        Ok(d) => d,
        Err(e) => panic!("an emitted batch does not decode: {e}"),
    }
}

impl Emitted {
    /// The batches.
    pub fn batches(&self) -> &[Batch] {
        &self.batches
    }

    /// The batches, taken out.
    pub fn into_batches(self) -> Vec<Batch> {
        self.batches
    }

    /// Item count of every batch (log records, spans, data points).
    pub fn items(&self) -> usize {
        self.batches.iter().map(Batch::items).sum()
    }

    /// True when nothing was emitted.
    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    /// Item count of each batch, in order: how a batching processor cut them.
    pub fn batch_sizes(&self) -> Vec<usize> {
        self.batches.iter().map(Batch::items).collect()
    }

    /// Every resource group of log records.
    pub fn resource_logs(&self) -> Vec<&ResourceLogs> {
        self.batches
            .iter()
            .filter_map(|b| match decoded(b) {
                SignalData::Logs(v) => Some(v.iter()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// Every log record.
    pub fn log_records(&self) -> Vec<&LogRecord> {
        self.resource_logs()
            .into_iter()
            .flat_map(|r| &r.scope_logs)
            .flat_map(|s| &s.log_records)
            .collect()
    }

    /// The body of every log record. Panics on a body that is not a string
    /// (read those from [`Emitted::log_records`]); a missing body reads `""`.
    pub fn bodies(&self) -> Vec<&str> {
        self.log_records()
            .into_iter()
            .map(|r| match &r.body {
                None => "",
                Some(b) => as_str(Some(b))
                    .unwrap_or_else(|| panic!("body {b:?} is not a string; see log_records()")),
            })
            .collect()
    }

    /// Attribute `key` of every log record: its string value, or `None` when
    /// it is missing or not a string (see [`crate::testing::attr`]).
    pub fn log_attr(&self, key: &str) -> Vec<Option<&str>> {
        self.log_records()
            .into_iter()
            .map(|r| attr_str(&r.attributes, key))
            .collect()
    }

    /// Every resource group of spans.
    pub fn resource_spans(&self) -> Vec<&ResourceSpans> {
        self.batches
            .iter()
            .filter_map(|b| match decoded(b) {
                SignalData::Traces(v) => Some(v.iter()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// Every span.
    pub fn spans(&self) -> Vec<&Span> {
        self.resource_spans()
            .into_iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
            .collect()
    }

    /// The name of every span.
    pub fn span_names(&self) -> Vec<&str> {
        self.spans().into_iter().map(|s| s.name.as_str()).collect()
    }

    /// Attribute `key` of every span, as [`Emitted::log_attr`] reads it.
    pub fn span_attr(&self, key: &str) -> Vec<Option<&str>> {
        self.spans()
            .into_iter()
            .map(|s| attr_str(&s.attributes, key))
            .collect()
    }

    /// Every resource group of metrics.
    pub fn resource_metrics(&self) -> Vec<&ResourceMetrics> {
        self.batches
            .iter()
            .filter_map(|b| match decoded(b) {
                SignalData::Metrics(v) => Some(v.iter()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// Every metric.
    pub fn metrics(&self) -> Vec<&Metric> {
        self.resource_metrics()
            .into_iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
            .collect()
    }

    /// The name of every metric.
    pub fn metric_names(&self) -> Vec<&str> {
        self.metrics()
            .into_iter()
            .map(|m| m.name.as_str())
            .collect()
    }
}
