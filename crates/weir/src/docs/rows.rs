//! A component's config schema → the rows of its settings table: every key
//! (nested keys dotted, list items `[]`), its type, default and meaning.

use serde_json::{Map, Value};

/// One setting.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// `protocols.grpc.endpoint`, `rules[].name`.
    pub key: String,
    /// `string`, `size`, `` `a` \| `b` ``, `list of objects`, ...
    pub ty: String,
    /// What the default column shows.
    pub default: String,
    /// The doc comment, on one line, without its `Default:` sentence.
    pub meaning: String,
    /// The `Default: ...` sentence of the doc comment, without `Default: `.
    pub doc_default: Option<String>,
    /// The default the code uses (the schema's `default`), if any.
    pub code_default: Option<Value>,
}

/// The rows of every key of `root`, a component's config schema (with its
/// `$defs`), in key order, each object's keys followed by their children.
pub(crate) fn rows(root: &Value) -> Vec<Row> {
    let mut out = Vec::new();
    walk(root, root, "", &mut out);
    out
}

fn walk(root: &Value, obj: &Value, prefix: &str, out: &mut Vec<Row>) {
    let Some(props) = obj.get("properties").and_then(Value::as_object) else {
        return;
    };
    let required: Vec<&str> = obj
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (name, prop) in props {
        let key = format!("{prefix}{name}");
        let target = unwrap_null(root, prop);
        let description = text(prop, "description")
            .or_else(|| text(target, "description"))
            .unwrap_or_default();
        let (mut meaning, doc_default) = split_default(description);
        if let Some(values) = variant_docs(root, target, &meaning) {
            meaning = if meaning.is_empty() {
                values
            } else {
                format!("{meaning} {values}")
            };
        }
        let code_default = prop.get("default").cloned();
        if doc_default.is_none()
            && let Some(v) = &code_default
        {
            meaning = drop_default_note(&meaning, &render_scalar(v));
        }
        let default = match (&doc_default, &code_default) {
            (Some(d), _) => d.clone(),
            (None, Some(v)) => render_value(v),
            (None, None) if required.contains(&name.as_str()) => "required".into(),
            // Types that cannot show their default value (no `Serialize`):
            // an absent `Option` is none, an absent list empty.
            (None, None) if nullable(root, prop) => "none".into(),
            (None, None) if target.get("type") == Some(&Value::String("array".into())) => {
                "empty".into()
            }
            (None, None) => String::new(),
        };
        out.push(Row {
            ty: type_name(root, prop),
            key: key.clone(),
            default,
            meaning,
            doc_default,
            code_default,
        });
        if has_properties(target) {
            walk(root, target, &format!("{key}."), out);
        } else if let Some(items) = target.get("items") {
            let items = unwrap_null(root, items);
            if has_properties(items) {
                walk(root, items, &format!("{key}[]."), out);
            }
        }
    }
}

fn text<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn has_properties(v: &Value) -> bool {
    v.get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty())
}

/// Follows `$ref`s into `root`'s `$defs`.
pub(crate) fn resolve<'v>(root: &'v Value, mut v: &'v Value) -> &'v Value {
    for _ in 0..16 {
        let Some(name) = v
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
        else {
            break;
        };
        match root.get("$defs").and_then(|d| d.get(name)) {
            Some(target) => v = target,
            None => break,
        }
    }
    v
}

/// The schema an `Option` wraps: the one branch of an `anyOf` that is not
/// `null`, resolved.
fn unwrap_null<'v>(root: &'v Value, v: &'v Value) -> &'v Value {
    let v = resolve(root, v);
    let branches = branches(v);
    let mut non_null = branches.iter().filter(|b| !is_null(b));
    match (non_null.next(), non_null.next()) {
        (Some(one), None) if !branches.is_empty() => resolve(root, one),
        _ => v,
    }
}

fn branches(v: &Value) -> Vec<&Value> {
    ["anyOf", "oneOf"]
        .iter()
        .filter_map(|k| v.get(*k).and_then(Value::as_array))
        .flatten()
        .collect()
}

