//! The `stdin` receiver: each line of standard input becomes a log record.
//!
//! A line holding a JSON object becomes a structured record, any other line a
//! text record (see [`weir_otlp::logline`] and [`StdinConfig::format`]). At end
//! of input the receiver sends what it has and returns, and the runtime drains
//! the whole service: `cat app.log | weir run pipeline.yaml` is a batch job.
//!
//! Reading happens on a dedicated thread that only moves raw chunks over a
//! small bounded channel; splitting, parsing and batching run on the async
//! side. When the pipeline is full, sending a batch waits, the channel fills,
//! and the thread stops reading: the writer of the pipe slows down instead of
//! weir buffering without bound. Under `service.memory_limit` the receiver
//! also stops taking chunks while the process is over its budget (it never
//! refuses: the input just waits).

mod batcher;
mod config;
mod ingest;
mod lines;
mod reader;
#[cfg(test)]
mod tests;

use std::io::Read;
use std::sync::Arc;

use weir_core::telemetry::names;
use weir_core::{
    BuildContext, ComponentConfig, ComponentError, ConfigError, Receiver, ReceiverContext,
    ReceiverFactory, Signal, async_trait,
};

pub use batcher::SCOPE_NAME;
pub use config::StdinConfig;

use ingest::Ingest;

/// Builds `stdin` receivers.
#[derive(Debug, Clone, Copy, Default)]
pub struct StdinReceiverFactory;

impl ReceiverFactory for StdinReceiverFactory {
    fn type_name(&self) -> &'static str {
        "stdin"
    }

    fn description(&self) -> &'static str {
        "reads log lines (text or JSON objects) from standard input"
    }

    fn signals(&self) -> &'static [Signal] {
        &[Signal::Logs]
    }

    fn config_schema(&self) -> Option<weir_core::schema::Schema> {
        Some(weir_core::schema::for_config::<StdinConfig>())
    }
    fn build(
        &self,
        cfg: &ComponentConfig,
        cx: &BuildContext,
    ) -> Result<Box<dyn Receiver>, ConfigError> {
        Ok(Box::new(StdinReceiver::new(
            StdinConfig::from_component(cfg)?,
            cx,
        )))
    }
}

/// Reads log lines from standard input, or from any reader given with
/// [`StdinReceiver::with_reader`].
pub struct StdinReceiver {
    config: StdinConfig,
    id: Arc<str>,
    source: Box<dyn Read + Send>,
}

impl StdinReceiver {
    /// A receiver of standard input. Nothing is read before [`Receiver::run`].
    pub fn new(config: StdinConfig, cx: &BuildContext) -> Self {
        StdinReceiver {
            config,
            id: cx.id.to_string().into(),
            source: Box::new(std::io::stdin()),
        }
    }

    /// Reads `reader` instead of standard input (tests, embedding).
    pub fn with_reader(mut self, reader: impl Read + Send + 'static) -> Self {
        self.source = Box::new(reader);
        self
    }
}

#[async_trait]
impl Receiver for StdinReceiver {
    async fn run(self: Box<Self>, cx: ReceiverContext) -> Result<(), ComponentError> {
        let StdinReceiver { config, id, source } = *self;
        let truncated =
            cx.telemetry
                .counter(names::RECEIVER_TRUNCATED_ITEMS, Some(Signal::Logs), &[]);
        let mut chunks = reader::spawn_reader(source, &id)
            .map_err(|e| ComponentError::new(format!("cannot start the {id} reader: {e}")))?;
        let mut ingest = Ingest::new(&config, id, cx.output, truncated);
        let memory = cx.memory;

        let shutdown = cx.shutdown.wait();
        tokio::pin!(shutdown);
        let read_result = loop {
            tokio::select! {
                biased;
                () = &mut shutdown => {
                    // Stop reading, but keep what the thread already handed over.
                    let mut result = Ok(());
                    while let Ok(chunk) = chunks.try_recv() {
                        match chunk {
                            Ok(bytes) => ingest.chunk(&bytes).await?,
                            Err(e) => result = Err(e),
                        }
                    }
                    break result;
                }
                () = ingest::sleep_until(ingest.deadline()) => ingest.flush().await?,
                // Over the memory budget: take no more input until under it.
                () = memory.wait_until_under(), if memory.is_over() => {}
                chunk = chunks.recv(), if !memory.is_over() => match chunk {
                    Some(Ok(bytes)) => ingest.chunk(&bytes).await?,
                    Some(Err(e)) => break Err(e),
                    None => break Ok(()),
                },
            }
        };
        // Dropping the channel ends the reader thread after its current read.
        drop(chunks);
        ingest.finish().await?;
        read_result.map_err(|e| ComponentError::new(format!("reading standard input: {e}")))
    }
}
