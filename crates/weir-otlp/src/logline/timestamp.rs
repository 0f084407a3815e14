//! Timestamps in log input: RFC 3339 text, or epoch numbers whose unit
//! (s, ms, µs, ns) is told by their magnitude. All results are Unix nanoseconds;
//! times before 1970 or past 2554 (u64 nanoseconds) give `None`.

use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};

use crate::civil::{days_from_civil, days_in_month};

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// Unix nanoseconds from a JSON value: an RFC 3339 string, an epoch number, or
/// an epoch number written as a string.
pub fn timestamp_from_json(value: &serde_json::Value) -> Option<u64> {
    match value {
        serde_json::Value::String(s) => parse_timestamp_str(s),
        serde_json::Value::Number(n) => match n.as_u64() {
            Some(u) => epoch_int_to_nanos(u),
            None => epoch_float_to_nanos(n.as_f64()?),
        },
        _ => None,
    }
}

/// Unix nanoseconds from an [`AnyValue`]: a string as in [`parse_timestamp_str`],
/// an int or a double as an epoch number.
pub fn timestamp_from_any(value: &AnyValue) -> Option<u64> {
    match value.value.as_ref()? {
        any_value::Value::StringValue(s) => parse_timestamp_str(s),
        any_value::Value::IntValue(n) => epoch_int_to_nanos(u64::try_from(*n).ok()?),
        any_value::Value::DoubleValue(f) => epoch_float_to_nanos(*f),
        _ => None,
    }
}

