//! The expanded document → the parts of a [`super::ServiceConfig`], checking shape
//! only: known keys, value types, id syntax. What needs the registry or the whole
//! graph is in `checks.rs`.
//!
//! Each problem is reported where it is and that part is left out; a part whose
//! `${env:...}` failed is left out silently, its error already given.

use std::collections::HashSet;
use std::time::Duration;

use weir_core::{ByteSize, ComponentConfig, ComponentId, Signal};
use yaml_serde::Value;

use super::source_map::child_index;
use super::values::{Reader, found, one_of};
use super::{
    ChannelConfig, Diagnostics, LogFormat, MetricsLevel, OtlpProtocol, OtlpTelemetry, PipelineId,
    TelemetryConfig,
};

/// The three component sections, in file-format order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Receivers,
    Processors,
    Exporters,
}

impl Section {
    pub(crate) const ALL: [Section; 3] =
        [Section::Receivers, Section::Processors, Section::Exporters];

    /// The section's key, also the key of the matching pipeline list.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Section::Receivers => "receivers",
            Section::Processors => "processors",
            Section::Exporters => "exporters",
        }
    }

    /// One component of the section, for messages.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Section::Receivers => "receiver",
            Section::Processors => "processor",
            Section::Exporters => "exporter",
        }
    }
}

/// A component as declared; `config` is `None` when its config is unusable (the
/// problem is already reported), so it is known but cannot be built.
pub(crate) struct Declared {
    pub id: ComponentId,
    pub path: String,
    pub config: Option<ComponentConfig>,
}

/// A pipeline's list of component ids.
#[derive(Default)]
pub(crate) struct RawList {
    /// The list's path, or the pipeline's when the list is absent.
    pub path: String,
    /// Items that are well-formed ids, with their paths.
    pub items: Vec<(ComponentId, String)>,
    /// How many items the file has, well-formed or not, so a list of broken items
    /// does not also count as empty.
    pub written: usize,
}

/// A pipeline as written; `id` is `None` when the id is bad (already reported):
/// its lists are still read so their components count as used.
pub(crate) struct RawPipeline {
    pub id: Option<PipelineId>,
    pub path: String,
    /// Indexed like [`Section::ALL`].
    pub lists: [RawList; 3],
    pub channel: ChannelConfig,
}

/// The document, shape-checked.
#[derive(Default)]
pub(crate) struct Document {
    /// Indexed like [`Section::ALL`].
    pub components: [Vec<Declared>; 3],
    /// `None` when `service.pipelines` (or the whole document) had the wrong shape,
    /// which is already reported, so "no pipelines" is not said again.
    pub pipelines: Option<Vec<RawPipeline>>,
    pub telemetry: TelemetryConfig,
    pub shutdown_timeout: Duration,
    pub memory_limit: Option<ByteSize>,
}

const TOP_KEYS: &[&str] = &["receivers", "processors", "exporters", "service"];
const SERVICE_KEYS: &[&str] = &["pipelines", "telemetry", "shutdown_timeout", "memory_limit"];
const PIPELINE_KEYS: &[&str] = &[
    "receivers",
    "processors",
    "exporters",
    "channel_capacity",
    "channel_max_bytes",
];

/// Reads the document. `poisoned` holds the paths whose expansion failed.
pub(crate) fn document(
    root: &Value,
    poisoned: &HashSet<String>,
    diags: &mut Diagnostics<'_>,
) -> Document {
    let mut r = Reader { diags, poisoned };
    let mut doc = Document {
        shutdown_timeout: Duration::from_secs(10),
        ..Document::default()
    };
    let expected = "a mapping with `receivers`, `processors`, `exporters` and `service`";
    let Some(top) = r.fields(root, "", expected, TOP_KEYS) else {
        return doc;
    };
    doc.pipelines = Some(Vec::new());
    for (key, path, v) in top {
        match key.as_str() {
            "service" => r.service(v, &path, &mut doc),
            section => {
                let i = Section::ALL
                    .iter()
                    .position(|s| s.key() == section)
                    .expect("a section key");
                doc.components[i] = r.components(v, &path);
            }
        }
    }
    doc
}

