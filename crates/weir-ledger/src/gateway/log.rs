//! Reading a `LogEntry` object field by field, as pydantic validates the
//! model: every field is checked, errors come out in the model's field order,
//! a repeated key keeps its last value, unknown keys are ignored.

use serde::de::MapAccess;
use serde_json::Value;

use super::error::ErrorDetail;
use super::fields::{
    Checked, DateTime, Dict, Errors, FieldKey, Kind, Lit, Read, Str, model_type, skip,
};
use crate::entry::{LogEntry, limits};

/// The model's fields, in its order.
const FIELDS: &[&str] = &[
    "timestamp",
    "level",
    "log_type",
    "importance",
    "message",
    "error_type",
    "error_message",
    "stack_trace",
    "environment",
    "release",
    "attributes",
    "sdk_version",
    "platform",
    "platform_version",
];

/// Optional string fields from `message` on, with their limits, by index in
/// [`FIELDS`] minus 4 (`attributes` has no limit here; it is not a string).
const LIMITS: [usize; 10] = [
    limits::MESSAGE,
    limits::ERROR_TYPE,
    limits::ERROR_MESSAGE,
    limits::STACK_TRACE,
    limits::ENVIRONMENT,
    limits::RELEASE,
    0,
    limits::SDK_VERSION,
    limits::PLATFORM,
    limits::PLATFORM_VERSION,
];

const ATTRIBUTES: usize = 10;

/// Reads one `LogEntry` object.
pub(crate) struct Entry;

impl<'de> Kind<'de> for Entry {
    type Out = LogEntry;

    fn type_error(&self, input: Value) -> ErrorDetail {
        model_type("LogEntry", input)
    }

    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked<LogEntry>, A::Error> {
        let mut timestamp = None;
        let mut level = None;
        let mut log_type = None;
        let mut importance = None;
        let mut strings: [Option<Checked<Option<String>>>; 10] = Default::default();
        let mut attributes = None;
        while let Some(field) = map.next_key_seed(FieldKey(FIELDS))? {
            match field {
                Some(0) => timestamp = Some(map.next_value_seed(Read(DateTime))?),
                Some(1) => level = Some(map.next_value_seed(Read(Lit::new()))?),
                Some(2) => log_type = Some(map.next_value_seed(Read(Lit::new()))?),
                Some(3) => importance = Some(map.next_value_seed(Read(Lit::new()))?),
                Some(ATTRIBUTES) => {
                    attributes = Some(map.next_value_seed(Read(Dict { nullable: true }))?)
                }
                Some(i) => {
                    let read = Str {
                        max: Some(LIMITS[i - 4]),
                        nullable: true,
                    };
                    strings[i - 4] = Some(map.next_value_seed(Read(read))?);
                }
                None => skip(&mut map)?,
            }
        }

        let mut errors = Errors(Vec::new());
        let timestamp = errors.required(FIELDS[0], timestamp);
        let level = errors.required(FIELDS[1], level);
        let log_type = errors.optional(FIELDS[2], log_type, Default::default());
        let importance = errors.optional(FIELDS[3], importance, Default::default());
        let mut values: [Option<String>; 10] = Default::default();
        let mut attrs = None;
        for (i, slot) in strings.into_iter().enumerate() {
            if i + 4 == ATTRIBUTES {
                attrs = errors.optional(FIELDS[ATTRIBUTES], attributes.take(), None);
                continue;
            }
            values[i] = errors.optional(FIELDS[i + 4], slot, None).flatten();
        }
        if !errors.0.is_empty() {
            return Ok(Err(errors.0));
        }
        let [
            message,
            error_type,
            error_message,
            stack_trace,
            environment,
            release,
            _,
            sdk_version,
            platform,
            platform_version,
        ] = values;
        Ok(Ok(LogEntry {
            timestamp: timestamp.expect("no error, so present"),
            level: level.expect("no error, so present"),
            log_type: log_type.expect("no error, so present"),
            importance: importance.expect("no error, so present"),
            message,
            error_type,
            error_message,
            stack_trace,
            environment,
            release,
            attributes: attrs.flatten(),
            sdk_version,
            platform,
            platform_version,
        }))
    }
}
