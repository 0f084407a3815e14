//! Domain-Action-Status markers (`shared/enrich-das.md`): tables merged by
//! priority at build time, looked up per record without allocating except for
//! the markers string itself.

mod builtin;
mod derive;

use std::collections::HashMap;

use weir_core::ConfigError;
use weir_core::otlp::common::v1::{AnyValue, any_value::Value};
use weir_otlp::splice::attrs::ValueRef;

use super::attr_list::{AttrList, insert};
use super::config::{DasConfig, DasTablesFile};

pub use builtin::{ACTION as BUILTIN_ACTION, DOMAIN as BUILTIN_DOMAIN, STATUS as BUILTIN_STATUS};

/// Marker used when a table has no `default` entry (built-in set disabled).
const FALLBACK_DEFAULT: &str = "[?]";

/// One of the three tables: lower-case value → bracketed marker (`[🔑]`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    /// Fixed at build time, so a fast hash is safe: lookups cannot grow it.
    map: HashMap<Box<str>, Box<str>, foldhash::fast::RandomState>,
    default: Box<str>,
}

impl Table {
    fn get(&self, lower: &str) -> Option<&str> {
        self.map.get(lower).map(|m| &**m)
    }

    fn marker(&self, lower: &str) -> &str {
        self.get(lower).unwrap_or(&self.default)
    }
}

/// The DAS step, built once per processor.
#[derive(Debug, Clone)]
pub(crate) struct Das {
    domain: Table,
    action: Table,
    status: Table,
    attribute: String,
    prefix_body: bool,
    from_event_name: bool,
    event_name_key: String,
    http_fields: bool,
}

type Layer = (i32, usize, [Vec<(String, String)>; 3]);

