//! The `redact` processor's configuration.

use serde::Deserialize;
use weir_core::{ComponentConfig, ConfigError};

/// Configuration of the `redact` processor.
///
/// ```yaml
/// processors:
///   redact:
///     emails: true
///     card_numbers: true
///     replacement: "[{kind}]"
///     attributes: true
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactConfig {
    /// Mask e-mail addresses (`local@domain.tld`). Default: `true`.
    #[serde(default = "yes")]
    pub emails: bool,
    /// Mask payment card numbers: 13 to 19 digits, spaces or dashes allowed
    /// between them, starting like a card of a major network (2-6) and
    /// passing the Luhn check, so order ids and timestamps stay.
    /// Default: `true`.
    #[serde(default = "yes")]
    pub card_numbers: bool,
    /// What a match becomes; `{kind}` stands for `email` or `card`.
    /// Default: `"[{kind}]"`.
    #[serde(default = "default_replacement")]
    pub replacement: String,
    /// Also mask string attribute values (of log records, spans and span
    /// events; nested maps and lists too), not only log bodies.
    /// Default: `true`.
    #[serde(default = "yes")]
    pub attributes: bool,
}

fn yes() -> bool {
    true
}

fn default_replacement() -> String {
    "[{kind}]".into()
}

impl Default for RedactConfig {
    fn default() -> Self {
        RedactConfig {
            emails: true,
            card_numbers: true,
            replacement: default_replacement(),
            attributes: true,
        }
    }
}

impl RedactConfig {
    /// Parses and checks a component config.
    pub fn from_component(cfg: &ComponentConfig) -> Result<Self, ConfigError> {
        let c: RedactConfig = cfg.parse()?;
        if !c.emails && !c.card_numbers {
            return Err(ConfigError::new(
                "nothing to redact: turn on `emails` or `card_numbers`",
            ));
        }
        Ok(c)
    }

    /// The replacement for a match of `kind`.
    pub fn replacement_for(&self, kind: &str) -> String {
        self.replacement.replace("{kind}", kind)
    }
}
