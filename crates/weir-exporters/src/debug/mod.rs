//! The `debug` exporter: prints a line per batch (or per record) on stderr, for
//! trying pipelines out and for tests.

mod config;
mod format;

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use weir_core::{
    Batch, BuildContext, ComponentConfig, ConfigError, ExportError, ExportOutcome, Exporter,
    ExporterFactory, Signal,
};

pub use config::{DebugExporterConfig, Verbosity};
pub use format::write_batch;

/// Builds `debug` exporters.
#[derive(Debug, Clone, Copy, Default)]
pub struct DebugExporterFactory;

impl ExporterFactory for DebugExporterFactory {
    fn type_name(&self) -> &'static str {
        "debug"
    }

    fn description(&self) -> &'static str {
        "prints a summary of each batch, or every record, on stderr"
    }

    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }

    fn config_schema(&self) -> Option<weir_core::schema::Schema> {
        Some(weir_core::schema::for_config::<DebugExporterConfig>())
    }
    fn build(
        &self,
        cfg: &ComponentConfig,
        cx: &BuildContext,
    ) -> Result<Box<dyn Exporter>, ConfigError> {
        let config: DebugExporterConfig = cfg.parse()?;
        Ok(Box::new(DebugExporter {
            id: cx.id.to_string().into(),
            verbosity: config.verbosity,
            buffer: Arc::new(Mutex::new(Vec::new())),
        }))
    }
}

/// Prints batches on stderr.
pub struct DebugExporter {
    /// The component id each summary line starts with.
    id: Arc<str>,
    verbosity: Verbosity,
    /// Text buffer reused across batches (taken out while a batch is printed).
    buffer: Arc<Mutex<Vec<u8>>>,
}

#[async_trait]
impl Exporter for DebugExporter {
    /// Summaries print in the order batches arrived.
    fn max_in_flight(&self) -> Option<usize> {
        Some(1)
    }

    async fn export(&self, batch: &Batch) -> Result<ExportOutcome, ExportError> {
        let mut text =
            std::mem::take(&mut *self.buffer.lock().unwrap_or_else(PoisonError::into_inner));
        text.clear();
        write_batch(&mut text, &self.id, batch, self.verbosity)
            .map_err(|e| ExportError::permanent("decode", e.to_string()))?;
        // stderr may be a slow pipe: write from the blocking pool, under one lock
        // so a batch's lines stay together.
        let text = tokio::task::spawn_blocking(move || {
            // Best effort: a closed stderr is no reason to hold up the pipeline.
            let _ = std::io::stderr().lock().write_all(&text);
            text
        })
        .await
        .map_err(|e| ExportError::permanent("panic", format!("stderr writer failed: {e}")))?;
        *self.buffer.lock().unwrap_or_else(PoisonError::into_inner) = text;
        Ok(ExportOutcome::delivered(batch.items()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_core::BatchMeta;
    use weir_core::otlp::trace::v1::ResourceSpans;
    use weir_core::telemetry::Kind;

    #[tokio::test]
    async fn exports_every_signal_and_delivers_all() {
        let cx = BuildContext::for_test("debug", Kind::Exporter, &Signal::ALL);
        let cfg = ComponentConfig::from_yaml("verbosity: basic").unwrap();
        let exporter = DebugExporterFactory.build(&cfg, &cx).unwrap();
        let batch = Batch::traces(vec![ResourceSpans::default()], BatchMeta::default());
        let outcome = exporter.export(&batch).await.unwrap();
        assert_eq!(outcome, ExportOutcome::delivered(0));
        let bad = ComponentConfig::from_yaml("verbose: true").unwrap();
        assert!(DebugExporterFactory.build(&bad, &cx).is_err());
    }
}
