//! Log records: [`log`] and [`logs`].

use super::group;
use crate::otlp::common::v1::KeyValue;
use crate::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use crate::testing::value::{IntoAnyValue, kv};
use crate::{Batch, BatchMeta};

/// A log record being built; start one with [`log`]. A string converts into
/// one (its body), so [`logs`] takes plain strings too.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogBuilder {
    record: LogRecord,
    resource: Vec<KeyValue>,
}

/// A log record with `body`.
///
/// ```
/// use weir_core::otlp::logs::v1::SeverityNumber;
/// use weir_core::testing::{attr_str, log};
///
/// let record = log("user logged in")
///     .attr("user", "ada")
///     .severity(SeverityNumber::Warn)
///     .into_record();
/// assert_eq!(record.severity_number, 13);
/// assert_eq!(attr_str(&record.attributes, "user"), Some("ada"));
/// ```
pub fn log(body: impl IntoAnyValue) -> LogBuilder {
    LogBuilder {
        record: LogRecord {
            body: Some(body.into_any_value()),
            ..Default::default()
        },
        resource: Vec::new(),
    }
}

impl LogBuilder {
    /// Adds an attribute to the record.
    pub fn attr(mut self, key: &str, value: impl IntoAnyValue) -> Self {
        self.record.attributes.push(kv(key, value));
        self
    }

    /// Sets the severity number (an OTLP `SeverityNumber` or its number: 9 is INFO).
    pub fn severity(mut self, number: impl Into<i32>) -> Self {
        self.record.severity_number = number.into();
        self
    }

    /// Sets the severity text (`"WARN"`, `"error"`, ...).
    pub fn severity_text(mut self, text: &str) -> Self {
        self.record.severity_text = text.to_owned();
        self
    }

    /// Sets the event time, in nanoseconds since the Unix epoch.
    pub fn time(mut self, unix_nanos: u64) -> Self {
        self.record.time_unix_nano = unix_nanos;
        self
    }

    /// Adds an attribute to the record's resource.
    pub fn resource(mut self, key: &str, value: impl IntoAnyValue) -> Self {
        self.resource.push(kv(key, value));
        self
    }

    /// The record itself (its resource is left behind).
    pub fn into_record(self) -> LogRecord {
        self.record
    }
}

impl From<&str> for LogBuilder {
    fn from(body: &str) -> Self {
        log(body)
    }
}

impl From<String> for LogBuilder {
    fn from(body: String) -> Self {
        log(body)
    }
}

impl From<LogRecord> for LogBuilder {
    fn from(record: LogRecord) -> Self {
        LogBuilder {
            record,
            resource: Vec::new(),
        }
    }
}

/// A logs batch: strings become records with that body, [`log`] builds
/// richer ones.
///
/// ```
/// use weir_core::testing::{log, logs};
///
/// let batch = logs(["started", "listening on :8080"]);
/// assert_eq!(batch.items(), 2);
///
/// let batch = logs([
///     log("GET /").attr("status", 200).resource("service.name", "api"),
///     log("GET /admin").attr("status", 403).resource("service.name", "api"),
/// ]);
/// assert_eq!(batch.items(), 2);
/// ```
pub fn logs<I>(records: I) -> Batch
where
    I: IntoIterator,
    I::Item: Into<LogBuilder>,
{
    let groups = group(records.into_iter().map(|r| {
        let b = r.into();
        (b.resource, b.record)
    }));
    let resource_logs = groups
        .into_iter()
        .map(|(resource, log_records)| ResourceLogs {
            resource,
            scope_logs: vec![ScopeLogs {
                log_records,
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    Batch::logs(resource_logs, BatchMeta::default())
}
