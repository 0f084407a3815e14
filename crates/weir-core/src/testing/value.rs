//! Attribute values in one word: [`IntoAnyValue`], [`kv`], and the readers
//! [`attr`] and [`attr_str`].

use crate::otlp::common::v1::{AnyValue, ArrayValue, KeyValue, any_value::Value};

/// Anything that reads naturally as an OTLP attribute or body value: strings,
/// integers, floats, booleans, lists of those, or an [`AnyValue`] itself.
///
/// ```
/// use weir_core::otlp::common::v1::any_value::Value;
/// use weir_core::testing::IntoAnyValue;
///
/// assert_eq!("ada".into_any_value().value, Some(Value::StringValue("ada".into())));
/// assert_eq!(3.into_any_value().value, Some(Value::IntValue(3)));
/// assert_eq!(true.into_any_value().value, Some(Value::BoolValue(true)));
/// ```
pub trait IntoAnyValue {
    /// The OTLP value.
    fn into_any_value(self) -> AnyValue;
}

fn any(value: Value) -> AnyValue {
    AnyValue { value: Some(value) }
}

impl IntoAnyValue for AnyValue {
    fn into_any_value(self) -> AnyValue {
        self
    }
}

impl IntoAnyValue for Value {
    fn into_any_value(self) -> AnyValue {
        any(self)
    }
}

impl IntoAnyValue for &str {
    fn into_any_value(self) -> AnyValue {
        any(Value::StringValue(self.to_owned()))
    }
}

impl IntoAnyValue for String {
    fn into_any_value(self) -> AnyValue {
        any(Value::StringValue(self))
    }
}

impl IntoAnyValue for &String {
    fn into_any_value(self) -> AnyValue {
        any(Value::StringValue(self.clone()))
    }
}

impl IntoAnyValue for bool {
    fn into_any_value(self) -> AnyValue {
        any(Value::BoolValue(self))
    }
}

impl IntoAnyValue for i64 {
    fn into_any_value(self) -> AnyValue {
        any(Value::IntValue(self))
    }
}

impl IntoAnyValue for i32 {
    fn into_any_value(self) -> AnyValue {
        any(Value::IntValue(self.into()))
    }
}

impl IntoAnyValue for u32 {
    fn into_any_value(self) -> AnyValue {
        any(Value::IntValue(self.into()))
    }
}

impl IntoAnyValue for f64 {
    fn into_any_value(self) -> AnyValue {
        any(Value::DoubleValue(self))
    }
}

impl<T: IntoAnyValue> IntoAnyValue for Vec<T> {
    fn into_any_value(self) -> AnyValue {
        any(Value::ArrayValue(ArrayValue {
            values: self.into_iter().map(IntoAnyValue::into_any_value).collect(),
        }))
    }
}

/// One attribute.
///
/// ```
/// use weir_core::testing::{attr_str, kv};
///
/// let attrs = vec![kv("user", "ada"), kv("retries", 2)];
/// assert_eq!(attr_str(&attrs, "user"), Some("ada"));
/// ```
pub fn kv(key: &str, value: impl IntoAnyValue) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(value.into_any_value()),
        ..Default::default()
    }
}

/// The value of attribute `key` (the first one, as OTLP readers do).
///
/// ```
/// use weir_core::otlp::common::v1::any_value::Value;
/// use weir_core::testing::{attr, kv};
///
/// let attrs = vec![kv("retries", 2)];
/// assert_eq!(attr(&attrs, "retries"), Some(&Value::IntValue(2)));
/// assert_eq!(attr(&attrs, "missing"), None);
/// ```
pub fn attr<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

/// The value of attribute `key` when it is a string.
///
/// ```
/// use weir_core::testing::{attr_str, kv};
///
/// let attrs = vec![kv("user", "ada"), kv("retries", 2)];
/// assert_eq!(attr_str(&attrs, "user"), Some("ada"));
/// assert_eq!(attr_str(&attrs, "retries"), None, "not a string");
/// ```
pub fn attr_str<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
    match attr(attributes, key) {
        Some(Value::StringValue(s)) => Some(s),
        _ => None,
    }
}

/// `value` when it is a string.
pub(crate) fn as_str(value: Option<&AnyValue>) -> Option<&str> {
    match value?.value.as_ref()? {
        Value::StringValue(s) => Some(s),
        _ => None,
    }
}
