//! Finding a batch's keys and splitting it into one part per key.

use std::borrow::Cow;
use std::collections::HashMap;

use weir_core::otlp::common::v1::KeyValue;
use weir_core::{Batch, BatchError, BatchMeta, SignalData};
use weir_otlp::splice::attrs::ValueRef;

use super::config::{ClientField, KeySpec};

/// A key value; `None` when the batch or record has no value for the key (all
/// such data shares one bucket).
pub(crate) type Key = Option<String>;

/// A value as a key: strings as they are, integers, doubles and booleans
/// printed; other kinds (arrays, maps, bytes) count as absent. Shared by the
/// decoded path and the one reading received bytes (`wire_keys.rs`).
pub(crate) fn key_text(v: ValueRef<'_>) -> Option<Cow<'_, str>> {
    match v {
        ValueRef::Bytes(_) => None,
        v => v.scalar_text(),
    }
}

/// The value of attribute `name` as a key (see [`key_text`]).
pub(crate) fn attr_value<'a>(attrs: &'a [KeyValue], name: &str) -> Option<Cow<'a, str>> {
    let kv = attrs.iter().find(|kv| kv.key == name)?;
    key_text(ValueRef::view(kv.value.as_ref()))
}

/// Groups `items` by `key`, keeping first-seen order of keys and the order of
/// items within a key. Keys are read borrowed from the items and owned once
/// per distinct key, so a record costs a hash lookup, not an allocation.
fn group<T>(
    items: Vec<T>,
    key: impl for<'t> Fn(&'t T) -> Option<Cow<'t, str>>,
) -> Vec<(Key, Vec<T>)> {
    let mut keys: Vec<Key> = Vec::new();
    let mut which: Vec<usize> = Vec::with_capacity(items.len());
    {
        let mut index: HashMap<Option<Cow<'_, str>>, usize, foldhash::fast::RandomState> =
            HashMap::default();
        for item in &items {
            let k = key(item);
            let i = match index.get(&k) {
                Some(&i) => i,
                None => {
                    keys.push(k.as_deref().map(str::to_owned));
                    index.insert(k, keys.len() - 1);
                    keys.len() - 1
                }
            };
            which.push(i);
        }
    }
    let mut out: Vec<(Key, Vec<T>)> = keys.into_iter().map(|k| (k, Vec::new())).collect();
    for (item, i) in items.into_iter().zip(which) {
        out[i].1.push(item);
    }
    out
}

/// Appends `groups` into `parts`, merging by key.
fn merge<T>(
    parts: &mut Vec<(Key, Vec<T>)>,
    index: &mut HashMap<Key, usize>,
    groups: impl IntoIterator<Item = (Key, T)>,
) {
    for (k, v) in groups {
        let i = *index.entry(k.clone()).or_insert_with(|| {
            parts.push((k, Vec::new()));
            parts.len() - 1
        });
        parts[i].1.push(v);
    }
}

/// Splits resources by record key, keeping resource and scope structure:
/// each part holds, per resource and scope, the records of one key.
macro_rules! split_records {
    ($resources:expr, $scopes:ident, $records:ident, $attr:expr) => {{
        let mut parts = Vec::new();
        let mut index = HashMap::new();
        for mut r in $resources {
            let scopes = std::mem::take(&mut r.$scopes);
            let mut per_key: Vec<(Key, _)> = Vec::new();
            let mut per_key_index: HashMap<Key, usize> = HashMap::new();
            for mut s in scopes {
                let records = std::mem::take(&mut s.$records);
                for (k, recs) in group(records, |rec| attr_value(&rec.attributes, $attr)) {
                    let i = *per_key_index.entry(k.clone()).or_insert_with(|| {
                        let mut shell = r.clone();
                        shell.$scopes = Vec::new();
                        per_key.push((k, shell));
                        per_key.len() - 1
                    });
                    let mut scope = s.clone();
                    scope.$records = recs;
                    per_key[i].1.$scopes.push(scope);
                }
            }
            merge(&mut parts, &mut index, per_key);
        }
        parts
    }};
}

/// True when every record of `data` has the same value of `attr`; then the
/// batch needs no split. Returns that value.
fn single_record_key<'d>(data: &'d SignalData, attr: &str) -> Option<Key> {
    let mut first: Option<Option<Cow<'d, str>>> = None;
    let mut check = |attrs: &'d [KeyValue]| {
        let v = attr_value(attrs, attr);
        match &first {
            None => {
                first = Some(v);
                true
            }
            Some(f) => *f == v,
        }
    };
    let same = match data {
        SignalData::Logs(v) => v
            .iter()
            .flat_map(|r| &r.scope_logs)
            .flat_map(|s| &s.log_records)
            .all(|rec| check(&rec.attributes)),
        SignalData::Traces(v) => v
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
            .all(|rec| check(&rec.attributes)),
        SignalData::Metrics(_) => true,
    };
    same.then(|| first.flatten().map(Cow::into_owned))
}

/// The key of a resource's attributes.
fn resource_key(attrs: Option<&[KeyValue]>, attr: &str) -> Key {
    attrs.and_then(|a| attr_value(a, attr)).map(Cow::into_owned)
}

