//! What sampling reads from and writes to a log record or a span, behind one
//! trait so the rules are written once, for decoded records and for records
//! read in place from the received bytes (`wire.rs`) alike.

use weir_core::otlp::common::v1::{AnyValue, KeyValue, any_value};
use weir_core::otlp::logs::v1::LogRecord;
use weir_core::otlp::trace::v1::{Span, status};
use weir_otlp::splice::attrs::{AttrRef, ValueRef};

use super::config::SeverityLevel;

/// Attributes, looked up by key (the first of that key).
pub trait Attrs {
    /// The value of attribute `key`.
    fn get(&self, key: &str) -> Option<ValueRef<'_>>;
}

impl Attrs for [KeyValue] {
    #[inline]
    fn get(&self, key: &str) -> Option<ValueRef<'_>> {
        // A key without a value counts as absent, so the resource is asked.
        self.iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref())
            .filter(|v| v.value.is_some())
            .map(|v| ValueRef::view(Some(v)))
    }
}

impl Attrs for [AttrRef<'_>] {
    #[inline]
    fn get(&self, key: &str) -> Option<ValueRef<'_>> {
        let key = key.as_bytes();
        self.iter().find(|a| a.key_bytes == key).map(|a| a.value())
    }
}

/// The attribute kept items carry their sampling ratio in.
pub const SAMPLING_RATIO: &str = "sampling.ratio";

/// A log record or a span, as sampling sees it.
pub trait Item {
    /// How its attributes are held.
    type Attrs: Attrs + ?Sized;
    /// Its own attributes.
    fn attrs(&self) -> &Self::Attrs;
    /// Its trace id, when it has a valid one (16 bytes, not all zero).
    fn trace_id(&self) -> Option<&[u8]>;
    /// Its OTLP severity number (logs; 0 when unknown).
    fn severity(&self) -> i32;
    /// Whether its status is error (spans).
    fn is_error(&self) -> bool;
}

/// A log record's trace id, when valid: 16 bytes, not all zero.
pub fn valid_trace_id(id: &[u8]) -> Option<&[u8]> {
    (id.len() == 16 && id.iter().any(|b| *b != 0)).then_some(id)
}

impl Item for LogRecord {
    type Attrs = [KeyValue];
    fn attrs(&self) -> &[KeyValue] {
        &self.attributes
    }
    fn trace_id(&self) -> Option<&[u8]> {
        valid_trace_id(&self.trace_id)
    }
    /// The severity number, or, when it is unset, the level its text names
    /// (`WARN`, `Error`, ...), so records from sources that only set the text
    /// still meet `min_severity`.
    fn severity(&self) -> i32 {
        severity(self.severity_number, &self.severity_text)
    }
    fn is_error(&self) -> bool {
        false
    }
}

/// A severity number, or, when it is unset, the level its text names.
pub fn severity(number: i32, text: &str) -> i32 {
    if number > 0 {
        number
    } else {
        SeverityLevel::from_name(text.trim()).unwrap_or(0)
    }
}

impl Item for Span {
    type Attrs = [KeyValue];
    fn attrs(&self) -> &[KeyValue] {
        &self.attributes
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
pub fn lookup<'a, A: Attrs + ?Sized, R: Attrs + ?Sized>(
    item: &'a A,
    resource: &'a R,
    key: &str,
) -> Option<ValueRef<'a>> {
    item.get(key).or_else(|| resource.get(key))
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
