//! The `debug` exporter's configuration.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Prints a summary line per batch on stderr
/// (`debug: logs batch: 1000 items, 1 resources, 312345 bytes`), or every record
/// too. For trying pipelines out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DebugExporterConfig {
    /// How much to print per batch. Default: `basic`.
    #[serde(default)]
    pub verbosity: Verbosity,
}

/// How much the `debug` exporter prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verbosity {
    /// One summary line per batch.
    #[default]
    Basic,
    /// The summary line, then one line per log record, span or metric.
    Detailed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_core::ComponentConfig;

    #[test]
    fn parses_with_defaults() {
        let c: DebugExporterConfig = ComponentConfig::default().parse().unwrap();
        assert_eq!(c.verbosity, Verbosity::Basic);
        let c: DebugExporterConfig = ComponentConfig::from_yaml("verbosity: detailed")
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(c.verbosity, Verbosity::Detailed);
        let e = ComponentConfig::from_yaml("verbosity: loud")
            .unwrap()
            .parse::<DebugExporterConfig>()
            .unwrap_err();
        assert_eq!(e.path.as_deref(), Some("verbosity"));
        let e = ComponentConfig::from_yaml("level: basic")
            .unwrap()
            .parse::<DebugExporterConfig>()
            .unwrap_err();
        assert!(e.message.contains("unknown field `level`"), "{e}");
    }
}
