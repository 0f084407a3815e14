//! Delivery acknowledgements: how a receiver learns that what it accepted is
//! safe, so it can tell its client the truth.
//!
//! A receiver with `acknowledgements: true` makes an [`ack_pair`] per request,
//! puts the [`AckToken`] in the batch's [`BatchMeta::acks`](crate::BatchMeta),
//! and answers the client when the [`AckWaiter`] resolves. The token travels
//! with the data: cloned by fan-out and splits, gathered by merges
//! ([`Acks::absorb`]). The request is settled when its last token is gone:
//!
//! - **success** when every holder let go without failing it: the exporter
//!   harness drops a batch's tokens once it is in a disk spool or delivered, and
//!   a processor that filters records out on purpose (sampling) just drops them;
//! - **failure** as soon as any holder calls [`AckToken::fail`] (a permanent
//!   export error, retries exhausted, a queue overflow, shutdown), so the client
//!   gets a retryable error and sends again.
//!
//! Components that build new batches must carry the meta (or at least its
//! `acks`) of the batches they came from; a dropped token counts as success.
//!
//! ```
//! # tokio_test_block_on(async {
//! use weir_core::ack::ack_pair;
//! let (token, waiter) = ack_pair();
//! let copy = token.clone(); // fan-out to a second exporter
//! drop(token); // the first exporter delivered
//! copy.fail("retries_exhausted");
//! drop(copy);
//! assert_eq!(waiter.wait().await, Err(weir_core::ack::AckFailure("retries_exhausted")));
//! # });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// Why a request's data was not kept: the first failure reason given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckFailure(pub &'static str);

impl std::fmt::Display for AckFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not delivered: {}", self.0)
    }
}

struct AckState {
    failure: Mutex<Option<&'static str>>,
    tx: Mutex<Option<oneshot::Sender<Result<(), AckFailure>>>>,
}

impl Drop for AckState {
    fn drop(&mut self) {
        let failure = self.failure.get_mut().ok().and_then(|f| f.take());
        if let Some(tx) = self.tx.get_mut().ok().and_then(Option::take) {
            let _ = tx.send(failure.map_or(Ok(()), |r| Err(AckFailure(r))));
        }
    }
}

/// One request's claim on the data it sent; see the [module docs](self).
/// Cloning is an `Arc` clone.
#[derive(Clone)]
pub struct AckToken(Arc<AckState>);

impl std::fmt::Debug for AckToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AckToken")
    }
}

impl AckToken {
    /// Marks the request failed with `reason` (the first reason wins); it
    /// resolves once every copy of the token is dropped.
    pub fn fail(&self, reason: &'static str) {
        if let Ok(mut f) = self.0.failure.lock() {
            f.get_or_insert(reason);
        }
    }
}

/// The receiver's end: resolves once every [`AckToken`] copy is gone.
#[derive(Debug)]
pub struct AckWaiter(oneshot::Receiver<Result<(), AckFailure>>);

impl AckWaiter {
    /// Waits for the outcome: `Ok` when the data is safe, otherwise the first
    /// failure reason.
    pub async fn wait(self) -> Result<(), AckFailure> {
        // The sender lives in the shared state and always sends on drop; a
        // receive error would mean the runtime itself is going away.
        self.0.await.unwrap_or(Err(AckFailure("shutdown")))
    }
}

/// A token for a batch and the waiter for its client's answer.
pub fn ack_pair() -> (AckToken, AckWaiter) {
    let (tx, rx) = oneshot::channel();
    let state = AckState {
        failure: Mutex::new(None),
        tx: Mutex::new(Some(tx)),
    };
    (AckToken(Arc::new(state)), AckWaiter(rx))
}

/// The acknowledgement tokens a batch carries: one per request it came from
/// (none when no receiver asked). Dropping them settles those requests as
/// delivered.
#[derive(Debug, Clone, Default)]
pub struct Acks(Vec<AckToken>);

impl Acks {
    /// No tokens.
    pub const fn none() -> Self {
        Acks(Vec::new())
    }

    /// Carries `token`.
    pub fn one(token: AckToken) -> Self {
        Acks(vec![token])
    }

    /// Whether any request waits on this batch.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many requests wait on this batch.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Takes over `other`'s tokens (a merge of two batches).
    pub fn absorb(&mut self, other: Acks) {
        self.0.extend(other.0);
    }

    /// Adds `token`.
    pub fn push(&mut self, token: AckToken) {
        self.0.push(token);
    }

    /// Settles every request as delivered (as far as this holder goes).
    pub fn succeed(&mut self) {
        self.0.clear();
    }

    /// Settles every request as failed for `reason`.
    pub fn fail(&mut self, reason: &'static str) {
        for t in self.0.drain(..) {
            t.fail(reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn success_when_all_copies_go_failure_when_any_fails() {
        let (t, w) = ack_pair();
        let mut a = Acks::one(t.clone());
        let b = a.clone();
        drop(t);
        a.succeed();
        drop(b);
        assert_eq!(w.wait().await, Ok(()));

        let (t, w) = ack_pair();
        let mut merged = Acks::none();
        merged.absorb(Acks::one(t.clone()));
        drop(t);
        merged.fail("queue_full");
        assert_eq!(w.wait().await, Err(AckFailure("queue_full")));
    }

    #[tokio::test]
    async fn the_first_failure_reason_wins() {
        let (t, w) = ack_pair();
        let u = t.clone();
        t.fail("first");
        u.fail("second");
        drop((t, u));
        assert_eq!(w.wait().await, Err(AckFailure("first")));
    }
}
