//! The `file` exporter's configuration.

use std::path::PathBuf;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use weir_core::{ByteSize, ConfigError, Signal};

/// Writes batches to a file: OTLP/JSON lines, as the OpenTelemetry Collector's
/// file exporter writes them, or length-prefixed OTLP protobuf; with gzip and
/// size-based rotation. Write errors are retried by the harness; their messages
/// name the path.
///
/// ```yaml
/// exporters:
///   file:
///     path: /var/log/weir/out.json.gz
///     format: json
///     compression: gzip
///     rotation: { max_bytes: 100MiB, max_backups: 5 }
///     flush_interval: 1s
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileExporterConfig {
    /// The active file. Parent folders are created on first write, and an
    /// existing file is appended to.
    pub path: PathBuf,
    /// What each batch becomes in the file. Default: `json`.
    #[serde(default)]
    pub format: FileFormat,
    /// Compression of the whole file. Default: `none`.
    #[serde(default)]
    pub compression: FileCompression,
    /// Size-based rotation. Default: off (`max_bytes: 0`).
    #[serde(default)]
    pub rotation: RotationConfig,
    /// How often buffered data is flushed to the file (also flushed at shutdown).
    /// Default: `1s`.
    #[serde(default = "default_flush_interval", with = "humantime_serde")]
    #[schemars(with = "weir_core::schema::HumanDuration")]
    pub flush_interval: Duration,
}

/// The file's record format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    /// One OTLP/JSON export request per line (hex ids, lowerCamelCase keys,
    /// 64-bit integers as strings), the OTLP file exporter format.
    #[default]
    Json,
    /// Frames of a 4-byte big-endian length followed by the protobuf bytes of an
    /// OTLP export request, as received when nobody changed them (one signal
    /// per file).
    Proto,
}

/// The file's compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FileCompression {
    /// Plain bytes.
    #[default]
    None,
    /// One gzip stream per file (level 1), closed on rotation and shutdown so
    /// `gzip -dc` reads every file.
    Gzip,
}

/// When to start a new file, and how many old ones to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RotationConfig {
    /// Rotate once the active file holds this many bytes on disk (after
    /// compression), checked after each batch, so a file ends on a whole batch.
    /// Rotated files are named `<stem>-<UTC time>-<seq>.<ext>`.
    /// Default: `0`, no rotation.
    #[serde(default)]
    pub max_bytes: ByteSize,
    /// Rotated files kept; older ones are deleted, oldest first. `0` keeps all.
    /// Default: `10`.
    #[serde(default = "default_max_backups")]
    pub max_backups: usize,
}

impl Default for RotationConfig {
    fn default() -> Self {
        RotationConfig {
            max_bytes: ByteSize(0),
            max_backups: default_max_backups(),
        }
    }
}

fn default_flush_interval() -> Duration {
    Duration::from_secs(1)
}

fn default_max_backups() -> usize {
    10
}

impl FileExporterConfig {
    /// Checks what serde cannot: values that parse but make no sense, and a proto
    /// file shared by pipelines of different signals.
    pub fn validate(&self, signals: &[Signal]) -> Result<(), ConfigError> {
        if self.path.as_os_str().is_empty() {
            return Err(ConfigError::at("path", "must not be empty"));
        }
        if self.path.file_name().is_none() || self.path.to_string_lossy().ends_with('/') {
            return Err(ConfigError::at(
                "path",
                format!("`{}` names a folder, not a file", self.path.display()),
            ));
        }
        if self.flush_interval.is_zero() {
            return Err(ConfigError::at(
                "flush_interval",
                "must be longer than 0, e.g. `1s`",
            ));
        }
        let first = signals.first();
        if self.format == FileFormat::Proto && signals.iter().any(|s| Some(s) != first) {
            return Err(ConfigError::at(
                "format",
                "`proto` frames do not say which signal they hold, so one proto file \
                 cannot serve pipelines of several signals: use one file exporter per signal",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_core::ComponentConfig;

    fn parse(yaml: &str) -> Result<FileExporterConfig, ConfigError> {
        ComponentConfig::from_yaml(yaml)?.parse()
    }

    #[test]
    fn defaults() {
        let c = parse("path: out.json").unwrap();
        assert_eq!(c.path, PathBuf::from("out.json"));
        assert_eq!(c.format, FileFormat::Json);
        assert_eq!(c.compression, FileCompression::None);
        assert_eq!(c.rotation, RotationConfig::default());
        assert_eq!(c.rotation.max_bytes, ByteSize(0));
        assert_eq!(c.rotation.max_backups, 10);
        assert_eq!(c.flush_interval, Duration::from_secs(1));
    }

    #[test]
    fn every_key() {
        let c = parse(
            "path: /tmp/x/out.pb.gz\nformat: proto\ncompression: gzip\n\
             rotation: { max_bytes: 20MiB, max_backups: 0 }\nflush_interval: 250ms",
        )
        .unwrap();
        assert_eq!(c.format, FileFormat::Proto);
        assert_eq!(c.compression, FileCompression::Gzip);
        assert_eq!(c.rotation.max_bytes, ByteSize::mib(20));
        assert_eq!(c.rotation.max_backups, 0);
        assert_eq!(c.flush_interval, Duration::from_millis(250));
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse("path: a\nsize: 3").unwrap_err();
        assert!(e.message.contains("unknown field `size`"), "{e}");
        let e = parse("format: json").unwrap_err();
        assert!(e.message.contains("missing field `path`"), "{e}");
        let e = parse("path: a\nformat: xml").unwrap_err();
        assert_eq!(e.path.as_deref(), Some("format"));
        let e = parse("path: a\nrotation: { max_files: 3 }").unwrap_err();
        assert_eq!(e.path.as_deref(), Some("rotation.max_files"));
        let e = parse("path: a\nflush_interval: soon").unwrap_err();
        assert_eq!(e.path.as_deref(), Some("flush_interval"));
    }

    #[test]
    fn validation() {
        let logs = [Signal::Logs];
        let c = parse("path: a\nflush_interval: 0s").unwrap();
        assert_eq!(
            c.validate(&logs).unwrap_err().path.as_deref(),
            Some("flush_interval")
        );
        let c = parse("path: dir/").unwrap();
        assert_eq!(c.validate(&logs).unwrap_err().path.as_deref(), Some("path"));
        let c = parse("path: a\nformat: proto").unwrap();
        assert!(c.validate(&logs).is_ok());
        assert!(c.validate(&[Signal::Logs, Signal::Logs]).is_ok());
        let e = c.validate(&[Signal::Logs, Signal::Traces]).unwrap_err();
        assert_eq!(e.path.as_deref(), Some("format"));
        assert!(e.message.contains("one file exporter per signal"), "{e}");
        let c = parse("path: a").unwrap();
        assert!(c.validate(&[Signal::Logs, Signal::Metrics]).is_ok());
    }
}
