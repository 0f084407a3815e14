//! Faults on cue: failures, dropped connections and delay, set through
//! [`crate::Control`] and taken by the requests they apply to.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// Which routes the faults set by [`crate::Control`] (failures, drops,
/// delay) apply to. [`crate::Control::reject_all_keys`] always applies to
/// every route: it is about keys, not routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FaultScope {
    /// The three `POST /ingest/...` routes (default), so a client's settings
    /// fetch does not use up a failure meant for its batches.
    #[default]
    Ingest,
    /// `GET /settings` only (to test a client's fallback to the defaults).
    Settings,
    /// Every known route.
    All,
}

/// How an injected failure answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<u64>,
}

/// What a request must suffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Close the connection without an answer.
    Drop,
    /// Answer with this failure.
    Fail(Failure),
}

/// The faults waiting for requests.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    pub(crate) scope: FaultScope,
    /// Wait this long before answering (in scope only).
    pub(crate) delay: Duration,
    /// Requests left to drop.
    pub(crate) drop_next: usize,
    /// Failures for the next requests, in order: `(count left, failure)`.
    pub(crate) fail_next: VecDeque<(usize, Failure)>,
    /// A failure for every request until the deadline.
    pub(crate) fail_until: Option<(Instant, Failure)>,
}

impl Faults {
    /// Takes the fault for one in-scope request, if any: drops first, then
    /// counted failures, then a timed failure.
    pub(crate) fn take(&mut self, now: Instant) -> Option<Fault> {
        if self.drop_next > 0 {
            self.drop_next -= 1;
            return Some(Fault::Drop);
        }
        if let Some((left, failure)) = self.fail_next.front_mut() {
            let failure = *failure;
            *left -= 1;
            if *left == 0 {
                self.fail_next.pop_front();
            }
            return Some(Fault::Fail(failure));
        }
        match self.fail_until {
            Some((until, failure)) if now < until => Some(Fault::Fail(failure)),
            Some(_) => {
                self.fail_until = None;
                None
            }
            None => None,
        }
    }

    /// Back to a healthy server (the scope stays).
    pub(crate) fn clear(&mut self) {
        *self = Faults {
            scope: self.scope,
            ..Faults::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_then_counted_then_timed() {
        let now = Instant::now();
        let f503 = Failure {
            status: 503,
            retry_after: Some(60),
        };
        let f500 = Failure {
            status: 500,
            retry_after: None,
        };
        let mut f = Faults {
            drop_next: 1,
            fail_next: VecDeque::from([(2, f503), (1, f500)]),
            fail_until: Some((now + Duration::from_secs(1), f500)),
            ..Faults::default()
        };
        assert_eq!(f.take(now), Some(Fault::Drop));
        assert_eq!(f.take(now), Some(Fault::Fail(f503)));
        assert_eq!(f.take(now), Some(Fault::Fail(f503)));
        assert_eq!(f.take(now), Some(Fault::Fail(f500)));
        assert_eq!(f.take(now), Some(Fault::Fail(f500)), "timed");
        assert_eq!(f.take(now + Duration::from_secs(1)), None);
        assert!(f.fail_until.is_none());
    }
}
