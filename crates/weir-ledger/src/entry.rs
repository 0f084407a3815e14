//! `LogEntry`, the body of `POST /api/v1/ingest/single` and one item of
//! `POST /api/v1/ingest/batch`, with its enums and field limits.
//!
//! `Serialize` writes Ledger's JSON: absent optional fields are left out, and
//! `log_type` and `importance` are always written (the server fills in the
//! same defaults anyway, and writing them keeps the body self-describing).
//!
//! `Deserialize` is a plain serde derive (handy for tests and for reading
//! entries back); it does not report errors the way Ledger does. Requests
//! from clients go through [`crate::gateway`], which does.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::timestamp::Timestamp;

/// Field length limits of Ledger's gateway, in characters (Unicode scalar
/// values, as Python counts `len(str)`), and the other size limits.
pub mod limits {
    /// `message`.
    pub const MESSAGE: usize = 10_000;
    /// `error_type`.
    pub const ERROR_TYPE: usize = 255;
    /// `error_message`.
    pub const ERROR_MESSAGE: usize = 5_000;
    /// `stack_trace`.
    pub const STACK_TRACE: usize = 50_000;
    /// `environment`.
    pub const ENVIRONMENT: usize = 20;
    /// `release`.
    pub const RELEASE: usize = 100;
    /// `sdk_version`.
    pub const SDK_VERSION: usize = 20;
    /// `platform`.
    pub const PLATFORM: usize = 50;
    /// `platform_version`.
    pub const PLATFORM_VERSION: usize = 50;
    /// `attributes`, as the length of Python's `json.dumps` of it.
    pub const ATTRIBUTES_BYTES: usize = 100_000;
    /// Entries per batch request (and the least is 1).
    pub const BATCH: usize = 1_000;
    /// How far ahead of the server's clock a timestamp may be, in seconds.
    pub const FUTURE_SKEW_SECS: u64 = 300;
}

/// Severity of a log entry. Ledger accepts exactly these lower-case names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// `debug`
    Debug,
    /// `info`
    Info,
    /// `warning`
    Warning,
    /// `error`
    Error,
    /// `critical`
    Critical,
}

/// What produced the entry. Default `logger`.
///
/// Ledger's source also accepts `network`, which the contract's table leaves
/// out; weir accepts it too so that nothing Ledger takes is refused here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogType {
    /// `console`
    Console,
    /// `logger` (the default)
    #[default]
    Logger,
    /// `exception`: `error_type` and `error_message` are then required.
    Exception,
    /// `network` (in Ledger's source, not in its documentation)
    Network,
    /// `database`
    Database,
    /// `endpoint`: `attributes.endpoint` is then required.
    Endpoint,
    /// `custom`
    Custom,
}

/// How much the entry matters. Default `standard`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Importance {
    /// `critical`
    Critical,
    /// `high`
    High,
    /// `standard` (the default)
    #[default]
    Standard,
    /// `low`
    Low,
}

/// The names of an enum's values, in the order Ledger's `Literal` lists them
/// (the order pydantic's `literal_error` message uses).
pub trait Names: Sized + Copy + 'static {
    /// Every value with its name.
    const ALL: &'static [(&'static str, Self)];
    /// The pydantic `expected` text: `'a', 'b' or 'c'`.
    const EXPECTED: &'static str;

    /// The value with this exact (case-sensitive) name.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

impl Names for Level {
    const ALL: &'static [(&'static str, Self)] = &[
        ("debug", Level::Debug),
        ("info", Level::Info),
        ("warning", Level::Warning),
        ("error", Level::Error),
        ("critical", Level::Critical),
    ];
    const EXPECTED: &'static str = "'debug', 'info', 'warning', 'error' or 'critical'";
}

impl Names for LogType {
    const ALL: &'static [(&'static str, Self)] = &[
        ("console", LogType::Console),
        ("logger", LogType::Logger),
        ("exception", LogType::Exception),
        ("network", LogType::Network),
        ("database", LogType::Database),
        ("endpoint", LogType::Endpoint),
        ("custom", LogType::Custom),
    ];
    const EXPECTED: &'static str =
        "'console', 'logger', 'exception', 'network', 'database', 'endpoint' or 'custom'";
}

impl Names for Importance {
    const ALL: &'static [(&'static str, Self)] = &[
        ("critical", Importance::Critical),
        ("high", Importance::High),
        ("standard", Importance::Standard),
        ("low", Importance::Low),
    ];
    const EXPECTED: &'static str = "'critical', 'high', 'standard' or 'low'";
}