/// Whether `v` takes `null` (an `Option`).
fn nullable(root: &Value, v: &Value) -> bool {
    let v = resolve(root, v);
    match v.get("type") {
        Some(Value::Array(ts)) if ts.iter().any(|t| t == "null") => true,
        _ => branches(v).iter().any(|b| is_null(b)),
    }
}

fn is_null(v: &Value) -> bool {
    v.get("type") == Some(&Value::String("null".into()))
}

/// What the type column says about `v`.
pub(crate) fn type_name(root: &Value, v: &Value) -> String {
    let v = unwrap_null(root, v);
    if let Some(title) = text(v, "title") {
        return title.into();
    }
    if let Some(values) = fixed_values(root, v) {
        return values
            .iter()
            .map(|(value, _)| code(&render_scalar(value)))
            .collect::<Vec<_>>()
            .join(" \\| ");
    }
    let branches = branches(v);
    if !branches.is_empty() {
        let mut names: Vec<String> = Vec::new();
        for b in branches.iter().filter(|b| !is_null(b)) {
            let n = type_name(root, b);
            if !names.contains(&n) {
                names.push(n);
            }
        }
        return join_or(&names);
    }
    let types: Vec<&str> = match v.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ => Vec::new(),
    };
    match types.as_slice() {
        ["array"] => match v.get("items") {
            Some(items) => format!("list of {}", plural(&type_name(root, items))),
            None => "list".into(),
        },
        ["object"] => match v.get("additionalProperties") {
            Some(inner @ Value::Object(_)) if !has_properties(v) => {
                format!("map of {}", plural(&type_name(root, inner)))
            }
            _ => "object".into(),
        },
        ["boolean"] => "bool".into(),
        [] => "any".into(),
        ts => join_or(&ts.iter().map(|t| t.to_string()).collect::<Vec<_>>()),
    }
}

