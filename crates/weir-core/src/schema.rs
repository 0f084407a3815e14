//! Describing a component's configuration as a JSON Schema, for `weir schema`
//! (editor completion and checks of pipeline files) and the reference that
//! `weir components --markdown` generates.
//!
//! A factory describes its config by returning [`for_config`] of its serde
//! config struct from `config_schema` ([`crate::ReceiverFactory::config_schema`]
//! and the same method on the other factories). The struct derives
//! [`JsonSchema`], which reads the serde attributes (`rename_all`, `default`,
//! `deny_unknown_fields`, ...) and takes descriptions from doc comments:
//!
//! - the struct's doc comment is the component's page in the reference: prose,
//!   then a `yaml` example; the settings table is placed after the example (or
//!   after the first paragraph when there is none);
//! - each field's doc comment is its row; a closing `Default: ...` sentence
//!   fills the default column, otherwise the default value the code uses does.
//!
//! `${env:VAR}` references need no care here: `weir schema` accepts them wherever
//! a number, boolean or fixed string is expected.
//!
//! ```
//! use serde::Deserialize;
//! use weir_core::schema::{self, JsonSchema};
//!
//! /// Drops log records below a severity.
//! #[derive(Deserialize, JsonSchema)]
//! #[schemars(crate = "weir_core::schema::schemars")]
//! #[serde(deny_unknown_fields)]
//! struct MinSeverityConfig {
//!     /// Lowest severity number kept (OTLP numbering: 9 is INFO). Default: `9`.
//!     #[serde(default = "nine")]
//!     min: i32,
//!     /// How long to wait between reports.
//!     #[serde(default = "minute", with = "humantime_serde")]
//!     #[schemars(with = "schema::HumanDuration")]
//!     report_every: std::time::Duration,
//! }
//! fn nine() -> i32 { 9 }
//! fn minute() -> std::time::Duration { std::time::Duration::from_secs(60) }
//!
//! let s = schema::for_config::<MinSeverityConfig>();
//! assert_eq!(s.get("additionalProperties"), Some(&false.into()));
//! assert_eq!(s.pointer("/properties/min/default"), Some(&9.into()));
//! assert_eq!(s.pointer("/properties/report_every/default"), Some(&"1m".into()));
//! ```
//! (Plugin crates use the re-exported [`schemars`] with
//! `#[schemars(crate = "weir_core::schema::schemars")]`, so they need no
//! dependency of their own and always match weir's version.)

use std::borrow::Cow;

use crate::ByteSize;

pub use schemars::{self, JsonSchema, Schema, json_schema};

/// The JSON Schema (draft 2020-12) of a component's config type `T`, as a
/// factory's `config_schema` returns it: named types under `$defs`, without
/// the root `title` (a Rust type name means nothing to users).
pub fn for_config<T: JsonSchema>() -> Schema {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    schema.remove("title");
    schema
}

/// Schema of a duration written as `humantime_serde` reads it: `500ms`, `5s`,
/// `1m 30s`, `1.5h`, `0`. Use it as `#[schemars(with = "HumanDuration")]` on a
/// field parsed with `#[serde(with = "humantime_serde")]` (schemars cannot see
/// through serde's `with`).
pub struct HumanDuration;

/// Units `humantime` accepts, longest first so the pattern reads them whole.
const DURATION_UNITS: &str = "nanos|nsec|ns|usec|us|µs|millis|msec|ms|seconds|second|secs|sec|s|\
    minutes|minute|mins|min|m|hours|hour|hrs|hr|h|days|day|d|weeks|week|wks|wk|w|months|month|M|\
    years|year|yrs|yr|y";

impl JsonSchema for HumanDuration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn schema_id() -> Cow<'static, str> {
        "weir_core::schema::HumanDuration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> Schema {
        let pattern = format!(r"^(0|\s*([0-9]+(\.[0-9]+)?\s*({DURATION_UNITS})\s*)+)$");
        json_schema!({
            "title": "duration",
            "description": "A duration: a number and a unit (`ns`, `us`, `ms`, `s`, `m`, `h`, `d`, ...), several may follow each other: `500ms`, `5s`, `1m 30s`.",
            "type": "string",
            "pattern": pattern,
        })
    }
}

impl JsonSchema for ByteSize {
    fn schema_name() -> Cow<'static, str> {
        "ByteSize".into()
    }

    fn schema_id() -> Cow<'static, str> {
        "weir_core::ByteSize".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> Schema {
        json_schema!({
            "title": "size",
            "description": "A size in bytes: a number (`1048576`) or a number and a unit (`512KiB`, `20MiB`, `1GB`; `B`, `KB`/`KiB`, `MB`/`MiB`, `GB`/`GiB`).",
            "anyOf": [
                { "type": "integer", "minimum": 0 },
                { "type": "string", "pattern": r"^\s*[0-9]+\s*(B|KB|kB|KiB|K|MB|MiB|M|GB|GiB|G)?\s*$" },
            ],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Example {
        /// A size. Default: `8MiB`.
        #[serde(default = "eight")]
        size: ByteSize,
        /// A wait.
        #[serde(default, with = "humantime_serde")]
        #[schemars(with = "HumanDuration")]
        wait: std::time::Duration,
    }

    fn eight() -> ByteSize {
        ByteSize::mib(8)
    }

    #[test]
    fn config_schemas_carry_docs_defaults_and_named_types() {
        let s = for_config::<Example>();
        assert!(s.get("title").is_none());
        assert_eq!(
            s.pointer("/properties/size/description"),
            Some(&"A size. Default: `8MiB`.".into())
        );
        assert_eq!(s.pointer("/properties/size/default"), Some(&"8MiB".into()));
        assert_eq!(
            s.pointer("/properties/size/$ref"),
            Some(&"#/$defs/ByteSize".into())
        );
        assert_eq!(s.pointer("/properties/wait/default"), Some(&"0s".into()));
        assert_eq!(s.pointer("/$defs/Duration/title"), Some(&"duration".into()));
    }
}
