//! Component ids, the raw configuration a factory receives, and config errors.

use std::fmt;
use std::str::FromStr;

use serde::de::DeserializeOwned;

/// A component id as written in the pipeline file: `type` or `type/name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComponentId {
    type_name: String,
    name: Option<String>,
}

impl ComponentId {
    /// The id `type_name` or `type_name/name`.
    pub fn new(type_name: impl Into<String>, name: Option<String>) -> Self {
        ComponentId {
            type_name: type_name.into(),
            name,
        }
    }

    /// The component type: the part before `/`.
    pub fn type_name(&self) -> &str {
        &self.type_name
    }

    /// The instance name: the part after `/`, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => write!(f, "{}/{}", self.type_name, n),
            None => f.write_str(&self.type_name),
        }
    }
}

impl FromStr for ComponentId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let valid = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        };
        let (t, n) = match s.split_once('/') {
            Some((t, n)) => (t, Some(n)),
            None => (s, None),
        };
        if !valid(t) || n.is_some_and(|n| !valid(n)) {
            return Err(format!(
                "invalid component id `{s}`: expected `type` or `type/name` \
                 (letters, digits, `_`, `-`, `.`)"
            ));
        }
        Ok(ComponentId::new(t, n.map(str::to_string)))
    }
}

/// The configuration of one component, as the pipeline file gave it (with
/// `${env:...}` already expanded). A factory turns it into its typed config with
/// [`ComponentConfig::parse`].
#[derive(Debug, Clone, Default)]
pub struct ComponentConfig {
    value: yaml_serde::Value,
}

impl ComponentConfig {
    /// Wraps a YAML value. A missing or `null` value means "all defaults".
    pub fn new(value: yaml_serde::Value) -> Self {
        let value = match value {
            yaml_serde::Value::Null => yaml_serde::Value::Mapping(Default::default()),
            v => v,
        };
        ComponentConfig { value }
    }

    /// Parses from YAML text (for tests and examples).
    pub fn from_yaml(text: &str) -> Result<Self, ConfigError> {
        let value = yaml_serde::from_str(text).map_err(|e| ConfigError::new(e.to_string()))?;
        Ok(Self::new(value))
    }

    /// The raw YAML value.
    pub fn value(&self) -> &yaml_serde::Value {
        &self.value
    }

    /// Deserializes the typed config. The error names the path of the offending
    /// field, so the runtime can point at its line and column. Typed configs should
    /// use `#[serde(deny_unknown_fields)]` and document their defaults.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        serde_path_to_error::deserialize(self.value.clone()).map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            ConfigError {
                path: (path != "." && !path.is_empty()).then_some(path),
                message,
            }
        })
    }
}

/// A configuration problem inside one component's config.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{message}", path.as_ref().map(|p| format!("at `{p}`: ")).unwrap_or_default())]
pub struct ConfigError {
    /// Dotted path below the component's config (`protocols.http.endpoint`), if
    /// the problem is at one field.
    pub path: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl ConfigError {
    /// A problem with the component config as a whole.
    pub fn new(message: impl Into<String>) -> Self {
        ConfigError {
            path: None,
            message: message.into(),
        }
    }

    /// A problem at `path` (dotted, relative to the component's config).
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            path: Some(path.into()),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Cfg {
        #[serde(default)]
        inner: Inner,
    }
    #[derive(serde::Deserialize, Debug, Default)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        #[serde(default)]
        size: u32,
    }

    #[test]
    fn ids_parse_and_display() {
        let id: ComponentId = "otlp/edge".parse().unwrap();
        assert_eq!(id.type_name(), "otlp");
        assert_eq!(id.name(), Some("edge"));
        assert_eq!(id.to_string(), "otlp/edge");
        assert!("otlp/".parse::<ComponentId>().is_err());
        assert!("a b".parse::<ComponentId>().is_err());
    }

    #[test]
    fn parse_errors_carry_the_field_path() {
        let cfg = ComponentConfig::from_yaml("inner:\n  size: big\n").unwrap();
        let err = cfg.parse::<Cfg>().unwrap_err();
        assert_eq!(err.path.as_deref(), Some("inner.size"));
        let cfg = ComponentConfig::new(yaml_serde::Value::Null);
        assert!(cfg.parse::<Cfg>().is_ok());
    }
}
