//! The async side: chunks in, log records out in batches.

use std::sync::Arc;

use tokio::time::Instant;
use weir_core::otlp::logs::v1::LogRecord;
use weir_core::telemetry::Counter;
use weir_core::{Batch, ComponentError, Output};
use weir_otlp::logline::{self, LineFormat};

use super::batcher::Batcher;
use super::config::StdinConfig;
use super::lines::{Line, LineSplitter};

/// Splits chunks into lines, maps them to records and sends full or overdue
/// batches, waiting while the pipeline is full.
pub(super) struct Ingest {
    format: LineFormat,
    splitter: LineSplitter,
    batcher: Batcher,
    output: Output,
    truncated: Counter,
}

impl Ingest {
    pub fn new(config: &StdinConfig, id: Arc<str>, output: Output, truncated: Counter) -> Self {
        Ingest {
            format: config.format,
            splitter: LineSplitter::new(config.max_line_bytes.as_usize()),
            batcher: Batcher::new(id, config.max_batch, config.max_delay),
            output,
            truncated,
        }
    }

    /// When the pending partial batch is due, if there is one.
    pub fn deadline(&self) -> Option<Instant> {
        self.batcher.deadline()
    }

    /// Takes one chunk of input.
    pub async fn chunk(&mut self, bytes: &[u8]) -> Result<(), ComponentError> {
        // One clock read per chunk, not per line: the chunk arrived at one time.
        let observed = weir_otlp::civil::now_unix_nano();
        let mut pos = 0;
        while let Some(line) = self.splitter.next_line(bytes, &mut pos) {
            let record = to_record(line, self.format, observed, &self.truncated);
            if let Some(batch) = self.batcher.push(record) {
                self.send(batch).await?;
            }
        }
        // A long run of chunks can keep the timer branch from being polled.
        if self.deadline().is_some_and(|d| d <= Instant::now()) {
            self.flush().await?;
        }
        Ok(())
    }

    /// Sends the pending partial batch.
    pub async fn flush(&mut self) -> Result<(), ComponentError> {
        match self.batcher.take() {
            Some(batch) => self.send(batch).await,
            None => Ok(()),
        }
    }

    /// Sends the unfinished last line and the pending batch.
    pub async fn finish(&mut self) -> Result<(), ComponentError> {
        if let Some(line) = self.splitter.finish() {
            let record = to_record(
                line,
                self.format,
                weir_otlp::civil::now_unix_nano(),
                &self.truncated,
            );
            if let Some(batch) = self.batcher.push(record) {
                self.send(batch).await?;
            }
        }
        self.flush().await
    }

    async fn send(&self, batch: Batch) -> Result<(), ComponentError> {
        let items = batch.items();
        self.output
            .send(batch)
            .await
            .map_err(|e| ComponentError::new(format!("cannot pass on {items} log records: {e}")))
    }
}

fn to_record(line: Line<'_>, format: LineFormat, observed: u64, truncated: &Counter) -> LogRecord {
    let mut record = logline::record_from_line(line.bytes, format, observed);
    if let Some(original) = line.original_len {
        logline::mark_truncated(&mut record, original);
        truncated.inc();
    }
    record
}

/// Completes at `deadline`, or never when there is none.
pub(super) async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
