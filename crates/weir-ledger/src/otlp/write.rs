//! An OTLP log record written straight as the JSON of its fitted Ledger
//! entry, without building the `attributes` object: the exporter's hot path.
//!
//! The bytes are exactly those of `serde_json::to_writer` of
//! [`record_to_entry`](super::record_to_entry) after [`fit`]: attributes in
//! key order (a `serde_json::Map` is sorted), the last of a repeated key
//! kept. Records `fit` would change beyond their own fields (an attribute
//! added or dropped, or `log_type: endpoint`, whose fixing reads
//! `attributes`) take that path itself, so those stay exact too.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use weir_core::otlp::common::v1::{AnyValue, KeyValue, any_value};
use weir_core::otlp::logs::v1::LogRecord;

use super::keys;
use super::logs::{entry_fields, span_id_hex, trace_id_hex};
use super::value::any_value_to_json;
use crate::entry::{EntryView, LogType};
use crate::fit::fit;
use crate::settings::Constraints;

/// Appends to `out` the JSON of the entry for `record` (with its resource's
/// attributes), fitted to `limits` at `now_unix_nano`: the bytes of
/// `serde_json::to_writer(out, &entry)` after
/// `fit(&mut entry, limits, now_unix_nano)` with
/// `entry = record_to_entry(resource_attrs, record)`. Returns what `fit`
/// returns: true when something was cut.
pub fn write_fitted_entry(
    out: &mut Vec<u8>,
    resource_attrs: &[KeyValue],
    record: &LogRecord,
    limits: &Constraints,
    now_unix_nano: u64,
) -> serde_json::Result<bool> {
    let (mut entry, used) = entry_fields(resource_attrs, record);
    // Only `endpoint` reads attributes while fitting the fields.
    let direct = entry.log_type != LogType::Endpoint
        && !fit(&mut entry, limits, now_unix_nano)
        // Nothing cut, so only a moved timestamp would have added one.
        && entry.attributes.is_none();
    if direct {
        let attrs = Attrs::of(resource_attrs, record, &used);
        // Under the limit by a bound: `fit` would keep every attribute.
        if attrs.dumps_len_bound() <= limits.max_attributes_size_bytes {
            EntryView::new(&entry, (!attrs.0.is_empty()).then_some(&attrs))
                .serialize(&mut serde_json::Serializer::new(out))?;
            return Ok(false);
        }
    }
    let mut entry = super::record_to_entry(resource_attrs, record);
    let cut = fit(&mut entry, limits, now_unix_nano);
    serde_json::to_writer(out, &entry)?;
    Ok(cut)
}

/// One attribute's value.
enum Attr<'a> {
    /// An OTLP value (none: `null`).
    Otlp(Option<&'a AnyValue>),
    /// An id in hex.
    Hex(String),
}

/// The attributes of an entry, sorted by key, each key once.
struct Attrs<'a>(Vec<(&'a str, Attr<'a>)>);

impl<'a> Attrs<'a> {
    /// What `record_to_entry` puts in `attributes`, in the map's order.
    fn of(resource_attrs: &'a [KeyValue], record: &'a LogRecord, used: &[&str]) -> Self {
        let mut all: Vec<(&str, Attr)> =
            Vec::with_capacity(resource_attrs.len() + record.attributes.len() + 2);
        for kv in resource_attrs.iter().chain(&record.attributes) {
            if !used.contains(&kv.key.as_str()) {
                all.push((&kv.key, Attr::Otlp(kv.value.as_ref())));
            }
        }
        if let Some(hex) = trace_id_hex(record) {
            all.push((keys::TRACE_ID, Attr::Hex(hex)));
        }
        if let Some(hex) = span_id_hex(record) {
            all.push((keys::SPAN_ID, Attr::Hex(hex)));
        }
        // Stable, so a repeated key's entries keep their order; the last
        // one wins, as in a map's insert.
        all.sort_by(|a, b| a.0.cmp(b.0));
        all.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                std::mem::swap(later, kept);
            }
            same
        });
        Attrs(all)
    }

    /// At least `pyjson::object_len` of the attributes as a map.
    fn dumps_len_bound(&self) -> usize {
        let members: usize = self
            .0
            .iter()
            .map(|(k, v)| {
                str_bound(k)
                    + 2
                    + match v {
                        Attr::Otlp(v) => value_bound(*v),
                        Attr::Hex(h) => str_bound(h),
                    }
            })
            .sum();
        2 + members + 2 * self.0.len()
    }
}

/// At least Python's `json.dumps` length of a string: a byte takes at most
/// 6 characters (`\u00XX` for one byte, `\uXXXX` for two or three, a
/// surrogate pair for four), plus the quotes.
fn str_bound(s: &str) -> usize {
    6 * s.len() + 2
}

/// At least Python's `json.dumps` length of an OTLP value as JSON.
pub(super) fn value_bound(value: Option<&AnyValue>) -> usize {
    use any_value::Value as V;
    match value.and_then(|v| v.value.as_ref()) {
        None | Some(V::StringValueStrindex(_)) => 4,
        Some(V::StringValue(s)) => str_bound(s),
        Some(V::BoolValue(_)) => 5,
        // `-9223372036854775808`.
        Some(V::IntValue(_)) => 20,
        // `-2.2250738585072014e-308`; non-finite ones are short strings.
        Some(V::DoubleValue(_)) => 24,
        // Base64, then quotes.
        Some(V::BytesValue(b)) => 4 * b.len().div_ceil(3) + 2,
        Some(V::ArrayValue(a)) => {
            2 + a
                .values
                .iter()
                .map(|v| value_bound(Some(v)) + 2)
                .sum::<usize>()
        }
        Some(V::KvlistValue(kv)) => {
            2 + kv
                .values
                .iter()
                .map(|p| str_bound(&p.key) + 2 + value_bound(p.value.as_ref()) + 2)
                .sum::<usize>()
        }
    }
}

impl Serialize for Attrs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl Serialize for Attr<'_> {
    /// As `any_value_to_json` of it would serialize, without building it
    /// for the common scalars.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use any_value::Value as V;
        let value = match self {
            Attr::Hex(h) => return s.serialize_str(h),
            Attr::Otlp(None) => return s.serialize_unit(),
            Attr::Otlp(Some(v)) => v,
        };
        match &value.value {
            Some(V::StringValue(text)) => s.serialize_str(text),
            Some(V::BoolValue(b)) => s.serialize_bool(*b),
            Some(V::IntValue(i)) => s.serialize_i64(*i),
            Some(V::DoubleValue(d)) if d.is_finite() => s.serialize_f64(*d),
            _ => any_value_to_json(value).serialize(s),
        }
    }
}