macro_rules! as_str {
    ($($t:ty),*) => {$(
        impl $t {
            /// The name Ledger uses for this value.
            pub fn as_str(self) -> &'static str {
                <$t as Names>::ALL
                    .iter()
                    .find(|(_, v)| *v == self)
                    .map(|(n, _)| *n)
                    .expect("every value is listed")
            }
        }
    )*};
}
as_str!(Level, LogType, Importance);

/// One log entry as Ledger's gateway accepts it (`LogEntry` in its source).
/// Serialized through [`EntryView`], the one place its JSON shape is written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LogEntry {
    /// When it happened (UTC, microsecond precision, like Python's `datetime`).
    pub timestamp: Timestamp,
    /// Severity.
    pub level: Level,
    /// What produced it.
    #[serde(default)]
    pub log_type: LogType,
    /// How much it matters.
    #[serde(default)]
    pub importance: Importance,
    /// The message, at most [`limits::MESSAGE`] characters.
    #[serde(default)]
    pub message: Option<String>,
    /// Exception class, at most [`limits::ERROR_TYPE`] characters.
    #[serde(default)]
    pub error_type: Option<String>,
    /// Exception message, at most [`limits::ERROR_MESSAGE`] characters.
    #[serde(default)]
    pub error_message: Option<String>,
    /// Stack trace, at most [`limits::STACK_TRACE`] characters.
    #[serde(default)]
    pub stack_trace: Option<String>,
    /// Deployment environment, at most [`limits::ENVIRONMENT`] characters.
    #[serde(default)]
    pub environment: Option<String>,
    /// Release / version, at most [`limits::RELEASE`] characters.
    #[serde(default)]
    pub release: Option<String>,
    /// Free-form attributes; `trace_id` and `span_id` ride here.
    #[serde(default)]
    pub attributes: Option<Map<String, Value>>,
    /// Sending SDK's version, at most [`limits::SDK_VERSION`] characters.
    #[serde(default)]
    pub sdk_version: Option<String>,
    /// Platform (language runtime), at most [`limits::PLATFORM`] characters.
    #[serde(default)]
    pub platform: Option<String>,
    /// Platform version, at most [`limits::PLATFORM_VERSION`] characters.
    #[serde(default)]
    pub platform_version: Option<String>,
}

/// A `LogEntry` to serialize: its fields borrowed, its attributes any
/// serializable map (a `serde_json::Map`, or the exporter's sorted view over
/// OTLP attributes, which need not become a map first). Names, order and
/// skipped `None`s are Ledger's JSON; [`LogEntry`] serializes through it.
#[derive(Serialize)]
pub(crate) struct EntryView<'a, A> {
    timestamp: Timestamp,
    level: Level,
    log_type: LogType,
    importance: Importance,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stack_trace: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    release: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attributes: Option<&'a A>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sdk_version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform_version: Option<&'a str>,
}

impl<'a, A> EntryView<'a, A> {
    /// `e`'s fields with `attributes` for its attributes.
    pub(crate) fn new(e: &'a LogEntry, attributes: Option<&'a A>) -> Self {
        EntryView {
            timestamp: e.timestamp,
            level: e.level,
            log_type: e.log_type,
            importance: e.importance,
            message: e.message.as_deref(),
            error_type: e.error_type.as_deref(),
            error_message: e.error_message.as_deref(),
            stack_trace: e.stack_trace.as_deref(),
            environment: e.environment.as_deref(),
            release: e.release.as_deref(),
            attributes,
            sdk_version: e.sdk_version.as_deref(),
            platform: e.platform.as_deref(),
            platform_version: e.platform_version.as_deref(),
        }
    }
}

impl Serialize for LogEntry {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        EntryView::new(self, self.attributes.as_ref()).serialize(s)
    }
}

impl LogEntry {
    /// An entry with the given time and level and every other field at its
    /// default (what Ledger fills in when only the required fields are sent).
    pub fn new(timestamp: Timestamp, level: Level) -> Self {
        LogEntry {
            timestamp,
            level,
            log_type: LogType::default(),
            importance: Importance::default(),
            message: None,
            error_type: None,
            error_message: None,
            stack_trace: None,
            environment: None,
            release: None,
            attributes: None,
            sdk_version: None,
            platform: None,
            platform_version: None,
        }
    }
}