impl Reader<'_, '_> {
    /// `receivers:`, `processors:` or `exporters:`.
    fn components(&mut self, v: &Value, path: &str) -> Vec<Declared> {
        let Some(entries) = self.mapping(v, path, "a mapping of component ids to configs") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, p, cv) in entries {
            let id: ComponentId = match key.parse() {
                Ok(id) => id,
                Err(e) => {
                    self.error(&p, e);
                    continue;
                }
            };
            let config = match cv {
                _ if self.poisoned_below(&p) => None,
                Value::Null | Value::Mapping(_) => Some(ComponentConfig::new(cv.clone())),
                other => {
                    let f = found(other);
                    self.error(&p, format!("expected the config of `{id}` as a mapping (or nothing, for the defaults), {f}"));
                    None
                }
            };
            out.push(Declared {
                id,
                path: p,
                config,
            });
        }
        out
    }

    fn service(&mut self, v: &Value, path: &str, doc: &mut Document) {
        let expected =
            "a mapping with `pipelines`, `telemetry`, `shutdown_timeout` and `memory_limit`";
        let Some(fields) = self.fields(v, path, expected, SERVICE_KEYS) else {
            // Already reported; "no pipelines" would only say it again.
            doc.pipelines = None;
            return;
        };
        for (key, p, v) in fields {
            match key.as_str() {
                "pipelines" => doc.pipelines = self.pipelines(v, &p),
                "telemetry" => self.telemetry(v, &p, &mut doc.telemetry),
                "memory_limit" => {
                    if let Some(b) = self.memory_limit(v, &p) {
                        doc.memory_limit = Some(b);
                    }
                }
                _ => {
                    if let Some(d) = self.duration(v, &p) {
                        doc.shutdown_timeout = d;
                    }
                }
            }
        }
    }

    fn telemetry(&mut self, v: &Value, path: &str, t: &mut TelemetryConfig) {
        let Some(fields) = self.fields(
            v,
            path,
            "a mapping with `metrics`, `traces` and `logs`",
            &["metrics", "traces", "logs"],
        ) else {
            return;
        };
        for (key, p, v) in fields {
            match key.as_str() {
                "logs" => self.logs(v, &p, t),
                "traces" => {
                    let expected = "a mapping with `otlp`";
                    if let Some(fields) = self.fields(v, &p, expected, &["otlp"]) {
                        for (_, p, v) in fields {
                            t.traces_otlp = self.otlp_telemetry(v, &p, Duration::from_secs(5));
                        }
                    }
                }
                // `metrics: none` reads as naturally as `address: none`.
                _ if v.as_str() == Some("none") => t.metrics_address = None,
                _ => self.metrics(v, &p, t),
            }
        }
    }

    fn metrics(&mut self, v: &Value, path: &str, t: &mut TelemetryConfig) {
        let expected = "a mapping with `address`, `level` and `otlp`, or `none`";
        let Some(fields) = self.fields(v, path, expected, &["address", "level", "otlp"]) else {
            return;
        };
        for (key, p, v) in fields {
            match key.as_str() {
                "address" => {
                    if let Some(a) = self.address(v, &p) {
                        t.metrics_address = a;
                    }
                }
                "level" => match v.as_str().map(str::trim) {
                    Some("normal") => t.metrics_level = MetricsLevel::Normal,
                    Some("none") => t.metrics_level = MetricsLevel::None,
                    _ => self.error(&p, format!("expected `normal` or `none`, {}", found(v))),
                },
                _ => t.metrics_otlp = self.otlp_telemetry(v, &p, Duration::from_secs(10)),
            }
        }
    }

    /// `otlp: { endpoint, protocol, interval }` of weir's own telemetry.
    fn otlp_telemetry(
        &mut self,
        v: &Value,
        path: &str,
        default_interval: Duration,
    ) -> Option<OtlpTelemetry> {
        let expected = "a mapping with `endpoint`, `protocol` and `interval`";
        let fields = self.fields(v, path, expected, &["endpoint", "protocol", "interval"])?;
        let mut endpoint = None;
        let mut protocol = OtlpProtocol::Grpc;
        let mut interval = default_interval;
        let mut ok = true;
        for (key, p, v) in fields {
            match key.as_str() {
                "endpoint" => match v.as_str().map(str::trim) {
                    Some(e) if e.starts_with("http://") || e.starts_with("https://") => {
                        endpoint = Some(e.to_string())
                    }
                    _ => {
                        ok = false;
                        self.error(
                            &p,
                            format!("expected a URL such as http://127.0.0.1:4317, {}", found(v)),
                        )
                    }
                },
                "protocol" => match v.as_str().map(str::trim) {
                    Some("grpc") => protocol = OtlpProtocol::Grpc,
                    Some("http/protobuf") => protocol = OtlpProtocol::HttpProtobuf,
                    _ => {
                        ok = false;
                        self.error(
                            &p,
                            format!("expected `grpc` or `http/protobuf`, {}", found(v)),
                        )
                    }
                },
                _ => match self.duration(v, &p) {
                    Some(d) if !d.is_zero() => interval = d,
                    Some(_) => {
                        ok = false;
                        self.error(&p, "expected a duration over 0, such as 10s".to_string())
                    }
                    None => ok = false,
                },
            }
        }
        let Some(endpoint) = endpoint else {
            if ok {
                self.error(
                    path,
                    "`endpoint` is required: where to send, such as http://127.0.0.1:4317"
                        .to_string(),
                );
            }
            return None;
        };
        ok.then_some(OtlpTelemetry {
            endpoint,
            protocol,
            interval,
        })
    }

    fn logs(&mut self, v: &Value, path: &str, t: &mut TelemetryConfig) {
        let Some(fields) = self.fields(
            v,
            path,
            "a mapping with `level` and `format`",
            &["level", "format"],
        ) else {
            return;
        };
        for (key, p, v) in fields {
            if self.poisoned.contains(&p) {
                continue;
            }
            match (key.as_str(), v.as_str().map(str::trim)) {
                ("level", Some(level)) if !level.is_empty() => {
                    t.log_level = Some(level.to_string())
                }
                ("level", _) => self.error(
                    &p,
                    format!(
                        "expected a log level such as `info` or `weir=debug`, {}",
                        found(v)
                    ),
                ),
                (_, Some("text")) => t.log_format = Some(LogFormat::Text),
                (_, Some("json")) => t.log_format = Some(LogFormat::Json),
                _ => self.error(&p, format!("expected `text` or `json`, {}", found(v))),
            }
        }
    }

    fn pipelines(&mut self, v: &Value, path: &str) -> Option<Vec<RawPipeline>> {
        let expected = "a mapping of pipeline ids (`logs`, `traces/edge`, ...) to pipelines";
        let entries = self.mapping(v, path, expected)?;
        let mut out = Vec::new();
        for (key, p, pv) in entries {
            let id = match parse_pipeline_id(&key) {
                Ok(id) => Some(id),
                Err(e) => {
                    self.error(&p, e);
                    None
                }
            };
            let expected = format!("a mapping with {}", one_of(PIPELINE_KEYS));
            let Some(fields) = self.fields(pv, &p, &expected, PIPELINE_KEYS) else {
                continue;
            };
            let mut pipeline = RawPipeline {
                id,
                lists: Default::default(),
                channel: ChannelConfig::default(),
                path: p.clone(),
            };
            for list in &mut pipeline.lists {
                list.path = p.clone();
            }
            for (key, fp, fv) in fields {
                match key.as_str() {
                    "channel_capacity" => {
                        if let Some(c) = self.capacity(fv, &fp) {
                            pipeline.channel.capacity = c;
                        }
                    }
                    "channel_max_bytes" => {
                        if let Some(b) = self.max_bytes(fv, &fp) {
                            pipeline.channel.max_bytes = b;
                        }
                    }
                    list => {
                        let i = Section::ALL
                            .iter()
                            .position(|s| s.key() == list)
                            .expect("a list key");
                        pipeline.lists[i] = self.list(fv, &fp);
                    }
                }
            }
            out.push(pipeline);
        }
        Some(out)
    }

    fn list(&mut self, v: &Value, path: &str) -> RawList {
        let mut list = RawList {
            path: path.to_string(),
            ..RawList::default()
        };
        let items = match v {
            _ if self.poisoned.contains(path) => {
                list.written = 1;
                return list;
            }
            Value::Sequence(items) => items,
            other => {
                self.error(
                    path,
                    format!(
                        "expected a list of component ids, such as [otlp, file/archive], {}",
                        found(other)
                    ),
                );
                list.written = 1;
                return list;
            }
        };
        list.written = items.len();
        for (i, item) in items.iter().enumerate() {
            let p = child_index(path, i);
            if self.poisoned.contains(&p) {
                continue;
            }
            match item.as_str().map(str::parse::<ComponentId>) {
                Some(Ok(id)) => list.items.push((id, p)),
                Some(Err(e)) => self.error(&p, e),
                None => self.error(&p, format!("expected a component id, {}", found(item))),
            }
        }
        list
    }
}

/// `logs`, `traces`, `metrics`, optionally followed by `/name`.
fn parse_pipeline_id(s: &str) -> Result<PipelineId, String> {
    let (signal, name) = match s.split_once('/') {
        Some((sig, name)) => (sig, Some(name)),
        None => (s, None),
    };
    let Ok(signal) = signal.parse::<Signal>() else {
        return Err(format!(
            "unknown signal `{signal}` in pipeline id `{s}`: expected `logs`, `traces` or \
             `metrics`, optionally followed by `/name`"
        ));
    };
    // Same spelling rules as component names, so ids look alike everywhere.
    if let Some(n) = name {
        if ComponentId::new("x", Some(n.to_string()))
            .to_string()
            .parse::<ComponentId>()
            .is_err()
        {
            return Err(format!(
                "invalid pipeline id `{s}`: the name after `/` must be letters, digits, `_`, `-` or `.`"
            ));
        }
    }
    Ok(PipelineId {
        signal,
        name: name.map(str::to_string),
    })
}
