//! OTLP/JSON decoding of `ExportLogsServiceRequest`.

use serde_json::Value;
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};

use super::decode::{
    Items, Obj, Path, R, enumeration, hex_id, message, pruned, string, u32_, u64_,
};
use crate::validate::log_record_problem;

use super::decode_common::{any_value, attributes, optional, resource, scope};

/// A `ResourceLogs`; `None` when all its records were refused.
pub(super) fn resource_logs(v: Value, p: &Path<'_>, items: &mut Items) -> R<Option<ResourceLogs>> {
    message(v, p, |o, p| {
        let mut rl = ResourceLogs::default();
        for (k, v) in o {
            let p = p.key(&k);
            match k.as_str() {
                "resource" => rl.resource = optional(v, &p, resource)?,
                "scopeLogs" | "scope_logs" => {
                    match pruned(v, &p, |v, p| message(v, p, |o, p| scope_logs(o, p, items)))? {
                        Some(s) => rl.scope_logs = s,
                        None => return Ok(None),
                    }
                }
                "schemaUrl" | "schema_url" => rl.schema_url = string(v, &p)?,
                _ => {}
            }
        }
        Ok(Some(rl))
    })
}

fn scope_logs(o: Obj, p: &Path<'_>, items: &mut Items) -> R<Option<ScopeLogs>> {
    let mut sl = ScopeLogs::default();
    for (k, v) in o {
        let p = p.key(&k);
        match k.as_str() {
            "scope" => sl.scope = optional(v, &p, scope)?,
            "logRecords" | "log_records" => {
                match items.list(v, &p, log_record, log_record_problem)? {
                    Some(l) => sl.log_records = l,
                    None => return Ok(None),
                }
            }
            "schemaUrl" | "schema_url" => sl.schema_url = string(v, &p)?,
            _ => {}
        }
    }
    Ok(Some(sl))
}

fn log_record(o: Obj, p: &Path<'_>) -> R<LogRecord> {
    let mut r = LogRecord::default();
    for (k, v) in o {
        let p = p.key(&k);
        match k.as_str() {
            "timeUnixNano" | "time_unix_nano" => r.time_unix_nano = u64_(&v, &p)?,
            "observedTimeUnixNano" | "observed_time_unix_nano" => {
                r.observed_time_unix_nano = u64_(&v, &p)?
            }
            "severityNumber" | "severity_number" => {
                r.severity_number = enumeration(&v, &p, |s| {
                    SeverityNumber::from_str_name(s).map(|e| e as i32)
                })?
            }
            "severityText" | "severity_text" => r.severity_text = string(v, &p)?,
            "body" => r.body = optional(v, &p, any_value)?,
            "attributes" => r.attributes = attributes(v, &p)?,
            "droppedAttributesCount" | "dropped_attributes_count" => {
                r.dropped_attributes_count = u32_(&v, &p)?
            }
            "flags" => r.flags = u32_(&v, &p)?,
            "traceId" | "trace_id" => r.trace_id = hex_id(&v, &p, 16)?,
            "spanId" | "span_id" => r.span_id = hex_id(&v, &p, 8)?,
            "eventName" | "event_name" => r.event_name = string(v, &p)?,
            _ => {}
        }
    }
    Ok(r)
}
