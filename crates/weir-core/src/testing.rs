//! Helpers for testing components without a runtime.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::time::Instant;

use crate::Batch;
use crate::flow::{BatchSink, Emitter, SendError};
use crate::telemetry::Counter;

/// A [`BatchSink`] that keeps every batch sent to it.
#[derive(Clone, Default)]
pub struct CollectSink {
    batches: Arc<Mutex<Vec<Batch>>>,
}

impl CollectSink {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// An [`Emitter`] that emits into this collector.
    pub fn emitter(&self) -> Emitter {
        Emitter::new(Arc::new(self.clone()), Counter::detached())
    }

    /// Takes the batches collected so far.
    pub fn take(&self) -> Vec<Batch> {
        std::mem::take(&mut *self.batches.lock().expect("collector poisoned"))
    }

    /// Items collected so far.
    pub fn items(&self) -> usize {
        self.batches
            .lock()
            .expect("collector poisoned")
            .iter()
            .map(Batch::items)
            .sum()
    }
}

#[async_trait]
impl BatchSink for CollectSink {
    async fn send(&self, batch: Batch, _deadline: Option<Instant>) -> Result<(), SendError> {
        self.batches.lock().expect("collector poisoned").push(batch);
        Ok(())
    }
}
