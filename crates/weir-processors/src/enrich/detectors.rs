//! Resource detectors, run once at build time: the values they find are added to
//! every resource that lacks them.

use weir_core::otlp::common::v1::{KeyValue, any_value::Value};

use super::attr_list::AttrList;
use super::attributes::kv;
use super::config::DetectorsConfig;

/// The attributes the configured detectors found.
#[derive(Debug, Clone, Default)]
pub(crate) struct Detected {
    attrs: Vec<KeyValue>,
}

impl Detected {
    /// Runs the detectors of `cfg`.
    pub(crate) fn detect(cfg: &DetectorsConfig) -> Detected {
        let mut attrs = Vec::new();
        if cfg.host
            && let Some(host) = host_name()
        {
            attrs.push(kv("host.name", Value::StringValue(host)));
        }
        if cfg.os {
            attrs.push(kv("os.type", Value::StringValue(os_type().to_owned())));
        }
        if cfg.process {
            attrs.push(kv(
                "process.pid",
                Value::IntValue(i64::from(std::process::id())),
            ));
        }
        if let Some(service) = cfg.service_name.as_ref().filter(|s| !s.is_empty()) {
            attrs.push(kv("service.name", Value::StringValue(service.clone())));
        }
        Detected { attrs }
    }

    /// Whether no detector found anything.
    pub(crate) fn is_empty(&self) -> bool {
        self.attrs.is_empty()
    }

    /// Adds each detected attribute that `resource` lacks.
    pub(crate) fn apply(&self, resource: &mut Vec<KeyValue>) {
        for d in &self.attrs {
            if AttrList::position(resource, &d.key).is_none() {
                resource.push(d.clone());
            }
        }
    }
}

/// The host name from the kernel, else `/etc/hostname`.
pub fn host_name() -> Option<String> {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_owned())
        .find(|s| !s.is_empty())
}

/// The OpenTelemetry `os.type` of this build.
pub fn os_type() -> &'static str {
    match std::env::consts::OS {
        "macos" | "ios" => "darwin",
        other => other,
    }
}
