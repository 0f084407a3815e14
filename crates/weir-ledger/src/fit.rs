//! Making an entry one Ledger will take, before it is sent: the `ledger`
//! exporter validates and truncates client-side so the server never has a
//! reason to answer 422 or reject a log (`ingest::check`) for its shape.
//!
//! | problem | fix |
//! |---|---|
//! | a text field over its limit (in characters) | cut to the limit, ending in `... [truncated]` (fields whose limit is under 30 characters are cut without the marker, which would leave little of them) |
//! | `attributes` over `max_attributes_size_bytes` (Python `json.dumps` length) | the largest attributes dropped first until it fits |
//! | anything cut or dropped | `attributes._truncated: true` |
//! | a timestamp more than 5 minutes ahead of this clock | set to now, the original kept in `attributes._original_timestamp` |
//! | no timestamp (the epoch) | now |
//! | `log_type: exception` without `error_type` or `error_message` | `error_type` `"Error"`; `error_message` from `message`, else `error_type` |
//! | `log_type: endpoint` without a complete `attributes.endpoint` | `log_type: logger` |
//!
//! Limits come from the server's settings (`Constraints`), so a server with
//! other limits gets entries cut to its own.

use serde_json::{Map, Value};

use crate::entry::{LogEntry, LogType, limits};
use crate::pyjson;
use crate::settings::Constraints;
use crate::timestamp::Timestamp;

/// What marks a cut field.
pub const MARKER: &str = "... [truncated]";
/// The attribute set on an entry that lost something.
pub const TRUNCATED: &str = "_truncated";
/// The attribute holding a timestamp that was moved to now.
pub const ORIGINAL_TIMESTAMP: &str = "_original_timestamp";

/// Limits under this many characters are cut without the marker.
const MARKER_MIN_LIMIT: usize = 2 * MARKER.len();

/// Fixes `entry` in place (see the module docs); true when anything was
/// cut or dropped.
pub fn fit(entry: &mut LogEntry, c: &Constraints, now_unix_nano: u64) -> bool {
    let mut cut = false;
    for (field, max) in [
        (&mut entry.message, c.max_message_length),
        (&mut entry.error_type, c.max_error_type_length),
        (&mut entry.error_message, c.max_error_message_length),
        (&mut entry.stack_trace, c.max_stack_trace_length),
        (&mut entry.environment, c.max_environment_length),
        (&mut entry.release, c.max_release_length),
        (&mut entry.sdk_version, c.max_sdk_version_length),
        (&mut entry.platform, c.max_platform_length),
        (&mut entry.platform_version, c.max_platform_version_length),
    ] {
        if let Some(text) = field {
            cut |= cut_text(text, max);
        }
    }
    fix_time(entry, now_unix_nano);
    fix_log_type(entry);
    if let Some(attrs) = &mut entry.attributes {
        // Leave room for the marker that may be added below.
        let room = c
            .max_attributes_size_bytes
            .saturating_sub(TRUNCATED.len() + 10);
        if pyjson::object_len(attrs) > c.max_attributes_size_bytes {
            drop_largest(attrs, room);
            cut = true;
        }
    }
    if cut {
        entry
            .attributes
            .get_or_insert_with(Map::new)
            .insert(TRUNCATED.into(), Value::Bool(true));
    }
    cut
}

/// Cuts `text` to `max` characters, with the marker when the limit allows.
/// True when it was cut.
pub fn cut_text(text: &mut String, max: usize) -> bool {
    // Characters, not bytes: the byte length bounds the count from above.
    if text.len() <= max || text.chars().count() <= max {
        return false;
    }
    if max >= MARKER_MIN_LIMIT {
        let keep = max - MARKER.chars().count();
        let at = text.char_indices().nth(keep).map_or(text.len(), |(i, _)| i);
        text.truncate(at);
        text.push_str(MARKER);
    } else {
        let at = text.char_indices().nth(max).map_or(text.len(), |(i, _)| i);
        text.truncate(at);
    }
    true
}

/// Drops the largest attributes (by their share of `json.dumps`) until the
/// object's length is at most `room`.
fn drop_largest(attrs: &mut Map<String, Value>, room: usize) {
    let mut sizes: Vec<(usize, String)> = attrs
        .iter()
        .map(|(k, v)| (pyjson::str_len(k) + 2 + pyjson::dumps_len(v) + 2, k.clone()))
        .collect();
    sizes.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let mut total = pyjson::object_len(attrs);
    for (size, key) in sizes {
        if total <= room {
            break;
        }
        attrs.remove(&key);
        total = total.saturating_sub(size);
    }
    // The estimate per member can be off by a separator: settle exactly.
    while pyjson::object_len(attrs) > room {
        let Some(key) = attrs.keys().next().cloned() else {
            break;
        };
        attrs.remove(&key);
    }
}

