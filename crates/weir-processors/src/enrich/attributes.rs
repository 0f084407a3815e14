//! Attribute actions (`insert`, `upsert`, `update`, `delete`, `rename`, `hash`)
//! and the small key-value helpers the other steps share.

use weir_core::ConfigError;
use weir_core::otlp::common::v1::{AnyValue, KeyValue, any_value::Value};

use weir_otlp::splice::attrs::ValueRef;

use super::attr_list::AttrList;
use super::config::{ActionKind, AttributeConfig, Target};
use super::fingerprint::sha256_hex_into;

/// Index of the attribute `key`.
pub(crate) fn position(attrs: &[KeyValue], key: &str) -> Option<usize> {
    attrs.iter().position(|kv| kv.key == key)
}

/// The value of attribute `key`.
pub(crate) fn get<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

/// The string value of attribute `key`.
pub(crate) fn get_str<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    match get(attrs, key) {
        Some(Value::StringValue(s)) => Some(s),
        _ => None,
    }
}

/// A key-value pair.
pub(crate) fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

/// One compiled attribute action.
#[derive(Debug, Clone)]
pub(crate) struct Action {
    kind: ActionKind,
    key: String,
    value: Option<AnyValue>,
    to: String,
}

/// The attribute actions of one target, in config order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Actions {
    actions: Vec<Action>,
}

impl Actions {
    /// Compiles the actions of `configs` aimed at `target`; `configs` is the whole
    /// `attributes` list so error paths carry the right index.
    pub(crate) fn compile(
        configs: &[AttributeConfig],
        target: Target,
    ) -> Result<Self, ConfigError> {
        let mut actions = Vec::new();
        for (i, c) in configs.iter().enumerate() {
            let path = |field: &str| format!("attributes[{i}].{field}");
            if c.key.is_empty() {
                return Err(ConfigError::at(path("key"), "must not be empty"));
            }
            let needs_value = matches!(
                c.action,
                ActionKind::Insert | ActionKind::Upsert | ActionKind::Update
            );
            let value = match (&c.value, needs_value) {
                (Some(v), true) => Some(value_from_yaml(v, &path("value"))?),
                (None, true) => {
                    return Err(ConfigError::at(
                        path("value"),
                        format!("`{:?}` needs a value", c.action).to_lowercase(),
                    ));
                }
                (Some(_), false) => {
                    return Err(ConfigError::at(
                        path("value"),
                        format!("`{:?}` takes no value", c.action).to_lowercase(),
                    ));
                }
                (None, false) => None,
            };
            let to = match (&c.to, c.action) {
                (Some(to), ActionKind::Rename) if !to.is_empty() => to.clone(),
                (_, ActionKind::Rename) => {
                    return Err(ConfigError::at(
                        path("to"),
                        "`rename` needs a new key in `to`",
                    ));
                }
                (Some(_), _) => {
                    return Err(ConfigError::at(path("to"), "only `rename` takes `to`"));
                }
                (None, _) => String::new(),
            };
            if c.target == target {
                actions.push(Action {
                    kind: c.action,
                    key: c.key.clone(),
                    value,
                    to,
                });
            }
        }
        Ok(Actions { actions })
    }

    /// Whether there is nothing to do.
    pub(crate) fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// Applies every action to `attrs`.
    pub(crate) fn apply<L: AttrList + ?Sized>(&self, attrs: &mut L) {
        for a in &self.actions {
            let pos = attrs.position(&a.key);
            let value = || ValueRef::view(a.value.as_ref());
            match (a.kind, pos) {
                (ActionKind::Insert, None) | (ActionKind::Upsert, None) => {
                    attrs.push(&a.key, value())
                }
                (ActionKind::Upsert | ActionKind::Update, Some(i)) => attrs.set_value(i, value()),
                (ActionKind::Delete, Some(i)) => attrs.remove_at(i),
                (ActionKind::Rename, Some(i)) => {
                    // As on a Vec: take `i` out, drop the first `to` of the
                    // rest, append the moved value under `to`.
                    let j = match attrs.position(&a.to) {
                        Some(j) if j == i => attrs.position_from(&a.to, i + 1),
                        j => j,
                    };
                    match j {
                        Some(j) if j > i => {
                            attrs.move_renamed(i, &a.to);
                            attrs.remove_at(j - 1);
                        }
                        Some(j) => {
                            attrs.remove_at(j);
                            attrs.move_renamed(i - 1, &a.to);
                        }
                        None => attrs.move_renamed(i, &a.to),
                    }
                }
                (ActionKind::Hash, Some(i)) => {
                    let mut hex = [0; 64];
                    let hashed = attrs
                        .value_at(i)
                        .scalar_text()
                        .map(|s| sha256_hex_into(&[s.as_bytes()], &mut hex));
                    if let Some(h) = hashed {
                        attrs.set_value(i, ValueRef::Str(h));
                    }
                }
                _ => {}
            }
        }
    }
}

/// A config value as an attribute value, with `${env:NAME}` expanded in strings.
fn value_from_yaml(v: &yaml_serde::Value, path: &str) -> Result<AnyValue, ConfigError> {
    use yaml_serde::Value as Y;
    let value = match v {
        Y::String(s) => Value::StringValue(expand_env(s, path)?),
        Y::Bool(b) => Value::BoolValue(*b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::IntValue(i)
            } else if let Some(f) = n.as_f64() {
                Value::DoubleValue(f)
            } else {
                return Err(ConfigError::at(path, "number out of range"));
            }
        }
        _ => {
            return Err(ConfigError::at(
                path,
                "expected a string, number or boolean",
            ));
        }
    };
    Ok(AnyValue { value: Some(value) })
}

/// Expands every `${env:NAME}` in `s` from the process environment. A variable
/// that is not set is an error at `path`.
pub(crate) fn expand_env(s: &str, path: &str) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${env:") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "${env:".len()..];
        let Some(end) = after.find('}') else {
            return Err(ConfigError::at(path, "unterminated `${env:`"));
        };
        let name = &after[..end];
        if name.is_empty() {
            return Err(ConfigError::at(path, "empty variable name in `${env:}`"));
        }
        match std::env::var(name) {
            Ok(v) => out.push_str(&v),
            Err(_) => {
                return Err(ConfigError::at(
                    path,
                    format!("environment variable `{name}` is not set (or not UTF-8)"),
                ));
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}
