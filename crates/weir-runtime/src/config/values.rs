//! Reading the document tree: mappings with known keys and typed scalars, each
//! problem reported at its node with what was expected and what was found.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use weir_core::ByteSize;
use yaml_serde::Value;

use super::Diagnostics;
use super::env::key_segment;
use super::source_map::child_key;

/// The smallest `service.memory_limit`: weir's own resident memory before
/// any data is about 10 MiB, so a smaller limit would refuse everything (and
/// is most likely a size written without its unit).
pub(crate) const MIN_MEMORY_LIMIT: ByteSize = ByteSize::mib(16);

/// Collector sections weir does not have yet: named in the error so users coming
/// from the Collector know it is not a typo.
const NOT_YET: &[&str] = &["extensions", "connectors"];

/// What a value is, for "expected ..., found ..." messages.
pub(crate) fn found(v: &Value) -> String {
    match v {
        Value::Null => "found nothing".into(),
        Value::Bool(b) => format!("found `{b}`"),
        Value::Number(n) => format!("found `{n}`"),
        Value::String(s) => format!("found `{s}`"),
        Value::Sequence(_) => "found a list".into(),
        Value::Mapping(_) => "found a mapping".into(),
        Value::Tagged(t) => format!("found a value tagged `{}`", t.tag),
    }
}

/// `a`, `b` or `c`, each in backticks.
pub(crate) fn one_of(keys: &[&str]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

/// Reads parts of the document, reporting what is wrong with them.
pub(crate) struct Reader<'r, 'a> {
    /// Where problems go.
    pub diags: &'r mut Diagnostics<'a>,
    /// Paths whose `${env:...}` failed: left out silently, already reported.
    pub poisoned: &'r HashSet<String>,
}

/// Mapping entries as (key, path, value).
pub(crate) type Entries<'v> = Vec<(String, String, &'v Value)>;

impl Reader<'_, '_> {
    /// An error at `path`.
    pub(crate) fn error(&mut self, path: &str, message: String) {
        self.diags.error(path, message);
    }

    /// Whether `path` or anything below it failed to expand.
    pub(crate) fn poisoned_below(&self, path: &str) -> bool {
        self.poisoned.iter().any(|p| {
            p.strip_prefix(path)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
        })
    }

    /// The entries of a mapping as (key, path, value); nothing counts as empty.
    pub(crate) fn mapping<'v>(
        &mut self,
        v: &'v Value,
        path: &str,
        expected: &str,
    ) -> Option<Entries<'v>> {
        if self.poisoned.contains(path) {
            return None;
        }
        let m = match v {
            Value::Null => return Some(Vec::new()),
            Value::Mapping(m) => m,
            other => {
                self.error(path, format!("expected {expected}, {}", found(other)));
                return None;
            }
        };
        let mut entries = Vec::with_capacity(m.len());
        for (k, v) in m {
            match key_segment(k) {
                Some(key) => entries.push((key.clone(), child_key(path, &key), v)),
                None => self.error(
                    path,
                    format!("expected {expected}; found a key that is not text"),
                ),
            }
        }
        Some(entries)
    }

    /// The entries of a mapping with a fixed set of keys; unknown keys are
    /// reported and left out, as are entries set to nothing (= not set).
    pub(crate) fn fields<'v>(
        &mut self,
        v: &'v Value,
        path: &str,
        expected: &str,
        keys: &[&str],
    ) -> Option<Entries<'v>> {
        let mut entries = self.mapping(v, path, expected)?;
        entries.retain(|(key, p, v)| {
            if keys.contains(&key.as_str()) {
                return !v.is_null();
            }
            let message = if NOT_YET.contains(&key.as_str()) {
                format!("`{key}` are not supported yet; expected {}", one_of(keys))
            } else {
                format!("unknown key `{key}`: expected {}", one_of(keys))
            };
            self.diags.error(p, message);
            false
        });
        Some(entries)
    }

    pub(crate) fn duration(&mut self, v: &Value, path: &str) -> Option<Duration> {
        if self.poisoned.contains(path) {
            return None;
        }
        let parsed = v
            .as_str()
            .and_then(|s| humantime::parse_duration(s.trim()).ok());
        if parsed.is_none() {
            self.error(
                path,
                format!("expected a duration such as 10s or 500ms, {}", found(v)),
            );
        }
        parsed
    }

    /// `host:port` with an IP or `localhost` (no name lookups while loading), or
    /// `none`.
    pub(crate) fn address(&mut self, v: &Value, path: &str) -> Option<Option<SocketAddr>> {
        if self.poisoned.contains(path) {
            return None;
        }
        let s = v.as_str().map(str::trim);
        if s == Some("none") {
            return Some(None);
        }
        let parsed = s.and_then(|s| {
            s.parse::<SocketAddr>().ok().or_else(|| {
                let port = s.strip_prefix("localhost:")?.parse().ok()?;
                Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port))
            })
        });
        if parsed.is_none() {
            self.error(
                path,
                format!(
                    "expected an address host:port (such as 127.0.0.1:8888) or `none`, {}",
                    found(v)
                ),
            );
        }
        parsed.map(Some)
    }

    pub(crate) fn capacity(&mut self, v: &Value, path: &str) -> Option<usize> {
        if self.poisoned.contains(path) {
            return None;
        }
        let n = v
            .as_u64()
            .filter(|n| *n >= 1)
            .and_then(|n| usize::try_from(n).ok());
        if n.is_none() {
            self.error(
                path,
                format!(
                    "expected a whole number of batches, at least 1, {}",
                    found(v)
                ),
            );
        }
        n
    }

    /// `service.memory_limit`: a size of at least [`MIN_MEMORY_LIMIT`].
    pub(crate) fn memory_limit(&mut self, v: &Value, path: &str) -> Option<ByteSize> {
        let limit = self.max_bytes(v, path)?;
        if limit < MIN_MEMORY_LIMIT {
            self.error(
                path,
                format!(
                    "expected a memory limit of at least 16MiB, such as 512MiB (weir itself \
                     needs about that much before any data; a number without a unit is bytes), {}",
                    found(v)
                ),
            );
            return None;
        }
        Some(limit)
    }

    pub(crate) fn max_bytes(&mut self, v: &Value, path: &str) -> Option<ByteSize> {
        if self.poisoned.contains(path) {
            return None;
        }
        match yaml_serde::from_value::<ByteSize>(v.clone()) {
            Ok(b) if b.bytes() > 0 => Some(b),
            Ok(_) => {
                self.error(
                    path,
                    "expected a size of at least 1 byte, such as 8MiB, found `0`".into(),
                );
                None
            }
            Err(e) => {
                self.error(path, format!("{e}, {}", found(v)));
                None
            }
        }
    }
}
