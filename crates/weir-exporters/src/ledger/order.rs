//! Sending in queue order. The harness may run several exports at once
//! (`max_in_flight`); with `ordered: true` they still encode in parallel,
//! but send one after another in the order the harness started them, and a
//! failed request is retried in its turn, so a batch that hit a 503 never
//! lands after one taken from the queue behind it.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::watch;

/// The turn keeper of one exporter.
#[derive(Debug)]
pub(crate) struct Order {
    next: AtomicU64,
    serving: watch::Sender<u64>,
    /// Tickets finished out of turn (only a cancelled export does that).
    done: Mutex<BTreeSet<u64>>,
}

/// One export's place in line; gives its turn up when dropped, whether the
/// export finished or was cancelled.
#[derive(Debug)]
pub(crate) struct Ticket<'a> {
    order: &'a Order,
    n: u64,
}

impl Order {
    pub(crate) fn new() -> Self {
        Order {
            next: AtomicU64::new(0),
            serving: watch::Sender::new(0),
            done: Mutex::new(BTreeSet::new()),
        }
    }

    /// The next place in line. Take it before the first `.await`, so the
    /// order is the order the harness called in.
    pub(crate) fn ticket(&self) -> Ticket<'_> {
        Ticket {
            order: self,
            n: self.next.fetch_add(1, Ordering::Relaxed),
        }
    }
}

impl Ticket<'_> {
    /// Waits until every earlier ticket is done.
    pub(crate) async fn turn(&self) {
        let mut rx = self.order.serving.subscribe();
        // The sender lives as long as the order, which outlives its tickets.
        let _ = rx.wait_for(|s| *s == self.n).await;
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let mut done = self.order.done.lock().unwrap_or_else(|e| e.into_inner());
        done.insert(self.n);
        let mut serving = *self.order.serving.borrow();
        while done.remove(&serving) {
            serving += 1;
        }
        self.order.serving.send_replace(serving);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn turns_follow_the_tickets_even_when_later_ones_are_ready_first() {
        let order = Arc::new(Order::new());
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..4u64 {
            let (order, log) = (order.clone(), log.clone());
            // Tickets are taken in order 0..4, but the early ones are slow
            // to get ready.
            let ready = Duration::from_millis(40 - 10 * i);
            tasks.push(tokio::spawn(async move {
                let t = order.ticket();
                tokio::time::sleep(ready).await;
                t.turn().await;
                log.lock().unwrap().push(t.n);
            }));
            tokio::task::yield_now().await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*log.lock().unwrap(), vec![0, 1, 2, 3]);
    }

    #[tokio::test]
    async fn a_dropped_ticket_lets_the_next_go() {
        let order = Order::new();
        let first = order.ticket();
        let second = order.ticket();
        let third = order.ticket();
        drop(second); // cancelled out of turn
        drop(first);
        tokio::time::timeout(Duration::from_secs(1), third.turn())
            .await
            .expect("third's turn came");
    }
}