fn join_or(names: &[String]) -> String {
    match names {
        [] => "any".into(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

fn plural(t: &str) -> String {
    match t {
        "string" | "integer" | "number" | "object" | "bool" | "size" | "duration" => {
            format!("{t}s")
        }
        other => other.into(),
    }
}

/// The values of an enum (`enum`, or `oneOf`/`anyOf` of `const`s), each with
/// its doc comment.
fn fixed_values(root: &Value, v: &Value) -> Option<Vec<(Value, Option<String>)>> {
    let v = resolve(root, v);
    if let Some(values) = v.get("enum").and_then(Value::as_array) {
        return Some(values.iter().map(|x| (x.clone(), None)).collect());
    }
    if let Some(c) = v.get("const") {
        return Some(vec![(c.clone(), text(v, "description").map(String::from))]);
    }
    let branches = branches(v);
    if branches.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for b in branches {
        out.extend(fixed_values(root, b)?);
    }
    Some(out)
}

/// ``"`a`: what a is; `b`: what b is."`` for an enum whose values `meaning`
/// does not already name, from the values' doc comments.
fn variant_docs(root: &Value, v: &Value, meaning: &str) -> Option<String> {
    let values = fixed_values(root, v)?;
    let named = |value: &Value| meaning.contains(&code(&render_scalar(value)));
    if values.iter().all(|(value, _)| named(value)) {
        return None;
    }
    let parts: Vec<String> = values
        .iter()
        .filter_map(|(value, doc)| {
            let doc = doc.as_deref()?.trim().trim_end_matches('.');
            Some(format!(
                "{}: {}",
                code(&render_scalar(value)),
                one_line(doc)
            ))
        })
        .collect();
    (!parts.is_empty()).then(|| format!("{}.", parts.join("; ")))
}

/// A default value as the table shows it.
fn render_value(v: &Value) -> String {
    match v {
        Value::Null => "none".into(),
        Value::Array(items) if items.is_empty() => "empty".into(),
        Value::Object(m) if m.is_empty() => "empty".into(),
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => items
            .iter()
            .map(|i| code(&render_scalar(i)))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Array(_) | Value::Object(_) => String::new(),
        scalar => code(&render_scalar(scalar)),
    }
}

/// A scalar as written in YAML.
pub(crate) fn render_scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `s` as inline code.
fn code(s: &str) -> String {
    format!("`{s}`")
}

/// Splits a doc comment into its meaning and the text of its `Default: ...`
/// sentence (from `Default: ` to the end of its paragraph). Sentences saying
/// only that the key is required go too: the default column says it.
pub(crate) fn split_default(doc: &str) -> (String, Option<String>) {
    let mut doc = doc.to_string();
    for required in ["Required; no default.", "Required."] {
        doc = doc.replace(required, "");
    }
    let mut default = None;
    let starts = doc.match_indices("Default: ").map(|(i, _)| i);
    let start = starts
        .filter(|&i| i == 0 || doc[..i].ends_with(char::is_whitespace))
        .last();
    if let Some(start) = start {
        let rest = &doc[start + "Default: ".len()..];
        let end = rest.find("\n\n").unwrap_or(rest.len());
        let text = rest[..end].trim().trim_end_matches('.');
        default = Some(one_line(text));
        doc = format!("{}{}", &doc[..start], &rest[end..]);
    }
    (one_line(&doc), default)
}

/// `meaning` without a `(default X)` note that says what the default column
/// shows (`value`).
fn drop_default_note(meaning: &str, value: &str) -> String {
    let Some(start) = meaning.find(" (default ") else {
        return meaning.to_string();
    };
    let Some(len) = meaning[start..].find(')') else {
        return meaning.to_string();
    };
    let note = &meaning[start..start + len + 1];
    if value.is_empty() || !note.contains(value) {
        return meaning.to_string();
    }
    format!("{}{}", &meaning[..start], &meaning[start + len + 1..])
}

/// Text on one line (for a table cell): line breaks become spaces, `|` is
/// escaped.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// An empty schema document holding `fields` (key, schema with its own
/// `$defs`) as its properties, for rows of settings that are not one struct
/// (the exporter harness).
pub(crate) fn document(fields: Vec<(&str, Value)>) -> Value {
    let mut props = Map::new();
    let mut defs = Map::new();
    for (key, mut schema) in fields {
        crate::schema::hoist_defs(&mut schema, &format!("{key}."), &mut defs);
        props.insert(key.into(), schema);
    }
    let mut doc = Map::new();
    doc.insert("properties".into(), Value::Object(props));
    doc.insert("$defs".into(), Value::Object(defs));
    Value::Object(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_name_nested_keys_types_and_defaults() {
        let schema = json!({
            "type": "object",
            "required": ["path"],
            "properties": {
                "path": { "type": "string", "description": "Where.\nRequired." },
                "mode": { "$ref": "#/$defs/Mode", "default": "fast",
                          "description": "How. Default: `fast` (the quick one)." },
                "tls": { "anyOf": [{ "$ref": "#/$defs/Tls" }, { "type": "null" }],
                         "default": null, "description": "TLS." },
                "tags": { "type": "array", "items": { "type": "string" }, "default": ["a"] },
            },
            "$defs": {
                "Mode": { "oneOf": [
                    { "const": "fast", "description": "Quick." },
                    { "const": "slow", "description": "Careful." },
                ]},
                "Tls": { "type": "object", "properties": {
                    "ca": { "type": ["string", "null"], "description": "A | B." },
                }},
            },
        });
        let rows = rows(&schema);
        let keys: Vec<_> = rows.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["mode", "path", "tags", "tls", "tls.ca"]);
        assert_eq!(rows[0].ty, "`fast` \\| `slow`");
        assert_eq!(rows[0].default, "`fast` (the quick one)");
        assert_eq!(rows[0].meaning, "How. `fast`: Quick; `slow`: Careful.");
        assert_eq!(rows[1].default, "required");
        assert_eq!(rows[1].meaning, "Where.");
        assert_eq!(rows[2].ty, "list of strings");
        assert_eq!(rows[2].default, "`a`");
        assert_eq!(
            (rows[3].ty.as_str(), rows[3].default.as_str()),
            ("object", "none")
        );
        assert_eq!(rows[4].meaning, "A \\| B.");
        assert_eq!(rows[4].ty, "string");
    }
}