/// The one key of the whole batch under `spec`, when all of its data share
/// one (`Some(None)`: they all lack a value); `None` when it must be split.
/// Borrows from the batch, so the common case costs no allocation.
pub(crate) fn whole<'b>(
    batch: &'b Batch,
    spec: &KeySpec,
) -> Result<Option<Option<Cow<'b, str>>>, BatchError> {
    Ok(match spec {
        KeySpec::Client(ClientField::Subject) => Some(
            batch
                .meta()
                .client
                .as_ref()
                .and_then(|c| c.subject.as_deref())
                .map(Cow::Borrowed),
        ),
        KeySpec::ResourceAttribute(attr) => {
            // Bytes that do not parse take the decoded way, which reports them.
            if let Some(bytes) = batch.received_bytes()
                && let Ok(key) = super::wire_keys::whole_by_resource(bytes, attr)
            {
                return Ok(key);
            }
            let mut keys =
                resource_attrs(batch.data()?).map(|a| a.and_then(|a| attr_value(a, attr)));
            let first = keys.next().flatten();
            keys.all(|k| k == first).then_some(first)
        }
        KeySpec::RecordAttribute(attr) => {
            if let Some(bytes) = batch.received_bytes()
                && let Ok(key) = super::wire_keys::whole_by_record(bytes, batch.signal(), attr)
            {
                return Ok(key);
            }
            single_record_key(batch.data()?, attr).map(|k| k.map(Cow::Owned))
        }
    })
}

/// The attributes of each resource of `data` (`None` for a resource without one).
fn resource_attrs(data: &SignalData) -> Box<dyn Iterator<Item = Option<&[KeyValue]>> + '_> {
    fn of(r: Option<&weir_core::otlp::resource::v1::Resource>) -> Option<&[KeyValue]> {
        r.map(|r| &r.attributes[..])
    }
    match data {
        SignalData::Logs(v) => Box::new(v.iter().map(|r| of(r.resource.as_ref()))),
        SignalData::Traces(v) => Box::new(v.iter().map(|r| of(r.resource.as_ref()))),
        SignalData::Metrics(v) => Box::new(v.iter().map(|r| of(r.resource.as_ref()))),
    }
}

/// Splits `batch` into one part per key value under `spec`. Called for
/// batches that [`whole`] found to hold several keys; a client key is never
/// split.
pub(crate) fn split(batch: Batch, spec: &KeySpec) -> Result<Vec<(Key, Batch)>, BatchError> {
    match spec {
        KeySpec::Client(ClientField::Subject) => {
            let key = batch
                .meta()
                .client
                .as_ref()
                .and_then(|c| c.subject.as_deref())
                .map(str::to_string);
            Ok(vec![(key, batch)])
        }
        KeySpec::ResourceAttribute(attr) => {
            let keys: Vec<Key> = match batch.data()? {
                SignalData::Logs(v) => v
                    .iter()
                    .map(|r| resource_key(r.resource.as_ref().map(|r| &r.attributes[..]), attr))
                    .collect(),
                SignalData::Traces(v) => v
                    .iter()
                    .map(|r| resource_key(r.resource.as_ref().map(|r| &r.attributes[..]), attr))
                    .collect(),
                SignalData::Metrics(v) => v
                    .iter()
                    .map(|r| resource_key(r.resource.as_ref().map(|r| &r.attributes[..]), attr))
                    .collect(),
            };
            let meta = batch.meta().clone();
            let data = batch.into_data()?;
            Ok(match data {
                SignalData::Logs(v) => rebuild(zip_group(v, keys), &meta, Batch::logs),
                SignalData::Traces(v) => rebuild(zip_group(v, keys), &meta, Batch::traces),
                SignalData::Metrics(v) => rebuild(zip_group(v, keys), &meta, Batch::metrics),
            })
        }
        KeySpec::RecordAttribute(attr) => {
            let meta = batch.meta().clone();
            Ok(match batch.into_data()? {
                SignalData::Logs(v) => rebuild(
                    split_records!(v, scope_logs, log_records, attr),
                    &meta,
                    Batch::logs,
                ),
                SignalData::Traces(v) => rebuild(
                    split_records!(v, scope_spans, spans, attr),
                    &meta,
                    Batch::traces,
                ),
                // Refused at build time; kept whole if it ever happens.
                SignalData::Metrics(v) => vec![(None, Batch::metrics(v, meta))],
            })
        }
    }
}

fn zip_group<T>(items: Vec<T>, keys: Vec<Key>) -> Vec<(Key, Vec<T>)> {
    let mut parts = Vec::new();
    let mut index = HashMap::new();
    merge(&mut parts, &mut index, keys.into_iter().zip(items));
    parts
}

fn rebuild<T>(
    parts: Vec<(Key, Vec<T>)>,
    meta: &BatchMeta,
    make: fn(Vec<T>, BatchMeta) -> Batch,
) -> Vec<(Key, Batch)> {
    parts
        .into_iter()
        .map(|(k, v)| (k, make(v, meta.clone())))
        .collect()
}
