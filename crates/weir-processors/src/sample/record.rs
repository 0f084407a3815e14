//! What sampling reads from and writes to a log record or a span, behind one
//! trait so the rules are written once.

use weir_core::otlp::common::v1::{AnyValue, KeyValue, any_value};
use weir_core::otlp::logs::v1::LogRecord;
use weir_core::otlp::trace::v1::{Span, status};

use super::config::SeverityLevel;

/// The attribute kept items carry their sampling ratio in.
pub const SAMPLING_RATIO: &str = "sampling.ratio";

/// A log record or a span, as sampling sees it.
pub trait Item {
    /// Its own attributes.
    fn attributes(&self) -> &[KeyValue];
    /// Its own attributes, for changing.
    fn attributes_mut(&mut self) -> &mut Vec<KeyValue>;
    /// Its trace id, when it has a valid one (16 bytes, not all zero).
    fn trace_id(&self) -> Option<&[u8]>;
    /// Its OTLP severity number (logs; 0 when unknown).
    fn severity(&self) -> i32;
    /// Whether its status is error (spans).
    fn is_error(&self) -> bool;
}

fn valid_trace_id(id: &[u8]) -> Option<&[u8]> {
    (id.len() == 16 && id.iter().any(|b| *b != 0)).then_some(id)
}

impl Item for LogRecord {
    fn attributes(&self) -> &[KeyValue] {
        &self.attributes
    }
    fn attributes_mut(&mut self) -> &mut Vec<KeyValue> {
        &mut self.attributes
    }
    fn trace_id(&self) -> Option<&[u8]> {
        valid_trace_id(&self.trace_id)
    }
    /// The severity number, or, when it is unset, the level its text names
    /// (`WARN`, `Error`, ...), so records from sources that only set the text
    /// still meet `min_severity`.
    fn severity(&self) -> i32 {
        if self.severity_number > 0 {
            self.severity_number
        } else {
            SeverityLevel::from_name(self.severity_text.trim()).unwrap_or(0)
        }
    }
    fn is_error(&self) -> bool {
        false
    }
}

impl Item for Span {
    fn attributes(&self) -> &[KeyValue] {
        &self.attributes
    }
    fn attributes_mut(&mut self) -> &mut Vec<KeyValue> {
        &mut self.attributes
    }
    /// Spans are hashed by whatever id they carry, even an invalid one, so
    /// every span of one trace still decides alike.
    fn trace_id(&self) -> Option<&[u8]> {
        Some(&self.trace_id)
    }
    fn severity(&self) -> i32 {
        0
    }
    fn is_error(&self) -> bool {
        self.status
            .as_ref()
            .is_some_and(|s| s.code == status::StatusCode::Error as i32)
    }
}

/// The value of attribute `key`: the item's own, else the resource's.
#[inline]
pub fn lookup<'a>(
    item: &'a [KeyValue],
    resource: &'a [KeyValue],
    key: &str,
) -> Option<&'a any_value::Value> {
    find(item, key).or_else(|| find(resource, key))
}

#[inline]
fn find<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

/// Records `ratio` on a kept item: multiplies an existing double
/// `sampling.ratio` (an earlier sampler's), else sets it.
pub fn mark_ratio(attrs: &mut Vec<KeyValue>, ratio: f64) {
    if let Some(kv) = attrs.iter_mut().find(|kv| kv.key == SAMPLING_RATIO) {
        let earlier = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
            Some(any_value::Value::DoubleValue(d)) if *d > 0.0 && *d <= 1.0 => *d,
            _ => 1.0,
        };
        kv.value = Some(double(earlier * ratio));
    } else {
        // The one allocation sampling makes, and only for kept items below
        // 1.0: OTLP keys are owned strings.
        attrs.push(KeyValue {
            key: SAMPLING_RATIO.to_string(),
            value: Some(double(ratio)),
            ..Default::default()
        });
    }
}

fn double(v: f64) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::DoubleValue(v)),
    }
}
