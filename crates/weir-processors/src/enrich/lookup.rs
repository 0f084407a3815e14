//! Lookup tables: a CSV or YAML file keyed by one column, loaded at build time
//! into a process-wide cache shared by every pipeline (and every `enrich`
//! instance) that names the same file. A file is read again only when its
//! modification time changed, e.g. on a config reload after an edit.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use dashmap::DashMap;
use weir_core::ConfigError;
use weir_core::otlp::common::v1::KeyValue;

use weir_otlp::splice::attrs::ValueRef;

use super::attr_list::{AttrList, insert};
use super::config::LookupConfig;

/// A loaded table: column names and rows keyed by the key column.
#[derive(Debug)]
pub struct Table {
    columns: Vec<String>,
    rows: HashMap<String, Vec<Option<String>>>,
    modified: Option<SystemTime>,
}

impl Table {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

static TABLES: OnceLock<DashMap<PathBuf, Arc<Table>>> = OnceLock::new();

/// The process-wide table cache.
pub fn cache() -> &'static DashMap<PathBuf, Arc<Table>> {
    TABLES.get_or_init(DashMap::new)
}

/// One configured lookup, resolved against its table.
#[derive(Debug, Clone)]
pub(crate) struct Lookup {
    key: String,
    table: Arc<Table>,
    /// (attribute name, column index)
    columns: Vec<(String, usize)>,
}

impl Lookup {
    /// Loads (or reuses) the table of `cfg`; `i` is its index for error paths.
    pub(crate) fn build(cfg: &LookupConfig, i: usize) -> Result<Lookup, ConfigError> {
        let at = |f: &str| format!("lookup[{i}].{f}");
        if cfg.key.is_empty() {
            return Err(ConfigError::at(at("key"), "must not be empty"));
        }
        let table = load(&cfg.file, cfg.key_column.as_deref(), &cfg.key)
            .map_err(|m| ConfigError::at(at("file"), m))?;
        let columns = cfg
            .columns
            .iter()
            .enumerate()
            .map(|(j, c)| {
                table.column(c).map(|idx| (c.clone(), idx)).ok_or_else(|| {
                    ConfigError::at(
                        format!("lookup[{i}].columns[{j}]"),
                        format!("`{c}` is not a column of {}", cfg.file.display()),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Lookup {
            key: cfg.key.clone(),
            table,
            columns,
        })
    }

    /// Adds the row's columns to `attrs` (when absent), keyed by the value of
    /// the key attribute in `attrs`, else in `resource`.
    pub(crate) fn apply<L: AttrList + ?Sized>(&self, attrs: &mut L, resource: &[KeyValue]) {
        let row = {
            let key = attrs.get(&self.key).or_else(|| {
                resource
                    .iter()
                    .find(|kv| kv.key == self.key)
                    .map(|kv| ValueRef::view(kv.value.as_ref()))
            });
            let Some(key) = key else { return };
            match key {
                ValueRef::Str(s) => self.table.rows.get(s),
                other => other
                    .scalar_text()
                    .and_then(|s| self.table.rows.get(s.as_ref())),
            }
        };
        let Some(row) = row else { return };
        for (name, idx) in &self.columns {
            if let Some(v) = &row[*idx] {
                insert(attrs, name, ValueRef::Str(v));
            }
        }
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The table at `path`, from the cache when its file did not change.
fn load(path: &Path, key_column: Option<&str>, key: &str) -> Result<Arc<Table>, String> {
    let canonical = path
        .canonicalize()
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mtime = modified(&canonical);
    if let Some(t) = cache().get(&canonical)
        && t.modified == mtime
        && mtime.is_some()
    {
        return Ok(t.clone());
    }
    let text = std::fs::read_to_string(&canonical)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let is_yaml = matches!(
        canonical.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    );
    let mut table = if is_yaml {
        parse_yaml(&text, key_column.unwrap_or(key))
    } else {
        parse_csv(&text, key_column)
    }
    .map_err(|e| format!("{}: {e}", path.display()))?;
    table.modified = mtime;
    let table = Arc::new(table);
    cache().insert(canonical, table.clone());
    Ok(table)
}

fn parse_csv(text: &str, key_column: Option<&str>) -> Result<Table, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let columns: Vec<String> = reader
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(str::to_owned)
        .collect();
    let key_idx = match key_column {
        Some(k) => columns
            .iter()
            .position(|c| c == k)
            .ok_or_else(|| format!("no column `{k}`"))?,
        None if columns.is_empty() => return Err("no header row".to_owned()),
        None => 0,
    };
    let mut rows = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| e.to_string())?;
        let Some(k) = record.get(key_idx) else {
            continue;
        };
        let values = (0..columns.len())
            .map(|i| record.get(i).filter(|v| !v.is_empty()).map(str::to_owned))
            .collect();
        rows.insert(k.to_owned(), values);
    }
    Ok(Table {
        columns,
        rows,
        modified: None,
    })
}

fn yaml_scalar(v: &yaml_serde::Value) -> Option<String> {
    use yaml_serde::Value as Y;
    match v {
        Y::String(s) => Some(s.clone()),
        Y::Bool(b) => Some(b.to_string()),
        Y::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A map from key to a map of columns, or a list of rows with a `key_column`.
fn parse_yaml(text: &str, key_column: &str) -> Result<Table, String> {
    use yaml_serde::Value as Y;
    let doc: Y = yaml_serde::from_str(text).map_err(|e| e.to_string())?;
    let mut raw: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let fields = |row: &yaml_serde::Mapping| -> Vec<(String, String)> {
        row.iter()
            .filter_map(|(k, v)| Some((yaml_scalar(k)?, yaml_scalar(v)?)))
            .collect()
    };
    match &doc {
        Y::Mapping(m) => {
            for (k, row) in m {
                let key = yaml_scalar(k).ok_or("keys must be scalars")?;
                let Y::Mapping(row) = row else {
                    return Err(format!("the row of `{key}` is not a map"));
                };
                raw.push((key, fields(row)));
            }
        }
        Y::Sequence(rows) => {
            for row in rows {
                let Y::Mapping(row) = row else {
                    return Err("every row must be a map".to_owned());
                };
                let f = fields(row);
                let Some((_, key)) = f.iter().find(|(c, _)| c == key_column) else {
                    return Err(format!("a row has no `{key_column}`"));
                };
                raw.push((key.clone(), f));
            }
        }
        Y::Null => {}
        _ => return Err("expected a map or a list of rows".to_owned()),
    }
    let mut columns: Vec<String> = Vec::new();
    for (_, f) in &raw {
        for (c, _) in f {
            if !columns.contains(c) {
                columns.push(c.clone());
            }
        }
    }
    let rows = raw
        .into_iter()
        .map(|(k, f)| {
            let mut values = vec![None; columns.len()];
            for (c, v) in f {
                if let Some(i) = columns.iter().position(|x| *x == c) {
                    values[i] = Some(v);
                }
            }
            (k, values)
        })
        .collect();
    Ok(Table {
        columns,
        rows,
        modified: None,
    })
}