/// Unix nanoseconds from text: RFC 3339, or an epoch number such as
/// `1700000000`, `1700000000.25` or `1700000000123`.
pub fn parse_timestamp_str(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.as_bytes().first()? {
        b'0'..=b'9' if s.len() > 10 && s.as_bytes()[4] == b'-' => parse_rfc3339(s),
        b'0'..=b'9' => parse_epoch_str(s),
        _ => None,
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm)`: `T` may also be `t` or a
/// space, `Z` also `z`, the offset also `±hhmm`; fractions beyond nanoseconds are
/// cut. Checks ranges, including days of the month in leap years.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let year = digits(&b[0..4])? as i64;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    // 60 is a leap second; it folds into the next minute.
    let second = digits(&b[17..19])?;
    if !(1..=12).contains(&month)
        || day == 0
        || i64::from(day) > days_in_month(year, i64::from(month))
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }

    let mut i = 19;
    let mut nanos = 0u64;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + u64::from(b[i] - b'0');
            }
            i += 1;
        }
        let count = i - start;
        if count == 0 {
            return None;
        }
        if count < 9 {
            nanos *= 10u64.pow(9 - count as u32);
        }
    }

    let offset_secs: i64 = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') => {
            let rest = &b[i + 1..];
            let (h, m) = match rest.len() {
                5 if rest[2] == b':' => (digits(&rest[0..2])?, digits(&rest[3..5])?),
                4 => (digits(&rest[0..2])?, digits(&rest[2..4])?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let secs = i64::from(h * 3600 + m * 60);
            if *sign == b'-' { -secs } else { secs }
        }
        _ => return None,
    };

    let days = days_from_civil(year, i64::from(month), i64::from(day));
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset_secs;
    u64::try_from(secs)
        .ok()?
        .checked_mul(NANOS_PER_SEC)?
        .checked_add(nanos)
}

/// The nanoseconds in one unit of an epoch number, told by its integer part:
/// below 1e11 it counts seconds (up to year 5138), below 1e14 milliseconds,
/// below 1e17 microseconds, else nanoseconds.
fn unit_nanos(integer_part: u64) -> u64 {
    match integer_part {
        0..100_000_000_000 => NANOS_PER_SEC,
        100_000_000_000..100_000_000_000_000 => 1_000_000,
        100_000_000_000_000..100_000_000_000_000_000 => 1_000,
        _ => 1,
    }
}

/// An integer epoch in s, ms, µs or ns (by magnitude) as Unix nanoseconds.
pub fn epoch_int_to_nanos(epoch: u64) -> Option<u64> {
    epoch.checked_mul(unit_nanos(epoch))
}

/// A fractional epoch in s, ms, µs or ns (by magnitude) as Unix nanoseconds.
/// Precision is that of an `f64` (about 0.2 µs for seconds today).
pub fn epoch_float_to_nanos(epoch: f64) -> Option<u64> {
    if !epoch.is_finite() || epoch < 0.0 || epoch >= u64::MAX as f64 {
        return None;
    }
    let whole = epoch.trunc();
    let unit = unit_nanos(whole as u64);
    // Scaling the whole and fractional parts apart keeps the fraction's digits.
    let fraction = ((epoch - whole) * unit as f64).round() as u64;
    (whole as u64).checked_mul(unit)?.checked_add(fraction)
}

/// An epoch written as `digits[.digits]` as Unix nanoseconds, exactly.
pub fn parse_epoch_str(s: &str) -> Option<u64> {
    let (whole, fraction) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s, ""),
    };
    if whole.is_empty() || !whole.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if !fraction.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let unit = unit_nanos(whole);
    // Digits past the unit's nanosecond resolution cannot change the result.
    let fraction = &fraction[..fraction.len().min(18)];
    let fraction_nanos = if fraction.is_empty() {
        0
    } else {
        let value: u128 = fraction.parse().ok()?;
        let scale = 10u128.pow(fraction.len() as u32);
        (value * u128::from(unit) / scale) as u64
    };
    whole.checked_mul(unit)?.checked_add(fraction_nanos)
}

/// Two to four ASCII digits as a number.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = 1_700_000_000; // 2023-11-14T22:13:20Z

    #[test]
    fn rfc3339_utc_offsets_and_fractions() {
        let base = T * NANOS_PER_SEC;
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20Z"), Some(base));
        assert_eq!(parse_rfc3339("2023-11-14t22:13:20z"), Some(base));
        assert_eq!(parse_rfc3339("2023-11-14 22:13:20Z"), Some(base));
        assert_eq!(parse_rfc3339("2023-11-14T23:43:20+01:30"), Some(base));
        assert_eq!(parse_rfc3339("2023-11-14T17:13:20-05:00"), Some(base));
        assert_eq!(parse_rfc3339("2023-11-14T17:13:20-0500"), Some(base));
        assert_eq!(
            parse_rfc3339("2023-11-14T22:13:20.5Z"),
            Some(base + 500_000_000)
        );
        assert_eq!(
            parse_rfc3339("2023-11-14T22:13:20.123456Z"),
            Some(base + 123_456_000)
        );
        assert_eq!(
            parse_rfc3339("2023-11-14T22:13:20.123456789Z"),
            Some(base + 123_456_789)
        );
        assert_eq!(
            parse_rfc3339("2023-11-14T22:13:20.1234567891Z"),
            Some(base + 123_456_789)
        );
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2024-02-29T00:00:00Z"),
            Some(1_709_164_800 * NANOS_PER_SEC)
        );
    }

    #[test]
    fn rfc3339_rejects_malformed_and_out_of_range() {
        for bad in [
            "2023-11-14T22:13:20", // no zone: ambiguous
            "2023-11-14T22:13:20.Z",
            "2023-11-14T22:13:20Q",
            "2023-13-14T22:13:20Z",
            "2023-02-29T22:13:20Z", // not a leap year
            "2023-11-31T22:13:20Z",
            "2023-11-14T24:00:00Z",
            "2023-11-14T22:13:20+25:00",
            "2023-11-14T22:13:20Zjunk",
            "1969-12-31T23:59:59Z", // before the epoch
            "2023/11/14T22:13:20Z",
            "2023-11-14T22:13:2xZ",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn epoch_units_by_magnitude() {
        let ns = T * NANOS_PER_SEC;
        assert_eq!(epoch_int_to_nanos(T), Some(ns));
        assert_eq!(epoch_int_to_nanos(T * 1_000), Some(ns));
        assert_eq!(epoch_int_to_nanos(T * 1_000_000), Some(ns));
        assert_eq!(epoch_int_to_nanos(ns), Some(ns));
        assert_eq!(
            epoch_float_to_nanos(1_700_000_000.25),
            Some(ns + 250_000_000)
        );
        assert_eq!(
            epoch_float_to_nanos(1_700_000_000_123.5),
            Some(ns + 123_500_000)
        );
        assert_eq!(epoch_float_to_nanos(-1.0), None);
        assert_eq!(epoch_float_to_nanos(f64::NAN), None);
        assert_eq!(parse_epoch_str("1700000000"), Some(ns));
        assert_eq!(
            parse_epoch_str("1700000000.123456789"),
            Some(ns + 123_456_789)
        );
        assert_eq!(parse_epoch_str("1700000000123"), Some(ns + 123_000_000));
        assert_eq!(parse_epoch_str("1700000000123.25"), Some(ns + 123_250_000));
        assert_eq!(parse_epoch_str("1700000000123456"), Some(ns + 123_456_000));
        assert_eq!(
            parse_epoch_str("1700000000123456789"),
            Some(ns + 123_456_789)
        );
        assert_eq!(parse_epoch_str("17e8"), None);
        assert_eq!(parse_epoch_str("-5"), None);
        // Seconds too large for u64 nanoseconds.
        assert_eq!(epoch_int_to_nanos(99_999_999_999), None);
    }

    #[test]
    fn strings_pick_their_format() {
        let ns = T * NANOS_PER_SEC;
        assert_eq!(parse_timestamp_str("2023-11-14T22:13:20Z"), Some(ns));
        assert_eq!(parse_timestamp_str(" 1700000000 "), Some(ns));
        assert_eq!(parse_timestamp_str("yesterday"), None);
        assert_eq!(parse_timestamp_str(""), None);
        assert_eq!(
            timestamp_from_json(&serde_json::json!(1_700_000_000_000u64)),
            Some(ns)
        );
        assert_eq!(timestamp_from_json(&serde_json::json!(-3)), None);
        assert_eq!(timestamp_from_json(&serde_json::json!(true)), None);
    }
}
