//! `${env:VAR}` references in the schema.
//!
//! The runtime expands references before the file is parsed, and a plain
//! scalar that is exactly one reference is read again as YAML, so
//! `port: ${env:PORT}` becomes a number. A file is checked before expansion,
//! so wherever the schema expects a number, a boolean, one of fixed strings or
//! a string of a given pattern (sizes, durations), it must also take such a
//! reference. Free-form strings take one anyway.

use serde_json::{Map, Value, json};

/// The `$defs` entry the references point at.
pub(super) fn reference_schema() -> Value {
    json!({
        "description": "An environment variable, expanded when the file is loaded: `${env:VAR}`, or `${env:VAR:-default}` for a default when it is unset or empty.",
        "type": "string",
        "pattern": r"^\$\{env:[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$",
    })
}

/// Keywords that hold one subschema.
const ONE: [&str; 6] = ["additionalProperties", "items", "not", "if", "then", "else"];
/// Keywords that hold a map of subschemas.
const MAP: [&str; 3] = ["properties", "patternProperties", "$defs"];
/// Keywords that hold a list of subschemas.
const LIST: [&str; 3] = ["anyOf", "oneOf", "allOf"];
/// Keywords that constrain a scalar's value, moved into the first branch when
/// a leaf is wrapped; annotations (description, default, ...) stay outside.
const ASSERTIONS: [&str; 14] = [
    "type",
    "enum",
    "const",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
];

/// Makes every scalar below `schema` that a reference would fail also accept
/// one (`#/$defs/env`). `oneOf` becomes `anyOf`, so a reference accepted by
/// several branches is not refused as ambiguous.
pub(super) fn accept_references(schema: &mut Value) {
    let Value::Object(obj) = schema else { return };
    if let Some(branches) = obj.remove("oneOf") {
        obj.insert("anyOf".into(), branches);
    }
    if let Some(Value::Array(branches)) = obj.get_mut("anyOf") {
        let leaves = branches.iter().all(|b| leaf(b).is_some());
        if leaves && branches.iter().any(|b| leaf(b) == Some(true)) {
            branches.push(env_ref());
        } else {
            branches.iter_mut().for_each(accept_references);
        }
    } else if leaf(&Value::Object(obj.clone())) == Some(true) {
        wrap(obj);
        return;
    }
    for k in ONE {
        if let Some(child) = obj.get_mut(k) {
            accept_references(child);
        }
    }
    for k in MAP {
        if let Some(Value::Object(children)) = obj.get_mut(k) {
            children.values_mut().for_each(accept_references);
        }
    }
    for k in LIST {
        if let Some(Value::Array(children)) = obj.get_mut(k) {
            if k != "anyOf" {
                children.iter_mut().for_each(accept_references);
            }
        }
    }
}

fn env_ref() -> Value {
    json!({ "$ref": "#/$defs/env" })
}

/// Whether `schema` is a leaf (no references, no branches, no object or array
/// structure), and if so whether a reference would fail it: `Some(true)` for
/// numbers, booleans, fixed values and patterns; `Some(false)` for free strings
/// and null; `None` for anything else.
fn leaf(schema: &Value) -> Option<bool> {
    let obj = schema.as_object()?;
    let structural = [
        "$ref",
        "anyOf",
        "oneOf",
        "allOf",
        "properties",
        "patternProperties",
        "additionalProperties",
        "items",
    ];
    if structural.iter().any(|k| obj.contains_key(*k)) {
        return None;
    }
    let types: Vec<&str> = match obj.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if types.iter().any(|t| matches!(*t, "object" | "array")) {
        return None;
    }
    let fixed = ["enum", "const", "pattern", "format"]
        .iter()
        .any(|k| obj.contains_key(*k));
    let typed = types
        .iter()
        .any(|t| matches!(*t, "integer" | "number" | "boolean"));
    if fixed || typed {
        return Some(true);
    }
    (types.iter().any(|t| matches!(*t, "string" | "null"))).then_some(false)
}

/// `{assertions, annotations}` → `{annotations, anyOf: [{assertions}, env]}`.
fn wrap(obj: &mut Map<String, Value>) {
    let mut inner = Map::new();
    for k in ASSERTIONS {
        if let Some(v) = obj.remove(k) {
            inner.insert(k.into(), v);
        }
    }
    obj.insert("anyOf".into(), json!([Value::Object(inner), env_ref()]));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_take_a_reference_and_structure_is_kept() {
        let mut s = json!({
            "type": "object",
            "properties": {
                "n": { "type": "integer", "description": "a number", "default": 3 },
                "s": { "type": "string" },
                "opt": { "type": ["boolean", "null"] },
                "e": { "oneOf": [
                    { "type": "string", "const": "a", "description": "A" },
                    { "type": "string", "const": "b" },
                ]},
                "list": { "type": "array", "items": { "type": "number" } },
            },
            "$defs": { "X": { "type": "string", "enum": ["x"] } },
        });
        accept_references(&mut s);
        let env = env_ref();
        assert_eq!(
            s["properties"]["n"],
            json!({ "description": "a number", "default": 3,
                    "anyOf": [{ "type": "integer" }, env] })
        );
        assert_eq!(s["properties"]["s"], json!({ "type": "string" }));
        assert_eq!(
            s["properties"]["opt"]["anyOf"][0],
            json!({ "type": ["boolean", "null"] })
        );
        let e = &s["properties"]["e"];
        assert!(e.get("oneOf").is_none());
        assert_eq!(e["anyOf"].as_array().unwrap().len(), 3);
        assert_eq!(e["anyOf"][2], env);
        assert_eq!(s["properties"]["list"]["items"]["anyOf"][1], env);
        assert_eq!(s["$defs"]["X"]["anyOf"][1], env);
    }
}
