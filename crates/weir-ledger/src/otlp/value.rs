//! OTLP `AnyValue` to JSON, for `attributes` and structured bodies.

use base64::Engine;
use serde_json::{Map, Number, Value};
use weir_core::otlp::common::v1::{AnyValue, any_value};

/// The JSON form of an OTLP value (see the table in [`crate::otlp`]).
pub fn any_value_to_json(value: &AnyValue) -> Value {
    let Some(value) = &value.value else {
        return Value::Null;
    };
    match value {
        any_value::Value::StringValue(s) => Value::String(s.clone()),
        any_value::Value::BoolValue(b) => Value::Bool(*b),
        any_value::Value::IntValue(i) => Value::Number((*i).into()),
        any_value::Value::DoubleValue(d) => match Number::from_f64(*d) {
            Some(n) => Value::Number(n),
            // JSON has no NaN or infinities; Python's own spelling as text.
            None if d.is_nan() => Value::String("NaN".into()),
            None if *d > 0.0 => Value::String("Infinity".into()),
            None => Value::String("-Infinity".into()),
        },
        any_value::Value::ArrayValue(a) => {
            Value::Array(a.values.iter().map(any_value_to_json).collect())
        }
        any_value::Value::KvlistValue(kv) => {
            let mut map = Map::new();
            for pair in &kv.values {
                let v = pair.value.as_ref().map_or(Value::Null, any_value_to_json);
                map.insert(pair.key.clone(), v);
            }
            Value::Object(map)
        }
        any_value::Value::BytesValue(b) => {
            Value::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
        // Profiling-only string-table reference: no meaning outside profiles.
        any_value::Value::StringValueStrindex(_) => Value::Null,
    }
}
