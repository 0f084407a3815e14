//! Command-line surface of `weir`.

use std::path::PathBuf;

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
    Components,
}
