//! Loading a pipeline file: YAML in the OpenTelemetry Collector's shape, `${env:...}`
//! expansion, and checks, with every problem reported with file, line, column,
//! YAML path and what was expected.
//!
//! The public surface (these types and `load_str` / `load_file`) is what the rest
//! of the runtime and the CLI use.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use weir_core::{ByteSize, ComponentConfig, ComponentId, Registry, Signal};

/// A position in the pipeline file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The file cannot run.
    Error,
    /// The file runs, but something looks wrong (an unused component).
    Warning,
}

/// One problem found in a pipeline file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file name as given by the user.
    pub file: Arc<str>,
    /// Where in the file; `None` when the problem has no place (file unreadable).
    pub location: Option<Location>,
    /// YAML path of the offending node, dotted: `receivers.stdin.max_line_bytes`,
    /// `service.pipelines.logs.exporters[1]`. Empty for the whole document.
    pub path: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    /// `file:line:col: error: at `path`: message`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.location {
            write!(f, ":{}:{}", l.line, l.column)?;
        }
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, ": {sev}: ")?;
        if !self.path.is_empty() {
            write!(f, "at `{}`: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// A pipeline id: `logs`, `traces/edge`, ...
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PipelineId {
    /// The pipeline's signal.
    pub signal: Signal,
    /// The name after `/`, if any.
    pub name: Option<String>,
}

impl fmt::Display for PipelineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => write!(f, "{}/{}", self.signal, n),
            None => write!(f, "{}", self.signal),
        }
    }
}

/// One component as declared under `receivers:`, `processors:` or `exporters:`.
#[derive(Debug, Clone)]
pub struct ComponentEntry {
    /// Its id.
    pub id: ComponentId,
    /// Its config, env-expanded, not yet parsed by its factory.
    pub config: ComponentConfig,
    /// YAML path of its config node, e.g. `receivers.otlp/edge`.
    pub path: String,
}

/// Bounded-channel settings of a pipeline's edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelConfig {
    /// Capacity in batches (`channel_capacity`, default 8).
    pub capacity: usize,
    /// Byte budget (`channel_max_bytes`, default 8MiB); a single larger batch
    /// still passes, alone.
    pub max_bytes: ByteSize,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        ChannelConfig {
            capacity: 8,
            max_bytes: ByteSize::mib(8),
        }
    }
}

/// One entry of `service.pipelines`.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Its id.
    pub id: PipelineId,
    /// Receivers feeding it, in file order.
    pub receivers: Vec<ComponentId>,
    /// Processors, in order.
    pub processors: Vec<ComponentId>,
    /// Exporters it fans out to.
    pub exporters: Vec<ComponentId>,
    /// Its channel settings.
    pub channel: ChannelConfig,
    /// YAML path, e.g. `service.pipelines.logs/edge`.
    pub path: String,
}

/// Format of weir's own logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object a line.
    Json,
}

/// How much of its own metrics weir keeps (`service.telemetry.metrics.level`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MetricsLevel {
    /// Every series of docs/telemetry.md (default).
    #[default]
    Normal,
    /// No series at all: counters and histograms do nothing, `/metrics` is
    /// empty. For measuring what telemetry costs; not for production.
    None,
}

/// Which OTLP transport weir's own telemetry goes out on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// OTLP/gRPC (default; port 4317).
    #[default]
    Grpc,
    /// OTLP/HTTP with protobuf bodies (port 4318; the path is added).
    HttpProtobuf,
}

/// Where weir sends its own metrics or traces over OTLP
/// (`service.telemetry.metrics.otlp`, `service.telemetry.traces.otlp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpTelemetry {
    /// The collector's URL, such as `http://127.0.0.1:4317` (weir itself, or
    /// another collector).
    pub endpoint: String,
    /// `grpc` (default) or `http/protobuf`.
    pub protocol: OtlpProtocol,
    /// How often metrics are pushed (default 10s); for traces, how often the
    /// batch of finished spans is sent (default 5s).
    pub interval: Duration,
}

/// `service.telemetry`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetryConfig {
    /// `metrics.address`: where `/metrics`, `/healthz`, `/readyz` are served
    /// (default 127.0.0.1:8888); `None` when set to `none`.
    pub metrics_address: Option<SocketAddr>,
    /// `metrics.level`: `normal` (default) or `none`.
    pub metrics_level: MetricsLevel,
    /// `metrics.otlp`: push weir's metrics over OTLP too.
    pub metrics_otlp: Option<OtlpTelemetry>,
    /// `traces.otlp`: trace every export call over OTLP.
    pub traces_otlp: Option<OtlpTelemetry>,
    /// `logs.level` (an `EnvFilter` directive such as `info` or `weir=debug`), if set.
    pub log_level: Option<String>,
    /// `logs.format`, if set.
    pub log_format: Option<LogFormat>,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            metrics_address: Some(SocketAddr::from(([127, 0, 0, 1], 8888))),
            metrics_level: MetricsLevel::Normal,
            metrics_otlp: None,
            traces_otlp: None,
            log_level: None,
            log_format: None,
        }
    }
}

/// A loaded pipeline file.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// The file name as given.
    pub file: Arc<str>,
    /// Declared receivers, in file order.
    pub receivers: Vec<ComponentEntry>,
    /// Declared processors, in file order.
    pub processors: Vec<ComponentEntry>,
    /// Declared exporters, in file order.
    pub exporters: Vec<ComponentEntry>,
    /// Pipelines, in file order.
    pub pipelines: Vec<PipelineConfig>,
    /// `service.telemetry`.
    pub telemetry: TelemetryConfig,
    /// `service.shutdown_timeout` (default 10s).
    pub shutdown_timeout: Duration,
    /// `service.memory_limit`: the process's memory budget, which receivers
    /// respect by refusing (or reading slower) above 90% of it; `None`
    /// (default) for no limit. See [`weir_core::memory`].
    pub memory_limit: Option<ByteSize>,
    /// Where each YAML path sits in the file.
    pub(crate) source: SourceMap,
}

