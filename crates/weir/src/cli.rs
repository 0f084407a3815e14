//! Command-line surface of `weir`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

/// weir: a telemetry pipeline runtime.
#[derive(Debug, Parser)]
#[command(name = "weir", version, about, long_about = None)]
pub struct Cli {
    /// Log filter for weir's own logs (e.g. `info`, `debug`, `weir_runtime=debug`);
    /// overrides `service.telemetry.logs.level` and RUST_LOG.
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// Format of weir's own logs on stderr; overrides `service.telemetry.logs.format`.
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormatArg>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `--log-format` values.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LogFormatArg {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a pipeline file (without FILE: the embedded default pipeline).
    Run {
        /// The pipeline file.
        file: Option<PathBuf>,
    },
    /// Check pipeline files and print every problem; exit 1 if any has an error.
    Validate {
        /// The pipeline files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List the components this binary knows.
    Components {
        /// Print the reference of every component instead (docs/components.md:
        /// its settings with type, default and meaning), as Markdown.
        #[arg(long)]
        markdown: bool,
    },
    /// Print the JSON Schema (draft 2020-12) of a pipeline file, for editor
    /// completion and checks; it covers this binary's components.
    Schema,
    /// Watch a running weir: a live table of its components (items/s in and
    /// out, dropped, queue fill, errors), read from its /metrics endpoint.
    Top {
        /// Where weir serves its metrics (`service.telemetry.metrics.address`).
        #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8888")]
        address: String,
        /// Time between refreshes (and between the two scrapes of `--once`).
        #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_interval)]
        interval: Duration,
        /// Print one table (rates over one interval) and exit.
        #[arg(long)]
        once: bool,
    },
}

/// A refresh interval: a human duration (`500ms`, `2s`) of at least 100ms.
fn parse_interval(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (e.g. 500ms, 2s)"))?;
    if d < Duration::from_millis(100) {
        return Err("must be at least 100ms".into());
    }
    Ok(d)
}
