//! Fan-out: one batch to several edges, all or nothing.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::time::Instant;
use weir_core::{Batch, BatchSink, SendError};

use super::{EdgeSender, ReserveError};

/// Sends each batch to every edge, cloning for all but the last. Room is
/// reserved on all edges before anything is sent, so a refused batch reached no
/// edge and a client retry makes no duplicates. (A `drop_newest` queue that is
/// full counts as room: it takes the batch by dropping it.)
pub struct FanOut {
    edges: Vec<EdgeSender>,
}

impl FanOut {
    /// A fan-out over `edges` (at least one).
    pub fn new(edges: Vec<EdgeSender>) -> Self {
        assert!(!edges.is_empty(), "a fan-out needs an edge");
        FanOut { edges }
    }

    /// The sink to hand out: the edge itself when there is only one.
    pub fn into_sink(mut self) -> Arc<dyn BatchSink> {
        if self.edges.len() == 1 {
            Arc::new(self.edges.pop().expect("one edge"))
        } else {
            Arc::new(self)
        }
    }
}

#[async_trait]
impl BatchSink for FanOut {
    async fn send(&self, batch: Batch, deadline: Option<Instant>) -> Result<(), SendError> {
        let size = batch.size_bytes();
        let mut reserved = Vec::with_capacity(self.edges.len());
        for e in &self.edges {
            match e.reserve(size, deadline).await {
                Ok(r) => reserved.push(r),
                Err(ReserveError::Full) => return Err(SendError::Full(batch)),
                Err(ReserveError::Closed) => return Err(SendError::Closed(batch)),
            }
        }
        let last = reserved.pop().expect("at least one edge");
        for r in reserved {
            r.send(batch.clone());
        }
        last.send(batch);
        Ok(())
    }
}
