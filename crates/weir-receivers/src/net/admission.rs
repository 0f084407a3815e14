//! What both network receivers check around a request: the process memory
//! budget before reading it (`service.memory_limit`), and, with
//! `acknowledgements: true`, the wait for its data to be delivered before
//! answering. Each receiver turns the outcome into its protocol's answer.

use std::time::Duration;

use weir_core::Signal;
use weir_core::ack::{AckFailure, AckToken, AckWaiter, ack_pair};
use weir_core::memory::{MemoryBudget, MemoryLease};
use weir_core::telemetry::{ComponentTelemetry, Counter, reasons};

/// The memory and acknowledgement side of taking requests.
pub(crate) struct Admission {
    memory: MemoryBudget,
    /// Requests refused over the memory limit, by signal (unread, so each
    /// counts 1).
    over_memory: [Counter; 3],
    acks: Option<AckWait>,
}

/// `acknowledgements: true`: how long to wait, and the refusals it counts.
struct AckWait {
    timeout: Duration,
    not_delivered: [Counter; 3],
    timed_out: [Counter; 3],
}

/// Why a request's data was not confirmed delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unacknowledged {
    /// An exporter gave it up, for this reason.
    NotDelivered(&'static str),
    /// No answer within the acknowledgement timeout.
    TimedOut(Duration),
}

impl Admission {
    /// No memory limit, no acknowledgements.
    pub(crate) fn new() -> Self {
        Admission {
            memory: MemoryBudget::unlimited(),
            over_memory: Signal::ALL.map(|_| Counter::detached()),
            acks: None,
        }
    }

    /// What a receiver's config asks for: `memory` (the service's budget),
    /// and acknowledgements waited for up to `acknowledgement` when on.
    pub(crate) fn configured(
        memory: MemoryBudget,
        acknowledgement: Option<Duration>,
        telemetry: &ComponentTelemetry,
    ) -> Self {
        let admission = Admission::new().with_memory(memory, telemetry);
        match acknowledgement {
            Some(timeout) => admission.with_acknowledgements(timeout, telemetry),
            None => admission,
        }
    }

    /// Answers requests only once their data is delivered, waiting at most
    /// `timeout`.
    pub(crate) fn with_acknowledgements(
        mut self,
        timeout: Duration,
        telemetry: &ComponentTelemetry,
    ) -> Self {
        self.acks = Some(AckWait {
            timeout,
            not_delivered: Signal::ALL.map(|s| telemetry.refused_items(s, reasons::NOT_DELIVERED)),
            timed_out: Signal::ALL.map(|s| telemetry.refused_items(s, reasons::ACK_TIMEOUT)),
        });
        self
    }

    /// Refuses requests while the process is over `memory`.
    pub(crate) fn with_memory(
        mut self,
        memory: MemoryBudget,
        telemetry: &ComponentTelemetry,
    ) -> Self {
        if memory.limit().is_some() {
            self.over_memory =
                Signal::ALL.map(|s| telemetry.refused_items(s, reasons::MEMORY_LIMIT));
        }
        self.memory = memory;
        self
    }

    /// The longest a request waits for its acknowledgement (zero without).
    pub(crate) fn ack_timeout(&self) -> Duration {
        self.acks.as_ref().map_or(Duration::ZERO, |a| a.timeout)
    }

    /// Whether the process is over its memory budget; counts a refusal of a
    /// `signal` request if so. One atomic load or two.
    pub(crate) fn over_memory(&self, signal: Signal) -> bool {
        let over = self.memory.is_over();
        if over {
            self.over_memory[signal.index()].inc();
        }
        over
    }

    /// Leases `bytes` of a request body from the memory budget.
    pub(crate) fn lease(&self, bytes: usize) -> MemoryLease {
        self.memory.lease(bytes)
    }

    /// A token for the request's batch and the waiter for its answer, when
    /// acknowledgements are on.
    pub(crate) fn ack_pair(&self) -> Option<(AckToken, AckWaiter)> {
        self.acks.as_ref().map(|_| ack_pair())
    }

    /// Waits for the `items` of a `signal` request to be delivered; a refusal
    /// is counted.
    pub(crate) async fn acknowledged(
        &self,
        signal: Signal,
        items: u64,
        waiter: AckWaiter,
    ) -> Result<(), Unacknowledged> {
        let Some(acks) = &self.acks else {
            return Ok(());
        };
        match tokio::time::timeout(acks.timeout, waiter.wait()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(AckFailure(reason))) => {
                acks.not_delivered[signal.index()].add(items);
                Err(Unacknowledged::NotDelivered(reason))
            }
            Err(_) => {
                acks.timed_out[signal.index()].add(items);
                Err(Unacknowledged::TimedOut(acks.timeout))
            }
        }
    }
}
