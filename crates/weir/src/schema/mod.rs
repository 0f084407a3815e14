//! `weir schema`: the JSON Schema (draft 2020-12) of a pipeline file, for
//! editor completion and checks.
//!
//! It is built from the registry, so a custom distribution's own components
//! are in it: `receivers`, `processors` and `exporters` map ids (`type` or
//! `type/name`) to the config schema each factory gives
//! ([`config_schema`](weir_core::ReceiverFactory::config_schema)); exporters
//! also take the harness keys (`queue`, `retry`, `max_in_flight`). `service` is
//! described by hand in [`service`], since the runtime parses it by hand.
//! Finally [`env::accept_references`] lets `${env:VAR}` stand wherever a number,
//! boolean or fixed string is expected.

mod env;
mod service;

use serde_json::{Map, Value, json};
use weir_core::schema::{HumanDuration, JsonSchema, Schema, for_config, schemars};
use weir_core::telemetry::Kind;
use weir_core::{ByteSize, Registry};
use weir_runtime::exporter::settings::{DEFAULT_MAX_IN_FLIGHT, QueueSettings, RetrySettings};

/// The three component kinds, with their section key, in file order.
pub(crate) const SECTIONS: [(Kind, &str); 3] = [
    (Kind::Receiver, "receivers"),
    (Kind::Processor, "processors"),
    (Kind::Exporter, "exporters"),
];

/// Letters, digits, `_`, `-`, `.`: the characters of a component type or name.
pub(crate) const NAME: &str = "[A-Za-z0-9_.-]+";

/// The config schema of the `kind` component `type_name`, if its factory gives one.
pub(crate) fn config_schema(registry: &Registry, kind: Kind, type_name: &str) -> Option<Schema> {
    match kind {
        Kind::Receiver => registry.receiver(type_name)?.config_schema(),
        Kind::Processor => registry.processor(type_name)?.config_schema(),
        Kind::Exporter => registry.exporter(type_name)?.config_schema(),
        Kind::Channel => None,
    }
}

/// The harness settings every exporter takes beside its own, as
/// `(key, schema)`; their `$defs` are not hoisted yet.
pub(crate) fn harness_settings() -> Vec<(&'static str, Value)> {
    vec![
        (
            "max_in_flight",
            json!({
                "description": "Export calls at once, at most (an exporter may cap it lower, e.g. a file writes one batch at a time). The harness adapts the concurrency below it to the destination's latency and throttling. Batches in flight together may be delivered out of order.",
                "type": "integer",
                "minimum": 1,
                "default": DEFAULT_MAX_IN_FLIGHT,
            }),
        ),
        (
            "queue",
            described(
                for_config::<QueueSettings>(),
                "The queue in front of the exporter: in memory (lost if the process dies), or a write-ahead spool on disk that survives restarts and `kill -9`.",
            ),
        ),
        (
            "retry",
            described(
                for_config::<RetrySettings>(),
                "Retries of retryable failures, with jittered exponential backoff that honours the destination's `Retry-After`.",
            ),
        ),
    ]
}

fn described(schema: Schema, description: &str) -> Value {
    let mut v = schema.to_value();
    if let Value::Object(o) = &mut v {
        o.insert("description".into(), description.into());
    }
    v
}

/// The pipeline file's schema for the components in `registry`.
pub(crate) fn pipeline_schema(registry: &Registry) -> Value {
    let mut defs = Map::new();
    defs.insert("env".into(), env::reference_schema());
    // For the hand-written `service` section.
    let mut generator = schemars::SchemaGenerator::default();
    let size = <ByteSize as JsonSchema>::json_schema(&mut generator);
    let duration = <HumanDuration as JsonSchema>::json_schema(&mut generator);
    defs.insert("size".into(), size.to_value());
    defs.insert("duration".into(), duration.to_value());
    let mut harness = Map::new();
    for (key, mut schema) in harness_settings() {
        let name = format!("harness.{key}");
        hoist_defs(&mut schema, &format!("{name}."), &mut defs);
        defs.insert(name.clone(), schema);
        harness.insert(key.into(), json!({ "$ref": def_ref(&name) }));
    }

    let mut properties = Map::new();
    for (kind, section) in SECTIONS {
        let mut patterns = Map::new();
        for type_name in registry.type_names(kind) {
            let name = format!("{section}.{type_name}");
            let mut schema = match config_schema(registry, kind, type_name) {
                Some(s) => component(s.to_value(), &name, &mut defs),
                None => json!({
                    "description": "This component does not describe its settings.",
                    "type": ["object", "null"],
                }),
            };
            if kind == Kind::Exporter
                && let Some(Value::Object(props)) = schema.get_mut("properties")
            {
                props.extend(harness.clone());
            }
            defs.insert(name.clone(), schema);
            let pattern = format!("^{}(/{NAME})?$", regex_escape(type_name));
            patterns.insert(pattern, json!({ "$ref": def_ref(&name) }));
        }
        let known: Vec<_> = registry.type_names(kind);
        properties.insert(
            section.into(),
            json!({
                "description": format!(
                    "The {}s, by id: `type` or `type/name`. Types: {}.",
                    kind.as_str(),
                    known.join(", ")
                ),
                "type": ["object", "null"],
                "patternProperties": patterns,
                "additionalProperties": false,
            }),
        );
    }
    properties.insert("service".into(), service::schema());

    let mut root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "weir pipeline file",
        "description": "Receivers, processors and exporters by id, and the pipelines that join them (`service.pipelines`).",
        "type": "object",
        "required": ["service"],
        "properties": properties,
        "additionalProperties": false,
        "$defs": defs,
    });
    env::accept_references(&mut root);
    root
}

