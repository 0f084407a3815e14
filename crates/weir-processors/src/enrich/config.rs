//! The `enrich` processor's configuration (see `docs/processors/enrich.md`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use weir_core::{ComponentConfig, ConfigError};

/// Adds, derives and masks attributes of logs, spans and metric resources:
/// attribute actions (`insert`, `upsert`, `update`, `delete`, `rename`, `hash`)
/// on records or resources, host/OS/process/service detectors, JSON bodies to
/// attributes (as `stdin` maps them), Domain-Action-Status markers, lookup tables
/// from CSV or YAML, secret masking in attributes and bodies, and error
/// fingerprints. Every section is optional; an empty config only computes error
/// fingerprints.
///
/// ```yaml
/// processors:
///   enrich:
///     attributes:
///       - { key: deployment.environment, value: "${env:DEPLOY_ENV}", target: resource }
///       - { key: user.email, action: hash }
///     detectors: { host: true, os: true, process: true, service_name: checkout }
///     parse_json_body: true
///     das: { prefix_body: true }
///     lookup:
///       - { file: /etc/weir/users.csv, key: user.id, columns: [team, tier] }
///     mask: {}
/// ```
///
/// What each section does in detail, and the metrics it adds: [processors/enrich.md](processors/enrich.md)
/// (Domain-Action-Status markers: [reference/enrich-das.md](reference/enrich-das.md)).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrichConfig {
    /// Attribute actions, applied in order. Default: none.
    #[serde(default)]
    pub attributes: Vec<AttributeConfig>,
    /// Resource detectors. Default: all off.
    #[serde(default)]
    pub detectors: DetectorsConfig,
    /// Turn a string body holding a JSON object into body, severity, time, ids
    /// and attributes, exactly as the stdin receiver maps a JSON line.
    /// Default: `false`.
    #[serde(default)]
    pub parse_json_body: bool,
    /// Domain-Action-Status markers; absent means off.
    #[serde(default)]
    pub das: Option<DasConfig>,
    /// Lookup tables. Default: none.
    #[serde(default)]
    pub lookup: Vec<LookupConfig>,
    /// Secret masking; absent means off, `mask: {}` uses the defaults.
    #[serde(default)]
    pub mask: Option<MaskConfig>,
    /// Set `exception.fingerprint` on records carrying `exception.stacktrace`.
    /// Default: `true`.
    #[serde(default = "yes")]
    pub fingerprint: bool,
}

/// Where an attribute action applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// The log record's or span's attributes.
    #[default]
    Record,
    /// The resource's attributes.
    Resource,
}

/// What an attribute action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    /// Set `value` only when `key` is absent.
    #[default]
    Insert,
    /// Set `value`, replacing any existing one.
    Upsert,
    /// Replace the value only when `key` is present.
    Update,
    /// Remove `key`.
    Delete,
    /// Move the value of `key` to `to` (replacing `to`).
    Rename,
    /// Replace the value with the sha256 hex digest of its string form.
    Hash,
}

/// One attribute action.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeConfig {
    /// The attribute key.
    pub key: String,
    /// What the action does. Default: `insert`.
    #[serde(default)]
    pub action: ActionKind,
    /// The value for `insert`, `upsert` and `update`: a string (with
    /// `${env:NAME}` expanded at build time), number or boolean.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub value: Option<yaml_serde::Value>,
    /// The new key for `rename`.
    #[serde(default)]
    pub to: Option<String>,
    /// Whose attributes: `record` (the log record's or span's) or `resource`.
    /// Default: `record`.
    #[serde(default)]
    pub target: Target,
}

/// Resource detectors: each fills its attribute only when absent.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DetectorsConfig {
    /// `host.name` from `/proc/sys/kernel/hostname` or `/etc/hostname`.
    #[serde(default)]
    pub host: bool,
    /// `os.type` (`linux`, `darwin`, `windows`, ...).
    #[serde(default)]
    pub os: bool,
    /// `process.pid` of the weir process.
    #[serde(default)]
    pub process: bool,
    /// `service.name` to set when a resource has none.
    #[serde(default)]
    pub service_name: Option<String>,
}

