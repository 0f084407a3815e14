//! The `sample` processor's configuration, as written in the pipeline file.
//!
//! Everything here is plain data; [`super::rules`] checks it and compiles it
//! (thresholds, regexes) into what the hot path uses.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Head sampling of log records and spans, consistent by trace id: every span of
/// a trace (and every log record carrying that trace id) gets the same decision,
/// here and in any other weir with the same `hash_seed` and ratio. Rules checked
/// first keep what matters (by severity or span status), drop noise (by
/// attribute value or regex), or give each value of an attribute its own ratio.
/// Kept items carry `sampling.ratio`. Metrics are not sampled.
///
/// ```yaml
/// processors:
///   sample:
///     ratio: 0.1
///     hash_seed: 22
///     hash_attribute: user.id
///     rules:
///       - { name: errors, min_severity: warn }
///       - { name: error_spans, status: error }
///       - { name: health, attribute: http.route, equals: /healthz, action: drop }
///       - name: tenants
///         ratio_by: { attribute: tenant, ratios: { gold: 1.0, free: 0.05 }, default: 0.2 }
/// ```
///
/// How decisions are made, and the metrics it adds: [processors/sample.md](processors/sample.md).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleConfig {
    /// Share of items kept when no rule decides, from `0.0` (none) to `1.0` (all).
    /// Default: `1.0`.
    #[serde(default = "default_ratio")]
    pub ratio: f64,
    /// Seed mixed into every hash. Instances with the same seed (and ratios)
    /// make the same decision for the same trace id or attribute value; give
    /// tiers that sample one after the other different seeds. Default: `0`.
    #[serde(default)]
    pub hash_seed: u32,
    /// Logs without a trace id are sampled by the hash of this attribute (record,
    /// else resource), so all records of e.g. one `user.id` share a decision.
    /// Records without it (or with no key set) are sampled at random. Default: none.
    #[serde(default)]
    pub hash_attribute: Option<String>,
    /// Rules checked before `ratio`, in order; the first that matches decides.
    /// Default: none.
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
}

fn default_ratio() -> f64 {
    1.0
}

impl Default for SampleConfig {
    fn default() -> Self {
        SampleConfig {
            ratio: default_ratio(),
            hash_seed: 0,
            hash_attribute: None,
            rules: Vec::new(),
        }
    }
}

/// One rule. Exactly one of `min_severity`, `status`, `attribute` or `ratio_by`
/// says what it matches.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// The `rule` label of its decision counters. Default: `rule_<index>`.
    #[serde(default)]
    pub name: Option<String>,
    /// Logs: keep records whose severity is at least this level (`trace`,
    /// `debug`, `info`, `warn`, `error`, `fatal`, or an OTLP severity number
    /// 1-24). Spans never match.
    #[serde(default)]
    pub min_severity: Option<SeverityLevel>,
    /// Spans: keep spans with this status (`error`). Log records never match.
    #[serde(default)]
    pub status: Option<StatusMatch>,
    /// Match on this attribute (record first, else resource), with `equals` or
    /// `matches`.
    #[serde(default)]
    pub attribute: Option<String>,
    /// With `attribute`: the value equals this (string, number or boolean).
    #[serde(default)]
    pub equals: Option<Scalar>,
    /// With `attribute`: the value (a string) matches this regex (unanchored:
    /// use `^...$` for a whole-value match).
    #[serde(default)]
    pub matches: Option<String>,
    /// With `attribute`: what to do with a match. Default: `keep`.
    #[serde(default)]
    pub action: Option<Action>,
    /// Sample at a ratio chosen by the value of an attribute.
    #[serde(default)]
    pub ratio_by: Option<RatioByConfig>,
}

/// A ratio per value of one attribute.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RatioByConfig {
    /// The attribute (record first, else resource) whose value picks the ratio.
    pub attribute: String,
    /// Ratio (0.0-1.0) per string value.
    #[serde(default)]
    pub ratios: BTreeMap<String, f64>,
    /// Ratio for values not in `ratios`. Default: the top-level `ratio`.
    #[serde(default)]
    pub default: Option<f64>,
}

/// What an attribute rule does with a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Keep the item (whatever the ratio).
    #[default]
    Keep,
    /// Drop the item.
    Drop,
}

/// A span status a rule can match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusMatch {
    /// `STATUS_CODE_ERROR`.
    Error,
}

/// A scalar attribute value to compare with.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Scalar {
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    String(String),
}

/// Level names and their OTLP severity numbers.
const SEVERITY_NAMES: [(&str, i32); 8] = [
    ("trace", 1),
    ("debug", 5),
    ("info", 9),
    ("warn", 13),
    ("warning", 13),
    ("error", 17),
    ("fatal", 21),
    ("critical", 21),
];

/// A severity threshold: a level name or an OTLP severity number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeverityLevel(pub i32);

impl SeverityLevel {
    /// The OTLP severity number of a level name (`warn` → 13), case-insensitive.
    pub fn from_name(name: &str) -> Option<i32> {
        SEVERITY_NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

impl JsonSchema for SeverityLevel {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SeverityLevel".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // Names in any case, spelled out for ECMAScript regexes (no `(?i)`).
        let names: Vec<String> = SEVERITY_NAMES
            .iter()
            .map(|(n, _)| {
                n.chars()
                    .map(|c| format!("[{}{}]", c.to_ascii_uppercase(), c))
                    .collect()
            })
            .collect();
        schemars::json_schema!({
            "title": "severity",
            "description": "A level name (`trace`, `debug`, `info`, `warn`, `error`, `fatal`; any case) or an OTLP severity number 1-24.",
            "anyOf": [
                { "type": "integer", "minimum": 1, "maximum": 24 },
                { "type": "string", "pattern": format!("^({})$", names.join("|")) },
            ],
        })
    }
}

impl<'de> Deserialize<'de> for SeverityLevel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i64),
            Name(String),
        }
        let expected = "a level (trace, debug, info, warn, error, fatal) or a severity number 1-24";
        match Raw::deserialize(d)? {
            Raw::Number(n) if (1..=24).contains(&n) => Ok(SeverityLevel(n as i32)),
            Raw::Number(n) => Err(serde::de::Error::custom(format!(
                "severity number {n} is out of range: expected {expected}"
            ))),
            Raw::Name(s) => SeverityLevel::from_name(&s)
                .map(SeverityLevel)
                .ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown level `{s}`: expected {expected}"))
                }),
        }
    }
}
