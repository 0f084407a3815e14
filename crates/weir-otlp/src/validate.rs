//! Item-level validity: the checks a receiver applies to each log record and
//! span, so that a request with a few bad items is taken in part (the rest go
//! on, the bad ones are refused with `partial_success`) instead of whole or not
//! at all.
//!
//! An item is invalid when its ids have impossible lengths, which no SDK sends
//! and no backend can index:
//! - a log record whose `trace_id` is neither empty nor 16 bytes, or whose
//!   `span_id` is neither empty nor 8 bytes (the ids are optional on logs);
//! - a span whose `trace_id` is not 16 bytes or whose `span_id` is not 8 bytes
//!   (both required), or whose `parent_span_id` is neither empty nor 8 bytes.
//!
//! Metric data points have no item-level check. The protobuf walk
//! ([`crate::wire::inspect`]) counts the same invalid items without decoding,
//! so the all-valid common case stays decode-free; only a request with invalid
//! items is decoded and filtered with [`remove_invalid`].

use weir_core::SignalData;
use weir_core::otlp::logs::v1::LogRecord;
use weir_core::otlp::trace::v1::Span;

/// Length of a trace id in bytes.
pub const TRACE_ID_LEN: usize = 16;
/// Length of a span id in bytes.
pub const SPAN_ID_LEN: usize = 8;

/// Why a log record with these id lengths is invalid; `None` when it is valid.
#[inline]
pub fn log_ids_problem(trace_id_len: usize, span_id_len: usize) -> Option<&'static str> {
    if trace_id_len != 0 && trace_id_len != TRACE_ID_LEN {
        Some("log record trace_id is neither empty nor 16 bytes")
    } else if span_id_len != 0 && span_id_len != SPAN_ID_LEN {
        Some("log record span_id is neither empty nor 8 bytes")
    } else {
        None
    }
}

/// Why a span with these id lengths is invalid; `None` when it is valid.
#[inline]
pub fn span_ids_problem(
    trace_id_len: usize,
    span_id_len: usize,
    parent_span_id_len: usize,
) -> Option<&'static str> {
    if trace_id_len != TRACE_ID_LEN {
        Some("span trace_id is not 16 bytes")
    } else if span_id_len != SPAN_ID_LEN {
        Some("span span_id is not 8 bytes")
    } else if parent_span_id_len != 0 && parent_span_id_len != SPAN_ID_LEN {
        Some("span parent_span_id is neither empty nor 8 bytes")
    } else {
        None
    }
}

/// Why `record` is invalid; `None` when it is valid.
pub fn log_record_problem(record: &LogRecord) -> Option<&'static str> {
    log_ids_problem(record.trace_id.len(), record.span_id.len())
}

/// Why `span` is invalid; `None` when it is valid.
pub fn span_problem(span: &Span) -> Option<&'static str> {
    span_ids_problem(
        span.trace_id.len(),
        span.span_id.len(),
        span.parent_span_id.len(),
    )
}

/// Items refused as invalid, and why.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rejections {
    /// How many items were refused.
    pub items: usize,
    /// The first few reasons, each with the item's path, e.g.
    /// `resource_spans[0].scope_spans[1].spans[3]: span trace_id is not 16 bytes`.
    pub reasons: Vec<String>,
}

/// Reasons kept per request: enough to see what is wrong, bounded so that a
/// request of a million bad items does not build a million strings.
pub const MAX_REASONS: usize = 5;

impl Rejections {
    /// Counts one refused item and keeps its reason if there is room.
    pub fn push(&mut self, reason: impl FnOnce() -> String) {
        self.items += 1;
        if self.reasons.len() < MAX_REASONS {
            self.reasons.push(reason());
        }
    }

    /// Adds `other`'s items and reasons (reasons up to [`MAX_REASONS`]).
    pub fn extend(&mut self, other: Rejections) {
        self.items += other.items;
        let room = MAX_REASONS.saturating_sub(self.reasons.len());
        self.reasons.extend(other.reasons.into_iter().take(room));
    }

    /// True when nothing was refused.
    pub fn is_empty(&self) -> bool {
        self.items == 0
    }

    /// A one-line summary for `partial_success.error_message`, e.g.
    /// `2 invalid items refused: <reason>; <reason>`.
    pub fn message(&self) -> String {
        let noun = if self.items == 1 { "item" } else { "items" };
        let mut m = format!("{} invalid {noun} refused: ", self.items);
        m.push_str(&self.reasons.join("; "));
        if self.items > self.reasons.len() {
            m.push_str("; ...");
        }
        m
    }
}

