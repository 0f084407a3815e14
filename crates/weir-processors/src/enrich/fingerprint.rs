//! Error fingerprints, as Ledger groups errors: `exception.fingerprint` =
//! sha256 hex of `exception.type` + the first three stack frames + the platform.
//!
//! A stack frame is a line of `exception.stacktrace` that, trimmed, starts with
//! `at ` (Java, JavaScript, .NET, Go panics print `at` too in many loggers) or
//! `File "` (Python); frames are taken trimmed, in the order they appear. When no
//! line looks like a frame, the first three non-empty trimmed lines after the
//! first one (the message line) stand in. The platform is the resource's
//! `telemetry.sdk.language`, else its `process.runtime.name`, else empty. The
//! parts are hashed concatenated, with no separator.

use sha2::{Digest, Sha256};
use weir_core::otlp::common::v1::KeyValue;

use weir_otlp::splice::attrs::ValueRef;

use super::attr_list::AttrList;
use super::attributes::get_str;

/// Attribute holding the stack trace.
pub const STACKTRACE: &str = "exception.stacktrace";
/// Attribute holding the exception type.
pub const TYPE: &str = "exception.type";
/// Attribute the fingerprint is written to (only when absent).
pub const FINGERPRINT: &str = "exception.fingerprint";

/// Lower-case hex sha256 of the concatenation of `parts`.
pub(crate) fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut out = [0; 64];
    sha256_hex_into(parts, &mut out).to_owned()
}

/// [`sha256_hex`] written into `out`, for the per-record `hash` action,
/// which then needs no allocation.
pub(crate) fn sha256_hex_into<'o>(parts: &[&[u8]], out: &'o mut [u8; 64]) -> &'o str {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    for (pair, b) in out.chunks_exact_mut(2).zip(h.finalize()) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 0xf)];
    }
    // Only ASCII digits were written.
    std::str::from_utf8(out).unwrap_or_default()
}

/// The first three frames of `trace` (see the module docs).
pub fn frames(trace: &str) -> Vec<&str> {
    let recognised: Vec<&str> = trace
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("at ") || l.starts_with("File \""))
        .take(3)
        .collect();
    if !recognised.is_empty() {
        return recognised;
    }
    trace
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(3)
        .collect()
}

/// The fingerprint of an exception.
pub fn fingerprint(exception_type: &str, stacktrace: &str, platform: &str) -> String {
    let frames = frames(stacktrace);
    let mut parts: Vec<&[u8]> = Vec::with_capacity(5);
    parts.push(exception_type.as_bytes());
    parts.extend(frames.iter().map(|f| f.as_bytes()));
    parts.push(platform.as_bytes());
    sha256_hex(&parts)
}

/// The platform named by resource attributes.
pub(crate) fn platform(resource: &[KeyValue]) -> &str {
    get_str(resource, "telemetry.sdk.language")
        .or_else(|| get_str(resource, "process.runtime.name"))
        .unwrap_or("")
}

/// Adds `exception.fingerprint` to `attrs` when they hold a stack trace.
pub(crate) fn apply<L: AttrList + ?Sized>(attrs: &mut L, platform: &str) {
    let Some(trace) = attrs.get_str(STACKTRACE) else {
        return;
    };
    if attrs.get_str(FINGERPRINT).is_some() {
        return;
    }
    let fp = fingerprint(attrs.get_str(TYPE).unwrap_or(""), trace, platform);
    // Absent: checked above.
    attrs.push(FINGERPRINT, ValueRef::Str(&fp));
}