/// Domain-Action-Status markers.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DasConfig {
    /// Attribute the markers are written to. Default: `das.markers`.
    #[serde(default = "default_markers_attribute")]
    pub attribute: String,
    /// Prefix a string body with the markers: `[🔑][➡️][❌] message`.
    /// Default: `false`.
    #[serde(default)]
    pub prefix_body: bool,
    /// Derive missing domain/action/status from an event name of the form
    /// `domain_action_status`. Default: `true`.
    #[serde(default = "yes")]
    pub from_event_name: bool,
    /// Attribute holding the event name; the log record's `event_name` field is
    /// used when the attribute is absent. Default: `event.name`.
    #[serde(default = "default_event_name_key")]
    pub event_name_key: String,
    /// Add `http.status_class` and `http.success`, `http.client_error` or
    /// `http.server_error` from the status code. Default: `true`.
    #[serde(default = "yes")]
    pub http_fields: bool,
    /// Include the built-in set (priority 0). Default: `true`.
    #[serde(default = "yes")]
    pub builtin: bool,
    /// User sets; a higher `priority` wins, ties go to the later set.
    #[serde(default)]
    pub sets: Vec<DasSetConfig>,
}

/// One user set of markers, inline or from a YAML file with the same three maps.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DasSetConfig {
    /// A name for error messages.
    #[serde(default)]
    pub name: Option<String>,
    /// The set's rank: a higher one wins over a lower one. Default: `0` (ties
    /// with the built-in set go to the user set).
    #[serde(default)]
    pub priority: i32,
    /// A YAML file with `domain`, `action` and `status` maps, merged under the
    /// inline maps.
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// Domain value → marker.
    #[serde(default)]
    pub domain: BTreeMap<String, String>,
    /// Action value → marker.
    #[serde(default)]
    pub action: BTreeMap<String, String>,
    /// Status value → marker.
    #[serde(default)]
    pub status: BTreeMap<String, String>,
}

/// The contents of a DAS set file.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DasTablesFile {
    /// Domain value → marker.
    #[serde(default)]
    pub domain: BTreeMap<String, String>,
    /// Action value → marker.
    #[serde(default)]
    pub action: BTreeMap<String, String>,
    /// Status value → marker.
    #[serde(default)]
    pub status: BTreeMap<String, String>,
}

/// A lookup table keyed by an attribute.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupConfig {
    /// A `.csv` file (header row) or a `.yaml`/`.yml` file (a map from key to a
    /// map of columns, or a list of rows).
    pub file: PathBuf,
    /// The record attribute (then resource attribute) whose value is looked up.
    pub key: String,
    /// The column holding the key. Default: the first CSV column; for a YAML
    /// list of rows, a column named like `key`.
    #[serde(default)]
    pub key_column: Option<String>,
    /// Columns copied to the record as attributes of the same name, when absent.
    pub columns: Vec<String>,
}

/// Secret masking.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MaskConfig {
    /// Attribute keys containing one of these (case-insensitive) have their
    /// whole value replaced.
    #[serde(default = "default_mask_keys")]
    pub keys: Vec<String>,
    /// Extra regexes: every match in a string value or body is replaced.
    #[serde(default)]
    pub patterns: Vec<String>,
    /// Mask `Bearer <token>` and `<secret key>=<value>` inside string values
    /// and bodies. Default: `true`.
    #[serde(default = "yes")]
    pub values: bool,
    /// Mask string bodies too. Default: `true`.
    #[serde(default = "yes")]
    pub body: bool,
    /// The replacement. Default: `***`.
    #[serde(default = "default_replacement")]
    pub replacement: String,
}

fn yes() -> bool {
    true
}

fn default_markers_attribute() -> String {
    "das.markers".to_owned()
}

fn default_event_name_key() -> String {
    "event.name".to_owned()
}

fn default_replacement() -> String {
    "***".to_owned()
}

/// Default secret key names for masking.
pub const DEFAULT_MASK_KEYS: &[&str] = &[
    "authorization",
    "api_key",
    "apikey",
    "token",
    "password",
    "passwd",
    "secret",
    "cookie",
    "set-cookie",
    "x-api-key",
];

fn default_mask_keys() -> Vec<String> {
    DEFAULT_MASK_KEYS.iter().map(|s| (*s).to_owned()).collect()
}

impl EnrichConfig {
    /// Parses a component config.
    pub fn from_component(cfg: &ComponentConfig) -> Result<Self, ConfigError> {
        cfg.parse()
    }
}