/// A component's schema made ready to sit under `$defs/{name}`: its own
/// `$defs` moved beside it (renamed `{name}.X`), no `$schema`, the description
/// cut to its first paragraph (the rest is the reference's prose), and `null`
/// accepted when no key is required (`otlp:` alone means all defaults).
fn component(mut schema: Value, name: &str, defs: &mut Map<String, Value>) -> Value {
    hoist_defs(&mut schema, &format!("{name}."), defs);
    let Value::Object(obj) = &mut schema else {
        return schema;
    };
    obj.remove("$schema");
    if let Some(Value::String(d)) = obj.get_mut("description")
        && let Some((first, _)) = d.split_once("\n\n")
    {
        *d = first.to_string();
    }
    let required = obj
        .get("required")
        .and_then(Value::as_array)
        .is_some_and(|r| !r.is_empty());
    if !required && obj.get("type") == Some(&json!("object")) {
        obj.insert("type".into(), json!(["object", "null"]));
    }
    schema
}

/// Moves `schema`'s `$defs` into `defs` under `prefix` + name, and points its
/// `$ref`s (and theirs) at the new names.
pub(crate) fn hoist_defs(schema: &mut Value, prefix: &str, defs: &mut Map<String, Value>) {
    let own = match schema.as_object_mut().and_then(|o| o.remove("$defs")) {
        Some(Value::Object(own)) => own,
        _ => Map::new(),
    };
    rename_refs(schema, prefix);
    for (name, mut def) in own {
        rename_refs(&mut def, prefix);
        defs.insert(format!("{prefix}{name}"), def);
    }
}

fn rename_refs(v: &mut Value, prefix: &str) {
    match v {
        Value::Object(o) => {
            for (k, child) in o.iter_mut() {
                if k == "$ref"
                    && let Value::String(r) = child
                    && let Some(name) = r.strip_prefix("#/$defs/")
                {
                    *r = def_ref(&format!("{prefix}{name}"));
                } else {
                    rename_refs(child, prefix);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rename_refs(i, prefix)),
        _ => {}
    }
}

/// `#/$defs/{name}`, escaped as a JSON pointer.
fn def_ref(name: &str) -> String {
    format!("#/$defs/{}", name.replace('~', "~0").replace('/', "~1"))
}

/// `s` with regex syntax characters escaped (type names are letters, digits,
/// `_`, `-` and `.`; `-` needs no escape outside a class, and must not have
/// one in a Unicode-mode ECMAScript regex, which editors use).
fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "^$\\.*+?()[]{}|/".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_core::{
        BuildContext, ComponentConfig, ConfigError, Processor, ProcessorFactory, Signal,
    };

    /// A plugin's processor, described with the re-exported schemars.
    #[derive(weir_core::schema::JsonSchema)]
    #[schemars(crate = "weir_core::schema::schemars")]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct MinSeverity {
        /// Lowest severity number kept.
        min: i32,
    }

    struct Plugin(bool);

    impl ProcessorFactory for Plugin {
        fn type_name(&self) -> &'static str {
            if self.0 { "min_severity" } else { "opaque.v2" }
        }
        fn description(&self) -> &'static str {
            "a plugin"
        }
        fn signals(&self) -> &'static [Signal] {
            &[Signal::Logs]
        }
        fn build(
            &self,
            _: &ComponentConfig,
            _: &BuildContext,
        ) -> Result<Box<dyn Processor>, ConfigError> {
            Err(ConfigError::new("not built in this test"))
        }
        fn config_schema(&self) -> Option<Schema> {
            self.0.then(for_config::<MinSeverity>)
        }
    }

    #[test]
    fn a_distribution_s_own_components_are_described() {
        let mut registry = Registry::new();
        registry
            .add_processor(Plugin(true))
            .add_processor(Plugin(false));
        let s = pipeline_schema(&registry);
        let patterns = &s["properties"]["processors"]["patternProperties"];
        assert_eq!(
            patterns["^min_severity(/[A-Za-z0-9_.-]+)?$"]["$ref"],
            "#/$defs/processors.min_severity"
        );
        let own = &s["$defs"]["processors.min_severity"];
        assert_eq!(own["required"], json!(["min"]));
        assert_eq!(own["type"], "object", "a required key: no null config");
        assert_eq!(
            own["properties"]["min"]["anyOf"][1]["$ref"], "#/$defs/env",
            "a number also takes ${{env:...}}"
        );
        // Undescribed: any mapping, or nothing.
        assert!(patterns.get(r"^opaque\.v2(/[A-Za-z0-9_.-]+)?$").is_some());
        assert_eq!(
            s["$defs"]["processors.opaque.v2"]["type"],
            json!(["object", "null"])
        );
    }

    #[test]
    fn exporters_take_the_harness_keys() {
        let d = crate::Distribution::builtin();
        let s = pipeline_schema(d.registry());
        let file = &s["$defs"]["exporters.file"]["properties"];
        for key in ["queue", "retry", "max_in_flight", "path"] {
            assert!(file.get(key).is_some(), "{key}");
        }
        assert!(
            s["$defs"]["receivers.stdin"]["properties"]
                .get("queue")
                .is_none()
        );
    }
}
