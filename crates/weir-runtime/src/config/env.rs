//! `${env:VAR}` and `${env:VAR:-default}` expansion over the whole document.
//!
//! Expansion runs on the parsed tree, not the text, so a value can never inject
//! YAML structure, and an error points at the node that holds the reference.
//! Expanded text is not expanded again.

use std::collections::HashSet;

use yaml_serde::Value;

use super::Diagnostics;
use super::source_map::{child_index, child_key};

/// The forms we support, for error messages.
const FORMS: &str = "`${env:VAR}` or `${env:VAR:-default}` (write `$${` for a literal `${`)";

/// A string scalar after expansion.
#[derive(Debug, PartialEq)]
pub(crate) struct Expanded {
    /// The text with every reference replaced.
    pub text: String,
    /// Whether the scalar was exactly one `${...}`, so its value may be re-read
    /// as a typed YAML scalar.
    pub whole: bool,
}

/// Expands every string scalar below `root` (mapping values and sequence items;
/// keys are names, not values, and are left alone, as in the Collector). Each
/// problem is reported at its node; the paths of the nodes that had one are
/// returned so later stages can leave those parts out without repeating the error.
pub(crate) fn expand_document(
    root: &mut Value,
    env: &dyn Fn(&str) -> Option<String>,
    diags: &mut Diagnostics<'_>,
) -> HashSet<String> {
    let mut poisoned = HashSet::new();
    walk(root, "", env, diags, &mut poisoned);
    poisoned
}

fn walk(
    value: &mut Value,
    path: &str,
    env: &dyn Fn(&str) -> Option<String>,
    diags: &mut Diagnostics<'_>,
    poisoned: &mut HashSet<String>,
) {
    match value {
        // Most strings hold no reference; leave them untouched.
        Value::String(s) if !s.contains('$') => {}
        Value::String(s) => match expand_str(s, env) {
            Ok(e) => *value = typed(e, diags.source().is_quoted(path)),
            Err(errors) => {
                for message in errors {
                    diags.error(path, message);
                }
                poisoned.insert(path.to_string());
            }
        },
        Value::Mapping(m) => {
            for (k, v) in m.iter_mut() {
                // A key we cannot name in a path (a mapping as key) still gets its
                // value expanded; errors then point at the mapping.
                let p = key_segment(k).map_or_else(|| path.to_string(), |k| child_key(path, &k));
                walk(v, &p, env, diags, poisoned);
            }
        }
        Value::Sequence(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                walk(v, &child_index(path, i), env, diags, poisoned);
            }
        }
        Value::Tagged(t) => walk(&mut t.value, path, env, diags, poisoned),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// A mapping key as a path segment, spelled as the file most likely spells it.
pub(crate) fn key_segment(key: &Value) -> Option<String> {
    match key {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some("null".to_string()),
        Value::Sequence(_) | Value::Mapping(_) | Value::Tagged(_) => None,
    }
}

/// Turns an expanded scalar into a value: a plain scalar that was exactly one
/// reference is read as YAML, so `port: ${env:PORT}` is a number and
/// `enabled: ${env:ON}` a bool, as if the value had been written there. A quoted
/// one stays a string, the way `"8080"` is a string. Only scalars are taken from
/// the re-read (a value like `[a, b]` stays text), and an empty value stays an
/// empty string rather than becoming null.
fn typed(e: Expanded, quoted: bool) -> Value {
    if e.whole && !quoted && !e.text.trim().is_empty() {
        if let Ok(v @ (Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_))) =
            yaml_serde::from_str::<Value>(&e.text)
        {
            return v;
        }
    }
    Value::String(e.text)
}

/// Expands the references in one string. All problems in it are returned.
pub(crate) fn expand_str(
    s: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Expanded, Vec<String>> {
    let mut out = String::with_capacity(s.len());
    let mut errors = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let at = &rest[i..];
        if let Some(after) = at.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = at.strip_prefix("${") {
            // The reference ends at the first `}`: defaults cannot hold one, and
            // references do not nest.
            let Some(end) = after.find('}') else {
                errors.push(format!("unterminated `${{` in `{s}`: expected {FORMS}"));
                rest = "";
                break;
            };
            match resolve(&after[..end], env) {
                Ok(v) => out.push_str(&v),
                Err(e) => errors.push(e),
            }
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &at[1..];
        }
    }
    out.push_str(rest);
    if !errors.is_empty() {
        return Err(errors);
    }
    let whole = s.starts_with("${") && s.find('}') == Some(s.len() - 1);
    Ok(Expanded { text: out, whole })
}

