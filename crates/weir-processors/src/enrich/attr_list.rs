//! The attribute list the enrich steps edit, behind one trait so each step is
//! written once: for decoded records (`Vec<KeyValue>`) and for records edited
//! in their received bytes (`wire::WireAttrs`).

use weir_core::otlp::common::v1::KeyValue;
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

    /// Index of the first attribute `key` at `from` or after.
    fn position_from(&self, key: &str, from: usize) -> Option<usize> {
        let key = key.as_bytes();
        (from..self.count()).find(|&i| self.key_bytes_at(i) == key)
    }

    /// Index of the first attribute `key`.
    fn position(&self, key: &str) -> Option<usize> {
        self.position_from(key, 0)
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

/// Adds `key` = `value` when `key` is absent.
pub(crate) fn insert<L: AttrList + ?Sized>(attrs: &mut L, key: &str, value: ValueRef<'_>) {
    if attrs.position(key).is_none() {
        attrs.push(key, value);
    }
}

impl AttrList for Vec<KeyValue> {
    fn count(&self) -> usize {
        self.len()
    }
    fn key_at(&self, i: usize) -> &str {
        &self[i].key
    }
    fn value_at(&self, i: usize) -> ValueRef<'_> {
        ValueRef::view(self[i].value.as_ref())
    }
    fn push(&mut self, key: &str, value: ValueRef<'_>) {
        Vec::push(
            self,
            KeyValue {
                key: key.to_owned(),
                value: Some(value.to_any_value()),
                ..Default::default()
            },
        );
    }
    fn set_value(&mut self, i: usize, value: ValueRef<'_>) {
        self[i].value = Some(value.to_any_value());
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
    fn position_from(&self, key: &str, from: usize) -> Option<usize> {
        let i = self
            .as_slice()
            .get(from..)?
            .iter()
            .position(|kv| kv.key == key)?;
        Some(from + i)
    }
}
