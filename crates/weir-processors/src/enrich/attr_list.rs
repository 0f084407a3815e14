//! The attribute list the enrich steps edit, behind one trait so each step is
//! written once: for decoded records (`Vec<KeyValue>`) and for records edited
//! in their received bytes (`wire::WireAttrs`).

use prost::Message;
use weir_core::otlp::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList, any_value};
use weir_otlp::splice::attrs::ValueRef;

/// An ordered list of attributes that steps read and change. Operations
/// mirror `Vec<KeyValue>`'s, so both forms end in the same order.
pub(crate) trait AttrList {
    /// How many there are.
    fn count(&self) -> usize;
    /// The key of attribute `i`.
    fn key_at(&self, i: usize) -> &str;
    /// The value of attribute `i`.
    fn value_at(&self, i: usize) -> ValueRef<'_>;
    /// Appends `key` = `value`.
    fn push(&mut self, key: &str, value: ValueRef<'_>);
    /// Replaces the value of attribute `i`.
    fn set_value(&mut self, i: usize, value: ValueRef<'_>);
    /// Removes attribute `i`; the ones after it move up.
    fn remove_at(&mut self, i: usize);
    /// Moves attribute `i` to the end under the key `to`.
    fn move_renamed(&mut self, i: usize, to: &str);

    /// The key of attribute `i` as bytes (no UTF-8 check).
    fn key_bytes_at(&self, i: usize) -> &[u8] {
        self.key_at(i).as_bytes()
    }

    /// Index of the first attribute `key`.
    fn position(&self, key: &str) -> Option<usize> {
        let key = key.as_bytes();
        (0..self.count()).find(|&i| self.key_bytes_at(i) == key)
    }

    /// The value of the first attribute `key`.
    fn get(&self, key: &str) -> Option<ValueRef<'_>> {
        self.position(key).map(|i| self.value_at(i))
    }

    /// The string value of the first attribute `key`.
    fn get_str(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            ValueRef::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Adds `key` = `value()` when `key` is absent; `value` runs only then.
pub(crate) fn insert_with<L: AttrList + ?Sized, T: AsRef<str>>(
    attrs: &mut L,
    key: &str,
    value: impl FnOnce() -> Scalar<T>,
) {
    if attrs.position(key).is_none() {
        let v = value();
        attrs.push(key, v.as_value_ref());
    }
}

/// An owned scalar to add, borrowed as a [`ValueRef`] when written.
pub(crate) enum Scalar<T> {
    /// A string.
    Str(T),
    /// A boolean.
    Bool(bool),
}

impl<T: AsRef<str>> Scalar<T> {
    fn as_value_ref(&self) -> ValueRef<'_> {
        match self {
            Scalar::Str(s) => ValueRef::Str(s.as_ref()),
            Scalar::Bool(b) => ValueRef::Bool(*b),
        }
    }
}

/// A decoded value as a borrowed view. Arrays and maps carry no bytes here:
/// the steps only read scalars, and moves keep decoded values whole.
pub(crate) fn value_ref(v: Option<&AnyValue>) -> ValueRef<'_> {
    use any_value::Value as V;
    match v.and_then(|v| v.value.as_ref()) {
        None | Some(V::StringValueStrindex(_)) => ValueRef::Empty,
        Some(V::StringValue(s)) => ValueRef::Str(s),
        Some(V::BoolValue(b)) => ValueRef::Bool(*b),
        Some(V::IntValue(i)) => ValueRef::Int(*i),
        Some(V::DoubleValue(d)) => ValueRef::Double(*d),
        Some(V::BytesValue(b)) => ValueRef::Bytes(b),
        Some(V::ArrayValue(_)) => ValueRef::Array(&[]),
        Some(V::KvlistValue(_)) => ValueRef::Kvlist(&[]),
    }
}

/// The decoded form of a value view.
pub(crate) fn owned(v: ValueRef<'_>) -> AnyValue {
    use any_value::Value as V;
    let value = match v {
        ValueRef::Empty => None,
        ValueRef::Str(s) => Some(V::StringValue(s.to_owned())),
        ValueRef::Bool(b) => Some(V::BoolValue(b)),
        ValueRef::Int(i) => Some(V::IntValue(i)),
        ValueRef::Double(d) => Some(V::DoubleValue(d)),
        ValueRef::Bytes(b) => Some(V::BytesValue(b.to_vec())),
        ValueRef::Array(b) => Some(V::ArrayValue(ArrayValue::decode(b).unwrap_or_default())),
        ValueRef::Kvlist(b) => Some(V::KvlistValue(KeyValueList::decode(b).unwrap_or_default())),
    };
    AnyValue { value }
}

impl AttrList for Vec<KeyValue> {
    fn count(&self) -> usize {
        self.len()
    }
    fn key_at(&self, i: usize) -> &str {
        &self[i].key
    }
    fn value_at(&self, i: usize) -> ValueRef<'_> {
        value_ref(self[i].value.as_ref())
    }
    fn push(&mut self, key: &str, value: ValueRef<'_>) {
        Vec::push(
            self,
            KeyValue {
                key: key.to_owned(),
                value: Some(owned(value)),
                ..Default::default()
            },
        );
    }
    fn set_value(&mut self, i: usize, value: ValueRef<'_>) {
        self[i].value = Some(owned(value));
    }
    fn remove_at(&mut self, i: usize) {
        self.remove(i);
    }
    fn move_renamed(&mut self, i: usize, to: &str) {
        let mut moved = self.remove(i);
        moved.key.clear();
        moved.key.push_str(to);
        Vec::push(self, moved);
    }
    // Faster than the default: no bounds check per index.
    fn position(&self, key: &str) -> Option<usize> {
        self.iter().position(|kv| kv.key == key)
    }
}
