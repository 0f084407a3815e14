//! Errors and outcomes of components at run time.

use std::borrow::Cow;
use std::time::Duration;

/// A component failed at run time (a receiver could not bind, a processor met
/// data it cannot handle, ...). The runtime logs it with the component id.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ComponentError {
    message: String,
}

impl ComponentError {
    /// An error with a message that says what failed and on what.
    pub fn new(message: impl Into<String>) -> Self {
        ComponentError {
            message: message.into(),
        }
    }
}

impl From<std::io::Error> for ComponentError {
    fn from(e: std::io::Error) -> Self {
        ComponentError::new(e.to_string())
    }
}

impl From<crate::BatchError> for ComponentError {
    fn from(e: crate::BatchError) -> Self {
        ComponentError::new(e.to_string())
    }
}

/// What an export call delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOutcome {
    /// Items the destination accepted.
    pub sent: usize,
    /// Items the destination refused for good (partial success).
    pub rejected: usize,
    /// Why items were refused, as the destination said.
    pub message: Option<String>,
}

impl ExportOutcome {
    /// Every one of `items` was delivered.
    pub fn delivered(items: usize) -> Self {
        ExportOutcome {
            sent: items,
            rejected: 0,
            message: None,
        }
    }

    /// Part was delivered, part refused for good.
    pub fn partial(sent: usize, rejected: usize, message: impl Into<String>) -> Self {
        ExportOutcome {
            sent,
            rejected,
            message: Some(message.into()),
        }
    }
}

/// Why an export call did not deliver. The harness retries [`ExportError::Retryable`]
/// with jittered backoff (waiting at least `after` when given) and counts
/// [`ExportError::Permanent`] as failed items.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExportError {
    /// Worth trying again: a timeout, a 503, a connection reset.
    #[error("retryable ({reason}): {message}")]
    Retryable {
        /// Short label for metrics, e.g. `http_503`, `timeout`.
        reason: Cow<'static, str>,
        /// Human-readable detail.
        message: String,
        /// The destination's Retry-After, if it gave one.
        after: Option<Duration>,
    },
    /// Will never succeed with this data: a 400, a schema error.
    #[error("permanent ({reason}): {message}")]
    Permanent {
        /// Short label for metrics, e.g. `http_400`.
        reason: Cow<'static, str>,
        /// Human-readable detail.
        message: String,
    },
}

impl ExportError {
    /// A retryable error.
    pub fn retryable(reason: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        ExportError::Retryable {
            reason: reason.into(),
            message: message.into(),
            after: None,
        }
    }

    /// A retryable error with the destination's requested wait.
    pub fn retry_after(
        reason: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
        after: Duration,
    ) -> Self {
        ExportError::Retryable {
            reason: reason.into(),
            message: message.into(),
            after: Some(after),
        }
    }

    /// A permanent error.
    pub fn permanent(reason: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        ExportError::Permanent {
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// The metrics label of this error.
    pub fn reason(&self) -> &str {
        match self {
            ExportError::Retryable { reason, .. } | ExportError::Permanent { reason, .. } => reason,
        }
    }

    /// Whether the harness should try again.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ExportError::Retryable { .. })
    }
}