/// Removes invalid log records and spans from `data` (metrics have no
/// item-level check), dropping scopes and resources that lose all their items
/// that way (ones that came empty are kept), and says what was removed.
pub fn remove_invalid(data: &mut SignalData) -> Rejections {
    let mut out = Rejections::default();
    match data {
        SignalData::Logs(resources) => filter_tree(
            resources,
            |r| &mut r.scope_logs,
            |s| &mut s.log_records,
            |(ri, si, i), rec| match log_record_problem(rec) {
                None => true,
                Some(p) => {
                    out.push(|| {
                        format!("resource_logs[{ri}].scope_logs[{si}].log_records[{i}]: {p}")
                    });
                    false
                }
            },
        ),
        SignalData::Traces(resources) => filter_tree(
            resources,
            |r| &mut r.scope_spans,
            |s| &mut s.spans,
            |(ri, si, i), span| match span_problem(span) {
                None => true,
                Some(p) => {
                    out.push(|| format!("resource_spans[{ri}].scope_spans[{si}].spans[{i}]: {p}"));
                    false
                }
            },
        ),
        SignalData::Metrics(_) => {}
    }
    out
}

/// Keeps the items `keep` accepts (it gets their original resource, scope and
/// item indexes), then drops scopes and resources left empty by that; ones that
/// came empty stay, as they would have passed through.
fn filter_tree<R, S, I>(
    resources: &mut Vec<R>,
    scopes: fn(&mut R) -> &mut Vec<S>,
    items: fn(&mut S) -> &mut Vec<I>,
    mut keep: impl FnMut((usize, usize, usize), &I) -> bool,
) {
    let mut ri = 0;
    resources.retain_mut(|r| {
        let list = scopes(r);
        let had_scopes = !list.is_empty();
        let mut si = 0;
        list.retain_mut(|s| {
            let its = items(s);
            let had_items = !its.is_empty();
            let mut i = 0;
            its.retain(|item| {
                let k = keep((ri, si, i), item);
                i += 1;
                k
            });
            si += 1;
            !(had_items && its.is_empty())
        });
        ri += 1;
        !(had_scopes && list.is_empty())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_core::otlp::logs::v1::{ResourceLogs, ScopeLogs};
    use weir_core::otlp::trace::v1::{ResourceSpans, ScopeSpans};

    fn rec(trace: usize, span: usize) -> LogRecord {
        LogRecord {
            trace_id: vec![1; trace],
            span_id: vec![2; span],
            ..Default::default()
        }
    }

    fn span(trace: usize, span: usize, parent: usize) -> Span {
        Span {
            trace_id: vec![1; trace],
            span_id: vec![2; span],
            parent_span_id: vec![3; parent],
            ..Default::default()
        }
    }

    #[test]
    fn id_rules() {
        assert_eq!(log_record_problem(&rec(0, 0)), None);
        assert_eq!(log_record_problem(&rec(16, 8)), None);
        assert!(log_record_problem(&rec(15, 8)).is_some());
        assert!(log_record_problem(&rec(16, 9)).is_some());
        assert_eq!(span_problem(&span(16, 8, 0)), None);
        assert_eq!(span_problem(&span(16, 8, 8)), None);
        assert!(span_problem(&span(0, 8, 0)).is_some());
        assert!(span_problem(&span(16, 0, 0)).is_some());
        assert!(span_problem(&span(16, 8, 4)).is_some());
    }

    #[test]
    fn removes_bad_items_and_what_they_leave_empty() {
        let scope = |records| ScopeLogs {
            log_records: records,
            ..Default::default()
        };
        let mut data = SignalData::Logs(vec![
            ResourceLogs {
                scope_logs: vec![scope(vec![rec(3, 0)]), scope(vec![rec(0, 0), rec(1, 0)])],
                ..Default::default()
            },
            ResourceLogs {
                scope_logs: vec![scope(vec![rec(2, 2)])],
                ..Default::default()
            },
            // Came empty: stays, as it would have passed through.
            ResourceLogs {
                scope_logs: vec![scope(vec![])],
                ..Default::default()
            },
        ]);
        let r = remove_invalid(&mut data);
        assert_eq!(r.items, 3);
        assert_eq!(
            r.reasons[0],
            "resource_logs[0].scope_logs[0].log_records[0]: log record trace_id is neither empty nor 16 bytes"
        );
        assert!(r.reasons[1].starts_with("resource_logs[0].scope_logs[1].log_records[1]: "));
        assert!(r.reasons[2].starts_with("resource_logs[1].scope_logs[0].log_records[0]: "));
        let SignalData::Logs(l) = &data else {
            unreachable!()
        };
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].scope_logs.len(), 1);
        assert_eq!(l[0].scope_logs[0].log_records, vec![rec(0, 0)]);
        assert!(l[1].scope_logs[0].log_records.is_empty());
        assert!(
            r.message()
                .starts_with("3 invalid items refused: resource_logs[0]")
        );

        let mut traces = SignalData::Traces(vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: (0..20).map(|i| span(16, 8 * (i % 2), 0)).collect(),
                ..Default::default()
            }],
            ..Default::default()
        }]);
        let r = remove_invalid(&mut traces);
        assert_eq!((r.items, r.reasons.len()), (10, MAX_REASONS));
        assert!(r.message().ends_with("; ..."));
        assert_eq!(traces.item_count(), 10);
    }
}
