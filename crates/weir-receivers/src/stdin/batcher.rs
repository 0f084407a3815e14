//! Collects log records into batches of at most `max_batch`, and knows when a
//! partial batch is due.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use weir_core::otlp::common::v1::InstrumentationScope;
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_core::{Batch, BatchMeta};

/// The instrumentation scope name on every record this receiver makes.
pub const SCOPE_NAME: &str = "weir.stdin";

/// Never reserve more than this many records up front, whatever `max_batch` is.
const MAX_PREALLOCATED: usize = 4096;

/// Gathers records until a batch is full or overdue.
#[derive(Debug)]
pub(super) struct Batcher {
    receiver_id: Arc<str>,
    max_batch: usize,
    max_delay: Duration,
    records: Vec<LogRecord>,
    /// When the first record of the pending batch arrived.
    first_at: Option<Instant>,
}

impl Batcher {
    pub fn new(receiver_id: Arc<str>, max_batch: usize, max_delay: Duration) -> Self {
        let max_batch = max_batch.max(1);
        Batcher {
            receiver_id,
            max_batch,
            max_delay,
            records: Vec::with_capacity(max_batch.min(MAX_PREALLOCATED)),
            first_at: None,
        }
    }

    /// Adds a record; gives the batch back once it holds `max_batch` records.
    pub fn push(&mut self, record: LogRecord) -> Option<Batch> {
        if self.first_at.is_none() {
            self.first_at = Some(Instant::now());
        }
        self.records.push(record);
        if self.records.len() >= self.max_batch {
            self.take()
        } else {
            None
        }
    }

    /// When the pending batch must go out, if there is one.
    pub fn deadline(&self) -> Option<Instant> {
        self.first_at.map(|t| t + self.max_delay)
    }

    /// The pending records as a batch, if there are any.
    pub fn take(&mut self) -> Option<Batch> {
        self.first_at = None;
        if self.records.is_empty() {
            return None;
        }
        let capacity = self.max_batch.min(MAX_PREALLOCATED);
        let log_records = std::mem::replace(&mut self.records, Vec::with_capacity(capacity));
        let resource_logs = vec![ResourceLogs {
            resource: None,
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: SCOPE_NAME.to_owned(),
                    ..Default::default()
                }),
                log_records,
                ..Default::default()
            }],
            ..Default::default()
        }];
        Some(Batch::logs(
            resource_logs,
            BatchMeta::from_receiver(Arc::clone(&self.receiver_id)),
        ))
    }
}
