//! The `service` section, described by hand: the runtime parses it by hand
//! (`weir_runtime::config`), so there is no struct to derive a schema from.
//! Keep it in step with `crates/weir-runtime/src/config/parse.rs`; the tests
//! validate every shipped pipeline and the documented examples against it.
//!
//! A key set to nothing (`logs:`) counts as not set there, so every key here
//! also takes `null`.

use serde_json::{Value, json};

use super::NAME;

/// `service:`.
pub(super) fn schema() -> Value {
    let id = format!("^{NAME}(/{NAME})?$");
    let list = |what: &str, min: u64| {
        json!({
            "description": format!("{what}, by id (`type` or `type/name`), declared in the section of the same name."),
            "type": "array",
            "items": { "type": "string", "pattern": id },
            "minItems": min,
        })
    };
    let pipeline = json!({
        "description": "One pipeline: its receivers feed its processors, in order, then every one of its exporters.",
        "type": "object",
        "required": ["receivers", "exporters"],
        "properties": {
            "receivers": list("Where its data comes from", 1),
            "processors": list("What its data goes through, in this order", 0),
            "exporters": list("Where its data goes; each gets every batch", 1),
            "channel_capacity": nullable(json!({
                "description": "Batches each edge of the pipeline holds before the sender waits.",
                "type": "integer",
                "minimum": 1,
                "default": 8,
            })),
            "channel_max_bytes": nullable(json!({
                "description": "Encoded bytes each edge holds before the sender waits (a single larger batch still passes, alone).",
                "$ref": "#/$defs/size",
                "default": "8MiB",
            })),
        },
        "additionalProperties": false,
    });
    let otlp = |what: &str, interval: &str| {
        nullable(json!({
            "description": format!("Push {what} over OTLP."),
            "type": "object",
            "required": ["endpoint"],
            "properties": {
                "endpoint": {
                    "description": "The collector's URL, such as `http://127.0.0.1:4317` (weir itself, or another collector).",
                    "type": "string",
                    "pattern": "^https?://",
                },
                "protocol": nullable(json!({
                    "description": "`grpc` (port 4317) or `http/protobuf` (port 4318; the path is added).",
                    "enum": ["grpc", "http/protobuf"],
                    "default": "grpc",
                })),
                "interval": nullable(json!({
                    "description": "How often they are sent.",
                    "$ref": "#/$defs/duration",
                    "default": interval,
                })),
            },
            "additionalProperties": false,
        }))
    };
    let metrics = json!({
        "description": "weir's own metrics, or `none` for no endpoint.",
        "anyOf": [
            { "const": "none" },
            { "type": "null" },
            {
                "type": "object",
                "properties": {
                    "address": nullable(json!({
                        "description": "Where `/metrics`, `/healthz` and `/readyz` are served (`host:port`, host an IP or `localhost`), or `none`.",
                        "type": "string",
                        "default": "127.0.0.1:8888",
                    })),
                    "level": nullable(json!({
                        "description": "`normal`: every series of docs/telemetry.md; `none`: no series at all (to measure what telemetry costs).",
                        "enum": ["normal", "none"],
                        "default": "normal",
                    })),
                    "otlp": otlp("the metrics", "10s"),
                },
                "additionalProperties": false,
            },
        ],
    });
    let telemetry = nullable(json!({
        "description": "weir's own telemetry.",
        "type": "object",
        "properties": {
            "metrics": metrics,
            "traces": nullable(json!({
                "description": "Traces of weir's deliveries.",
                "type": "object",
                "properties": { "otlp": otlp("a span per export call", "5s") },
                "additionalProperties": false,
            })),
            "logs": nullable(json!({
                "description": "weir's own logs on stderr (the `--log-level` and `--log-format` options override them).",
                "type": "object",
                "properties": {
                    "level": nullable(json!({
                        "description": "A log filter such as `info` or `weir_runtime=debug` (RUST_LOG syntax).",
                        "type": "string",
                        "minLength": 1,
                    })),
                    "format": nullable(json!({
                        "description": "`text` (human-readable lines) or `json` (one object a line).",
                        "enum": ["text", "json"],
                        "default": "text",
                    })),
                },
                "additionalProperties": false,
            })),
        },
        "additionalProperties": false,
    }));
    json!({
        "description": "The pipelines, and weir's own settings.",
        "type": "object",
        "required": ["pipelines"],
        "properties": {
            "pipelines": {
                "description": "The pipelines, by id: `logs`, `traces` or `metrics`, optionally followed by `/name`.",
                "type": "object",
                "patternProperties": {
                    format!("^(logs|traces|metrics)(/{NAME})?$"): pipeline,
                },
                "additionalProperties": false,
                "minProperties": 1,
            },
            "telemetry": telemetry,
            "shutdown_timeout": nullable(json!({
                "description": "How long a stop may take: receivers stop, channels drain, processors flush, exporters drain their queues; what is left then is abandoned (or stays in a disk queue).",
                "$ref": "#/$defs/duration",
                "default": "10s",
            })),
            "memory_limit": nullable(json!({
                "description": "The process's memory budget, at least `16MiB`: above 90% of it receivers refuse requests with a retryable answer (or read slower). Default: no limit.",
                "$ref": "#/$defs/size",
            })),
        },
        "additionalProperties": false,
    })
}

/// `schema`, or `null` (a key set to nothing is not set).
fn nullable(schema: Value) -> Value {
    let Value::Object(mut obj) = schema else {
        return schema;
    };
    let mut keep = serde_json::Map::new();
    for k in ["description", "default"] {
        if let Some(v) = obj.remove(k) {
            keep.insert(k.into(), v);
        }
    }
    keep.insert(
        "anyOf".into(),
        json!([Value::Object(obj), { "type": "null" }]),
    );
    Value::Object(keep)
}