fn fix_time(entry: &mut LogEntry, now_unix_nano: u64) {
    let now = Timestamp::from_unix_nano(now_unix_nano);
    if entry.timestamp.unix_nano() == 0 {
        entry.timestamp = now;
        return;
    }
    let ahead = limits::FUTURE_SKEW_SECS * 1_000_000_000;
    if entry.timestamp.unix_nano() > now_unix_nano.saturating_add(ahead) {
        let original = entry.timestamp.to_string();
        entry.timestamp = now;
        entry
            .attributes
            .get_or_insert_with(Map::new)
            .insert(ORIGINAL_TIMESTAMP.into(), Value::String(original));
    }
}

fn fix_log_type(entry: &mut LogEntry) {
    let empty = |s: &Option<String>| s.as_deref().is_none_or(str::is_empty);
    match entry.log_type {
        LogType::Exception => {
            if empty(&entry.error_type) {
                entry.error_type = Some("Error".into());
            }
            if empty(&entry.error_message) {
                entry.error_message = match &entry.message {
                    Some(m) if !m.is_empty() => {
                        Some(m.chars().take(limits::ERROR_MESSAGE).collect())
                    }
                    _ => entry.error_type.clone(),
                };
            }
        }
        LogType::Endpoint => {
            let complete = entry
                .attributes
                .as_ref()
                .and_then(|a| a.get("endpoint"))
                .and_then(Value::as_object)
                .is_some_and(|e| {
                    ["method", "path", "status_code", "duration_ms"]
                        .iter()
                        .all(|k| e.contains_key(*k))
                });
            if !complete {
                entry.log_type = LogType::Logger;
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Level;
    use crate::ingest;
    use serde_json::json;

    const NOW: u64 = 1_765_000_000_000_000_000;

    fn entry() -> LogEntry {
        LogEntry::new(Timestamp::from_unix_nano(NOW - 1_000_000_000), Level::Info)
    }

    #[test]
    fn long_fields_are_cut_to_their_limit_with_the_marker() {
        let mut e = entry();
        e.message = Some("é".repeat(10_050));
        e.environment = Some("production-eu-west-1-blue".into());
        e.stack_trace = Some("x".repeat(50_000));
        assert!(fit(&mut e, &Constraints::default(), NOW));
        let m = e.message.as_deref().unwrap();
        assert_eq!(m.chars().count(), 10_000);
        assert!(m.ends_with(MARKER) && m.starts_with("éé"));
        assert_eq!(
            e.environment.as_deref(),
            Some("production-eu-west-1"),
            "short limits: no marker"
        );
        assert_eq!(
            e.stack_trace.as_ref().unwrap().len(),
            50_000,
            "at the limit: kept"
        );
        assert_eq!(e.attributes.as_ref().unwrap()[TRUNCATED], json!(true));
        assert_eq!(ingest::check(&e, NOW), Ok(()));
    }

    #[test]
    fn oversize_attributes_lose_the_largest_first() {
        let mut e = entry();
        let mut attrs = Map::new();
        attrs.insert("big".into(), json!("b".repeat(80_000)));
        attrs.insert("bigger".into(), json!("c".repeat(90_000)));
        attrs.insert("user".into(), json!("ada"));
        e.attributes = Some(attrs);
        assert!(fit(&mut e, &Constraints::default(), NOW));
        let a = e.attributes.as_ref().unwrap();
        assert!(a.contains_key("big") && a.contains_key("user"));
        assert!(!a.contains_key("bigger"));
        assert_eq!(a[TRUNCATED], json!(true));
        assert!(pyjson::object_len(a) <= 100_000);
        assert_eq!(ingest::check(&e, NOW), Ok(()));
    }

    #[test]
    fn a_fitting_entry_is_left_alone() {
        let mut e = entry();
        e.message = Some("fine".into());
        let before = e.clone();
        assert!(!fit(&mut e, &Constraints::default(), NOW));
        assert_eq!(e, before);
    }

    #[test]
    fn times_and_types_are_made_acceptable() {
        let mut e = entry();
        e.timestamp = Timestamp::from_unix_nano(NOW + 3_600_000_000_000);
        e.log_type = LogType::Exception;
        e.message = Some("boom".into());
        fit(&mut e, &Constraints::default(), NOW);
        assert_eq!(e.timestamp.unix_nano(), NOW);
        assert!(
            e.attributes
                .as_ref()
                .unwrap()
                .contains_key(ORIGINAL_TIMESTAMP)
        );
        assert_eq!(e.error_type.as_deref(), Some("Error"));
        assert_eq!(e.error_message.as_deref(), Some("boom"));
        assert_eq!(ingest::check(&e, NOW), Ok(()));

        let mut e = entry();
        e.timestamp = Timestamp::from_unix_nano(0);
        e.log_type = LogType::Endpoint;
        e.attributes = Some(
            json!({ "endpoint": { "method": "GET" } })
                .as_object()
                .unwrap()
                .clone(),
        );
        fit(&mut e, &Constraints::default(), NOW);
        assert_eq!(e.timestamp.unix_nano(), NOW);
        assert_eq!(e.log_type, LogType::Logger);
        assert_eq!(ingest::check(&e, NOW), Ok(()));
    }
}
