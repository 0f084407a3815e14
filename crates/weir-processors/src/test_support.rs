//! Helpers shared by the processors' tests.

use weir_core::SignalData;

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
