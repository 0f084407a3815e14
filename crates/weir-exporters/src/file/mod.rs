//! The `file` exporter: writes batches to a local file as OTLP/JSON lines (the
//! format of the Collector's file exporter) or as length-prefixed OTLP protobuf,
//! optionally gzip-compressed, rotated by size.
//!
//! File I/O never runs on a tokio worker as plain blocking code: a batch whose
//! received bytes can be shared moves to the blocking pool with
//! `spawn_blocking`; a batch that holds only decoded records (a clone would copy
//! every record) is written with `block_in_place`, which hands this worker's
//! other tasks to another thread first.

mod config;
mod rotation;
mod writer;

#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::runtime::{Handle, RuntimeFlavor};
use weir_core::{
    Batch, BuildContext, ComponentConfig, ComponentError, ConfigError, ExportError, ExportOutcome,
    Exporter, ExporterFactory, Signal,
};

pub use config::{FileCompression, FileExporterConfig, FileFormat, RotationConfig};
use writer::FileWriter;

/// Builds `file` exporters.
#[derive(Debug, Clone, Copy, Default)]
pub struct FileExporterFactory;

impl ExporterFactory for FileExporterFactory {
    fn type_name(&self) -> &'static str {
        "file"
    }

    fn description(&self) -> &'static str {
        "writes OTLP/JSON lines or length-prefixed OTLP protobuf to a file, with gzip and size rotation"
    }

    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }

    fn config_schema(&self) -> Option<weir_core::schema::Schema> {
        Some(weir_core::schema::for_config::<FileExporterConfig>())
    }
    fn build(
        &self,
        cfg: &ComponentConfig,
        cx: &BuildContext,
    ) -> Result<Box<dyn Exporter>, ConfigError> {
        let config: FileExporterConfig = cfg.parse()?;
        config.validate(&cx.signals)?;
        Ok(Box::new(FileExporter::new(&config)))
    }
}

/// Writes batches to one file. Cheap to build: the file is opened on first export.
pub struct FileExporter {
    writer: Arc<Mutex<FileWriter>>,
    flush_interval: Duration,
}

impl FileExporter {
    /// An exporter for `config` (assumed validated).
    pub fn new(config: &FileExporterConfig) -> Self {
        FileExporter {
            writer: Arc::new(Mutex::new(FileWriter::new(config))),
            flush_interval: config.flush_interval,
        }
    }

    /// Runs `job` on the writer in the blocking pool.
    async fn on_blocking_pool<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut FileWriter) -> Result<T, ExportError> + Send + 'static,
    ) -> Result<T, ExportError> {
        let writer = Arc::clone(&self.writer);
        // Rotation and write errors log in the exporter's span.
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| job(&mut lock(&writer))))
            .await
            .map_err(|e| ExportError::permanent("panic", format!("file writer failed: {e}")))?
    }
}

/// The writer, even if an earlier job panicked holding it: its state is still a
/// file handle and a buffer, and the next I/O error (if any) says what is wrong.
fn lock(writer: &Mutex<FileWriter>) -> MutexGuard<'_, FileWriter> {
    writer.lock().unwrap_or_else(PoisonError::into_inner)
}

fn on_multi_thread_runtime() -> bool {
    Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread)
}

#[async_trait]
impl Exporter for FileExporter {
    async fn export(&self, batch: &Batch) -> Result<ExportOutcome, ExportError> {
        let items = batch.items();
        if batch.received_bytes().is_some() || !on_multi_thread_runtime() {
            // This clone shares the received bytes (DESIGN.md §3); only on a
            // current-thread runtime (tests) may it copy decoded records.
            let batch = batch.clone();
            self.on_blocking_pool(move |w| w.write_batch(&batch))
                .await?;
        } else {
            tokio::task::block_in_place(|| lock(&self.writer).write_batch(batch))?;
        }
        Ok(ExportOutcome::delivered(items))
    }

    /// One file, one writer: batches go in the order they were queued.
    fn max_in_flight(&self) -> Option<usize> {
        Some(1)
    }

    fn timer(&self) -> Option<Duration> {
        Some(self.flush_interval)
    }

    async fn on_timer(&self) -> Result<(), ComponentError> {
        self.on_blocking_pool(FileWriter::flush)
            .await
            .map_err(|e| ComponentError::new(e.to_string()))
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.on_blocking_pool(FileWriter::close)
            .await
            .map_err(|e| ComponentError::new(e.to_string()))
    }
}