fn owned(t: &[(&str, &str)]) -> Vec<(String, String)> {
    t.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn pairs(m: &std::collections::BTreeMap<String, String>) -> Vec<(String, String)> {
    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

impl Das {
    /// Merges the built-in set and the user sets of `cfg` by priority.
    pub(crate) fn build(cfg: &DasConfig) -> Result<Das, ConfigError> {
        if cfg.attribute.is_empty() {
            return Err(ConfigError::at("das.attribute", "must not be empty"));
        }
        let mut layers: Vec<Layer> = Vec::new();
        if cfg.builtin {
            layers.push((
                0,
                0,
                [
                    owned(builtin::DOMAIN),
                    owned(builtin::ACTION),
                    owned(builtin::STATUS),
                ],
            ));
        }
        for (i, set) in cfg.sets.iter().enumerate() {
            let mut tables = [Vec::new(), Vec::new(), Vec::new()];
            if let Some(file) = &set.file {
                let path = format!("das.sets[{i}].file");
                let text = std::fs::read_to_string(file).map_err(|e| {
                    ConfigError::at(&path, format!("cannot read {}: {e}", file.display()))
                })?;
                let f: DasTablesFile = yaml_serde::from_str(&text)
                    .map_err(|e| ConfigError::at(&path, format!("{}: {e}", file.display())))?;
                tables = [pairs(&f.domain), pairs(&f.action), pairs(&f.status)];
            }
            tables[0].extend(pairs(&set.domain));
            tables[1].extend(pairs(&set.action));
            tables[2].extend(pairs(&set.status));
            layers.push((set.priority, i + 1, tables));
        }
        layers.sort_by_key(|(p, order, _)| (*p, *order));
        let mut merged: [Table; 3] = Default::default();
        for (_, _, tables) in &layers {
            for (table, entries) in merged.iter_mut().zip(tables) {
                for (k, v) in entries {
                    table
                        .map
                        .insert(k.to_lowercase().into(), format!("[{v}]").into());
                }
            }
        }
        for table in &mut merged {
            table.default = table
                .map
                .get("default")
                .cloned()
                .unwrap_or_else(|| FALLBACK_DEFAULT.into());
        }
        let [domain, action, status] = merged;
        Ok(Das {
            domain,
            action,
            status,
            attribute: cfg.attribute.clone(),
            prefix_body: cfg.prefix_body,
            from_event_name: cfg.from_event_name,
            event_name_key: cfg.event_name_key.clone(),
            http_fields: cfg.http_fields,
        })
    }

    /// Marks one record (or span): `attrs` its attributes, `body` its body (logs
    /// only), `event_name` the record's `event_name` field (empty for spans).
    pub(crate) fn apply<L: AttrList + ?Sized>(
        &self,
        attrs: &mut L,
        body: Option<&mut Option<AnyValue>>,
        event_name: &str,
        scratch: &mut String,
    ) {
        if self.http_fields {
            http_fields(attrs);
        }
        let mut found: [Option<&str>; 3] = [None; 3];
        for i in 0..attrs.count() {
            let Some(slot) = das_slot(attrs.key_bytes_at(i)) else {
                continue;
            };
            if found[slot].is_some() {
                continue;
            }
            if let ValueRef::Str(v) = attrs.value_at(i) {
                let table = [&self.domain, &self.action, &self.status][slot];
                found[slot] = Some(table.marker(lower(v, scratch)));
            }
        }
        if self.from_event_name && found.iter().any(Option::is_none) {
            let name = attrs.get_str(&self.event_name_key).unwrap_or(event_name);
            if !name.is_empty() {
                let derived = derive::derive(self, lower(name, scratch));
                for (slot, d) in found.iter_mut().zip(derived) {
                    if slot.is_none() {
                        *slot = d;
                    }
                }
            }
        }
        if found.iter().all(Option::is_none) {
            return;
        }
        if attrs.position(&self.attribute).is_some() {
            return; // marked already (e.g. by an earlier enrich)
        }
        let [d, a, s] = [
            found[0].unwrap_or(&self.domain.default),
            found[1].unwrap_or(&self.action.default),
            found[2].unwrap_or(&self.status.default),
        ];
        // The lower-cased values are no longer needed: the scratch holds the
        // markers, so marking a record allocates nothing.
        let markers = scratch;
        markers.clear();
        markers.push_str(d);
        markers.push_str(a);
        markers.push_str(s);
        if self.prefix_body
            && let Some(Some(AnyValue {
                value: Some(Value::StringValue(text)),
            })) = body
        {
            markers.push(' ');
            text.insert_str(0, markers);
            markers.pop();
        }
        attrs.push(&self.attribute, ValueRef::Str(markers));
    }

    /// Whether markers may change a record's body, which only the decoded
    /// path does.
    pub(crate) fn prefixes_body(&self) -> bool {
        self.prefix_body
    }
}

/// Which of domain (0), action (1), status (2) an attribute key names: the
/// key itself or its last dotted segment. Checks the fixed-length tail first,
/// since this runs on every attribute of every record.
fn das_slot(b: &[u8]) -> Option<usize> {
    let tail = b.len().checked_sub(6).map(|at| &b[at..])?;
    let slot = match tail {
        b"domain" => 0,
        b"action" => 1,
        b"status" => 2,
        _ => return None,
    };
    (b.len() == 6 || b[b.len() - 7] == b'.').then_some(slot)
}

/// `s` lower-cased, borrowing `s` itself when it already is.
fn lower<'s>(s: &'s str, scratch: &'s mut String) -> &'s str {
    if !s.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        return s;
    }
    scratch.clear();
    for c in s.chars() {
        scratch.extend(c.to_lowercase());
    }
    scratch
}

/// The built-in HTTP rule: status class and success/error flags, each only when
/// absent.
fn http_fields<L: AttrList + ?Sized>(attrs: &mut L) {
    let code = attrs
        .get("http.response.status_code")
        .or_else(|| attrs.get("http.status_code"));
    let code = match code {
        Some(ValueRef::Int(i)) => i,
        Some(ValueRef::Str(s)) => match s.trim().parse::<i64>() {
            Ok(i) => i,
            Err(_) => return,
        },
        Some(ValueRef::Double(d)) if d.fract() == 0.0 => d as i64,
        _ => return,
    };
    let (class, flag) = match code {
        100..=199 => ("1xx", None),
        200..=299 => ("2xx", Some("http.success")),
        300..=399 => ("3xx", None),
        400..=499 => ("4xx", Some("http.client_error")),
        500..=599 => ("5xx", Some("http.server_error")),
        _ => return,
    };
    insert(attrs, "http.status_class", ValueRef::Str(class));
    if let Some(flag) = flag {
        insert(attrs, flag, ValueRef::Bool(true));
    }
}

#[cfg(test)]
mod tests {
    use super::das_slot;

    #[test]
    fn keys_name_a_part_by_themselves_or_by_their_last_segment() {
        assert_eq!(das_slot(b"domain"), Some(0));
        assert_eq!(das_slot(b"app.action"), Some(1));
        assert_eq!(das_slot(b"a.b.status"), Some(2));
        assert_eq!(das_slot(b"substatus"), None, "not a dotted segment");
        assert_eq!(das_slot(b"status.code"), None);
        assert_eq!(das_slot(b"main"), None);
        assert_eq!(das_slot(b""), None);
        assert_eq!(das_slot(b".domain"), Some(0));
    }
}