/// The value of the reference `${inner}`.
fn resolve(inner: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let Some(spec) = inner.strip_prefix("env:") else {
        return Err(format!(
            "unsupported reference `${{{inner}}}`: expected {FORMS}"
        ));
    };
    let (name, default) = match spec.split_once(":-") {
        Some((n, d)) => (n, Some(d)),
        None => (spec, None),
    };
    let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!(
            "invalid variable name `{name}` in `${{{inner}}}`: expected letters, digits and `_` \
             in {FORMS}"
        ));
    }
    match (env(name), default) {
        // `:-` as in the shell: the default also replaces a variable set to "".
        (Some(v), Some(d)) if v.is_empty() => Ok(d.to_string()),
        (Some(v), _) => Ok(v),
        (None, Some(d)) => Ok(d.to_string()),
        (None, None) => Err(format!(
            "environment variable `{name}` is not set; set it, or give a default with \
             `${{env:{name}:-default}}`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("collector.local".into()),
            "PORT" => Some("4317".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn ok(s: &str) -> Expanded {
        expand_str(s, &env).unwrap()
    }

    #[test]
    fn embedded_references_expand_in_place() {
        let e = ok("http://${env:HOST}:${env:PORT}/v1");
        assert_eq!(e.text, "http://collector.local:4317/v1");
        assert!(!e.whole);
    }

    #[test]
    fn a_lone_reference_is_whole() {
        assert_eq!(
            ok("${env:PORT}"),
            Expanded {
                text: "4317".into(),
                whole: true
            }
        );
        assert!(!ok("${env:PORT}${env:PORT}").whole);
    }

    #[test]
    fn defaults_apply_when_unset_or_empty() {
        assert_eq!(ok("${env:NOPE:-fallback}").text, "fallback");
        assert_eq!(ok("${env:EMPTY:-fallback}").text, "fallback");
        assert_eq!(ok("${env:NOPE:-}").text, "");
        assert_eq!(ok("${env:HOST:-x}").text, "collector.local");
        assert_eq!(ok("${env:NOPE:-a:b-c}").text, "a:b-c");
    }

    #[test]
    fn set_but_empty_without_default_is_empty() {
        assert_eq!(ok("[${env:EMPTY}]").text, "[]");
    }

    #[test]
    fn double_dollar_escapes_a_reference() {
        assert_eq!(ok("$${env:HOST} costs $5").text, "${env:HOST} costs $5");
        assert!(!ok("$${env:HOST}").whole);
    }

    #[test]
    fn every_problem_in_one_string_is_reported() {
        let errs = expand_str("${env:A}-${file:x}-${PORT}-${env:1X}", &env).unwrap_err();
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(errs[0].contains("`A` is not set"), "{}", errs[0]);
        assert!(
            errs[1].contains("unsupported reference `${file:x}`"),
            "{}",
            errs[1]
        );
        assert!(errs[1].contains("`${env:VAR:-default}`"), "{}", errs[1]);
        assert!(
            errs[2].contains("unsupported reference `${PORT}`"),
            "{}",
            errs[2]
        );
        assert!(
            errs[3].contains("invalid variable name `1X`"),
            "{}",
            errs[3]
        );
    }

    #[test]
    fn unterminated_reference_is_an_error() {
        let errs = expand_str("x ${env:HOST", &env).unwrap_err();
        assert!(errs[0].contains("unterminated"), "{errs:?}");
    }

    #[test]
    fn lone_reference_is_read_as_a_typed_scalar_unless_quoted() {
        let t = |text: &str, quoted| {
            typed(
                Expanded {
                    text: text.into(),
                    whole: true,
                },
                quoted,
            )
        };
        assert_eq!(t("4317", false), Value::Number(4317.into()));
        assert_eq!(t("true", false), Value::Bool(true));
        assert_eq!(t("4317", true), Value::String("4317".into()));
        assert_eq!(t("[a, b]", false), Value::String("[a, b]".into()));
        assert_eq!(t("", false), Value::String(String::new()));
        assert_eq!(t("a: b: c", false), Value::String("a: b: c".into()));
    }
}
