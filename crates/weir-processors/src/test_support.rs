//! Helpers shared by the processors' tests.

use weir_core::otlp::common::v1::KeyValue;
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_core::otlp::resource::v1::Resource;
use weir_core::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span};
use weir_core::{Batch, BatchMeta, SignalData};

/// `data` without its empty scope and resource groups, which carry nothing:
/// a processor may keep them (an untouched batch passes as it came) or drop
/// them (a rebuilt one), and tests compare the data either way.
pub(crate) fn without_empty_groups(data: SignalData) -> SignalData {
    match data {
        SignalData::Logs(mut v) => {
            for r in &mut v {
                r.scope_logs.retain(|s| !s.log_records.is_empty());
            }
            v.retain(|r| !r.scope_logs.is_empty());
            SignalData::Logs(v)
        }
        SignalData::Traces(mut v) => {
            for r in &mut v {
                r.scope_spans.retain(|s| !s.spans.is_empty());
            }
            v.retain(|r| !r.scope_spans.is_empty());
            SignalData::Traces(v)
        }
        other => other,
    }
}

/// A logs batch of one scope group per `(resource, records)`.
pub(crate) fn logs_batch(
    groups: impl IntoIterator<Item = (Option<Resource>, Vec<LogRecord>)>,
) -> Batch {
    let logs = groups
        .into_iter()
        .map(|(resource, log_records)| ResourceLogs {
            resource,
            scope_logs: vec![ScopeLogs {
                log_records,
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    Batch::logs(logs, BatchMeta::default())
}

/// A traces batch of one scope group per `(resource, spans)`.
pub(crate) fn traces_batch(
    groups: impl IntoIterator<Item = (Option<Resource>, Vec<Span>)>,
) -> Batch {
    let traces = groups
        .into_iter()
        .map(|(resource, spans)| ResourceSpans {
            resource,
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    Batch::traces(traces, BatchMeta::default())
}

/// `attributes` as a resource.
pub(crate) fn resource(attributes: Vec<KeyValue>) -> Resource {
    Resource {
        attributes,
        ..Default::default()
    }
}
