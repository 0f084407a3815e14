//! Export calls start in queue order. Each delivery runs as its own task,
//! and tasks start in whatever order the scheduler picks; an exporter that
//! keeps order itself (the `ledger` exporter's `ordered: true` takes its
//! place in line when `export` is first polled) needs the calls to begin in
//! the order the batches left the queue. So a delivery waits for its turn to
//! make its first poll, and the next one may start right after, once that
//! poll is done: the calls still overlap, only their starts are ordered.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use tokio::sync::watch;

/// Hands out turns in queue order; one per exporter task.
pub struct Turns {
    started: Arc<watch::Sender<u64>>,
    next: u64,
}

/// One delivery's place in line.
pub struct Turn {
    started: Arc<watch::Sender<u64>>,
    n: u64,
}

impl Turns {
    /// Turns starting at 0.
    pub fn new() -> Self {
        Turns {
            started: Arc::new(watch::Sender::new(0)),
            next: 0,
        }
    }

    /// The next turn, taken where the batch leaves the queue.
    pub fn take(&mut self) -> Turn {
        let n = self.next;
        self.next += 1;
        Turn {
            started: self.started.clone(),
            n,
        }
    }
}

impl Turn {
    /// Runs `call` once every earlier turn has made its first poll.
    pub async fn run<F: Future>(self, call: F) -> F::Output {
        let mut rx = self.started.subscribe();
        // The sender lives in `self`, so this never fails.
        let _ = rx.wait_for(|s| *s >= self.n).await;
        let mut call = pin!(call);
        std::future::poll_fn(|cx| {
            let r = call.as_mut().poll(cx);
            self.open();
            match r {
                Poll::Ready(v) => Poll::Ready(v),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }

    /// Lets the next turn start.
    fn open(&self) {
        let next = self.n + 1;
        self.started.send_if_modified(|s| {
            let moved = *s < next;
            *s = (*s).max(next);
            moved
        });
    }
}

impl Drop for Turn {
    /// A delivery that ends, panics or is dropped before its first poll (only
    /// at teardown) must not hold the later ones back.
    fn drop(&mut self) {
        self.open();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn calls_start_in_turn_order_whatever_order_the_tasks_run() {
        let mut turns = Turns::new();
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut taken: Vec<Turn> = (0..20).map(|_| turns.take()).collect();
        let mut tasks = Vec::new();
        // Spawn in reverse, so the tasks would start the calls backwards.
        while let Some(turn) = taken.pop() {
            let log = log.clone();
            let n = turn.n;
            tasks.push(tokio::spawn(turn.run(async move {
                log.lock().unwrap().push(n); // what the first poll does
                tokio::time::sleep(Duration::from_millis(5)).await;
                n
            })));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*log.lock().unwrap(), (0..20).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_turn_dropped_before_its_call_does_not_block_the_next() {
        let mut turns = Turns::new();
        let first = turns.take();
        let second = turns.take();
        drop(tokio::spawn(first.run(std::future::pending::<()>())));
        // `first` started and is pending forever: `second` may still start.
        let r = tokio::time::timeout(Duration::from_secs(1), second.run(async { 7 })).await;
        assert_eq!(r.unwrap(), 7);
        let third = turns.take();
        let fourth = turns.take();
        drop(third); // never run at all
        let r = tokio::time::timeout(Duration::from_secs(1), fourth.run(async { 1 })).await;
        assert_eq!(r.unwrap(), 1, "a turn never run does not block the next");
    }
}
