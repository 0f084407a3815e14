//! Secret masking. Attributes whose key contains a secret name (case-insensitive)
//! get their whole value replaced; in other string values and in string bodies,
//! `Bearer <token>`, `<secret name>=<value>` (or `:`) and the configured patterns
//! have the secret part replaced. Nested kvlists and arrays are walked. Matching
//! is done by precompiled regexes; a value with no match is not copied.

use std::borrow::Cow;

use regex::Regex;
use weir_core::ConfigError;
use weir_core::otlp::common::v1::{AnyValue, KeyValue, any_value::Value};
use weir_otlp::splice::attrs::ValueRef;

use super::config::MaskConfig;

/// The compiled masking step.
#[derive(Debug, Clone)]
pub(crate) struct Masker {
    /// Matches a secret key name anywhere in a key (`None` when the list is empty).
    keys: Option<Regex>,
    /// `Bearer <token>`: group 1 kept.
    bearer: Option<Regex>,
    /// `<name>=<value>`: groups 1 and 2 kept.
    key_value: Option<Regex>,
    /// User patterns: the whole match replaced.
    patterns: Vec<Regex>,
    body: bool,
    replacement: String,
    bearer_rep: String,
    key_value_rep: String,
}

impl Masker {
    /// Compiles `cfg`.
    pub(crate) fn build(cfg: &MaskConfig) -> Result<Masker, ConfigError> {
        let names: Vec<String> = cfg
            .keys
            .iter()
            .filter(|k| !k.is_empty())
            .map(|k| regex::escape(k))
            .collect();
        let alternation = names.join("|");
        let keys = (!names.is_empty())
            .then(|| Regex::new(&format!("(?i)(?:{alternation})")))
            .transpose()
            .map_err(|e| ConfigError::at("mask.keys", e.to_string()))?;
        let (bearer, key_value) = if cfg.values {
            let bearer = Regex::new(r"(?i)(\bbearer\s+)[^\s,;]+").expect("valid regex");
            let key_value = (!names.is_empty())
                .then(|| {
                    Regex::new(&format!(
                        r#"(?i)([\w.-]*(?:{alternation})[\w.-]*"?\s*[=:]\s*"?)[^\s&,;"]+"#
                    ))
                })
                .transpose()
                .map_err(|e| ConfigError::at("mask.keys", e.to_string()))?;
            (Some(bearer), key_value)
        } else {
            (None, None)
        };
        let patterns = cfg
            .patterns
            .iter()
            .enumerate()
            .map(|(i, p)| {
                Regex::new(p)
                    .map_err(|e| ConfigError::at(format!("mask.patterns[{i}]"), e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let escaped = cfg.replacement.replace('$', "$$");
        Ok(Masker {
            keys,
            bearer,
            key_value,
            patterns,
            body: cfg.body,
            bearer_rep: format!("${{1}}{escaped}"),
            key_value_rep: format!("${{1}}{escaped}"),
            replacement: cfg.replacement.clone(),
        })
    }

    /// Masks `attrs` (and `body`, when given and enabled).
    pub(crate) fn apply(&self, attrs: &mut [KeyValue], body: Option<&mut Option<AnyValue>>) {
        self.attributes(attrs);
        if self.body
            && let Some(Some(v)) = body
        {
            self.value(v);
        }
    }

    fn attributes(&self, attrs: &mut [KeyValue]) {
        for kv in attrs {
            if self.keys.as_ref().is_some_and(|k| k.is_match(&kv.key)) {
                if let Some(v) = &mut kv.value {
                    match &mut v.value {
                        Some(Value::StringValue(s)) if *s == self.replacement => {}
                        Some(Value::StringValue(s)) => s.clone_from(&self.replacement),
                        _ => v.value = Some(Value::StringValue(self.replacement.clone())),
                    }
                }
            } else if let Some(v) = &mut kv.value {
                self.value(v);
            }
        }
    }

    fn value(&self, v: &mut AnyValue) {
        match &mut v.value {
            Some(Value::StringValue(s)) => self.string(s),
            Some(Value::KvlistValue(list)) => self.attributes(&mut list.values),
            Some(Value::ArrayValue(array)) => {
                for v in &mut array.values {
                    self.value(v);
                }
            }
            _ => {}
        }
    }

    /// Whether masking would (or may) change attribute `key` = `value`: a
    /// secret key not already masked, a string with a secret in it, or any
    /// array or map (not looked into here).
    pub(crate) fn may_change(&self, key: &str, value: &ValueRef<'_>) -> bool {
        if self.keys.as_ref().is_some_and(|k| k.is_match(key)) {
            return *value != ValueRef::Str(&self.replacement);
        }
        self.value_may_change(value)
    }

    /// Whether masking may change a body of `value` (bodies are masked only
    /// when `body` is on).
    pub(crate) fn body_may_change(&self, value: &ValueRef<'_>) -> bool {
        self.body && self.value_may_change(value)
    }

    fn value_may_change(&self, value: &ValueRef<'_>) -> bool {
        match value {
            ValueRef::Str(s) => self.string_has_secret(s),
            ValueRef::Array(_) | ValueRef::Kvlist(_) => true,
            _ => false,
        }
    }

    fn string_has_secret(&self, s: &str) -> bool {
        self.bearer.as_ref().is_some_and(|re| re.is_match(s))
            || self.key_value.as_ref().is_some_and(|re| re.is_match(s))
            || self.patterns.iter().any(|re| re.is_match(s))
    }

    /// Masks the secrets inside one string.
    pub(crate) fn string(&self, s: &mut String) {
        if let Some(re) = &self.bearer {
            replace(s, re, &self.bearer_rep);
        }
        if let Some(re) = &self.key_value {
            replace(s, re, &self.key_value_rep);
        }
        for re in &self.patterns {
            replace(s, re, regex::NoExpand(&self.replacement));
        }
    }
}

fn replace<R: regex::Replacer>(s: &mut String, re: &Regex, rep: R) {
    if let Cow::Owned(new) = re.replace_all(s, rep) {
        *s = new;
    }
}