impl ServiceConfig {
    /// A diagnostic at YAML path `path` (dotted, as in [`Diagnostic::path`]); the
    /// location is that of the deepest existing node on the path.
    pub fn diagnostic(
        &self,
        severity: Severity,
        path: &str,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity,
            file: self.file.clone(),
            location: self.source.locate(path),
            path: path.to_string(),
            message: message.into(),
        }
    }
}

/// The result of loading: the config (whenever the file was YAML at all, with the
/// parts that could not be understood left out) and every problem found.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// The config; `None` when the file could not be read or parsed as YAML.
    pub config: Option<ServiceConfig>,
    /// Errors and warnings, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadReport {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

impl ServiceConfig {
    /// Where YAML path `path` sits in the file: the deepest existing node on it.
    pub fn locate(&self, path: &str) -> Option<Location> {
        self.source.locate(path)
    }
}

/// Loads pipeline file text. `file` is the name diagnostics carry; `env` looks up
/// environment variables for `${env:...}` (pass `&|k| std::env::var(k).ok()` for
/// the process environment). Never fails: problems are in the report, and
/// `config` is `Some` whenever `text` is YAML at all, with the bad parts left out
/// and what remains consistent (every id a pipeline lists is declared with a
/// registered type that supports the pipeline's signal).
pub fn load_str(
    file: &str,
    text: &str,
    registry: &Registry,
    env: &dyn Fn(&str) -> Option<String>,
) -> LoadReport {
    let file: Arc<str> = Arc::from(file);
    let syntax_error = |location, message: String| LoadReport {
        config: None,
        diagnostics: vec![Diagnostic {
            severity: Severity::Error,
            file: file.clone(),
            location,
            path: String::new(),
            message: format!("invalid YAML: {message}"),
        }],
    };
    let source = match SourceMap::build(text) {
        Ok(s) => s,
        Err((at, message)) => return syntax_error(Some(at), message),
    };
    // saphyr accepted the text; yaml_serde can still refuse it (duplicate keys,
    // several documents), with a location of its own.
    let mut root: yaml_serde::Value = match yaml_serde::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let at = e.location().map(|l| Location {
                line: l.line(),
                column: l.column(),
            });
            let message = e.to_string();
            // Its message repeats the location the diagnostic already carries.
            let message = match message.rfind(" at line ") {
                Some(i) if at.is_some() => message[..i].to_string(),
                _ => message,
            };
            return syntax_error(at, message);
        }
    };
    let mut diags = Diagnostics {
        file: file.clone(),
        source: &source,
        list: Vec::new(),
    };
    // `<<: *anchor` as in the Collector's YAML library; merged keys have no place
    // of their own, so problems in them are located at the mapping they went into.
    if let Err(e) = root.apply_merge() {
        diags.error("", format!("invalid merge key `<<`: {e}"));
    }
    let poisoned = env::expand_document(&mut root, env, &mut diags);
    let doc = parse::document(&root, &poisoned, &mut diags);
    let (telemetry, shutdown_timeout, memory_limit) = (
        doc.telemetry.clone(),
        doc.shutdown_timeout,
        doc.memory_limit,
    );
    let checks::Checked {
        components: [receivers, processors, exporters],
        pipelines,
    } = checks::check(doc, registry, &mut diags);
    let mut diagnostics = diags.list;
    // Stable, so problems at one place keep the order they were found in.
    diagnostics.sort_by_key(|d| d.location);
    LoadReport {
        config: Some(ServiceConfig {
            file,
            receivers,
            processors,
            exporters,
            pipelines,
            telemetry,
            shutdown_timeout,
            memory_limit,
            source,
        }),
        diagnostics,
    }
}

/// Reads and loads the pipeline file at `path`, expanding `${env:...}` from the
/// process environment. An unreadable file is one diagnostic without a location.
pub fn load_file(path: &Path, registry: &Registry) -> LoadReport {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => load_str(&name, &text, registry, &|k| std::env::var(k).ok()),
        Err(e) => LoadReport {
            config: None,
            diagnostics: vec![Diagnostic {
                severity: Severity::Error,
                file: Arc::from(name.as_str()),
                location: None,
                path: String::new(),
                message: format!("cannot read the pipeline file: {e}"),
            }],
        },
    }
}

/// Collects diagnostics while loading, locating each by its YAML path.
pub(crate) struct Diagnostics<'a> {
    file: Arc<str>,
    source: &'a SourceMap,
    list: Vec<Diagnostic>,
}

impl<'a> Diagnostics<'a> {
    /// The file's source map.
    pub(crate) fn source(&self) -> &'a SourceMap {
        self.source
    }

    fn push(&mut self, severity: Severity, path: &str, message: String) {
        self.list.push(Diagnostic {
            severity,
            file: self.file.clone(),
            location: self.source.locate(path),
            path: path.to_string(),
            message,
        });
    }

    /// An error at `path`.
    pub(crate) fn error(&mut self, path: &str, message: impl Into<String>) {
        self.push(Severity::Error, path, message.into());
    }

    /// A warning at `path`.
    pub(crate) fn warning(&mut self, path: &str, message: impl Into<String>) {
        self.push(Severity::Warning, path, message.into());
    }
}

mod checks;
mod env;
mod parse;
mod source_map;
mod values;
pub(crate) use source_map::SourceMap;

#[cfg(test)]
mod tests;
