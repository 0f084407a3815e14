//! Timestamps as Ledger's gateway reads them (pydantic v2 `datetime`, which
//! parses with the `speedate` crate) and writes them (RFC 3339, UTC, `Z`).
//!
//! Accepted, as pydantic accepts them from JSON in its default lax mode:
//! - `YYYY-MM-DD[T| |t|_]HH:MM[:SS[(.|,)f...]][Z|z|±HH[:]MM]`; without an
//!   offset the time is naive, which Ledger stores as UTC, so it is read as
//!   UTC here. Fraction digits past the sixth are dropped (pydantic's default
//!   `microseconds_precision='truncate'`).
//! - `YYYY-MM-DD` alone: midnight (lax mode's date fallback).
//! - A number, or a string holding one: unix seconds, or milliseconds when
//!   its magnitude is above 2e10 (speedate's watershed), from year 1600 to 9999.
//!
//! Python's `datetime` holds microseconds, so a [`Timestamp`] does too.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use weir_otlp::civil::{civil_from_days, days_from_civil, days_in_month};

/// An instant in UTC with microsecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    micros: i64,
}

/// Why a datetime did not parse: pydantic's error `type` and the speedate
/// explanation that follows "Input should be a valid datetime, " in its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTimeError {
    /// `datetime_parsing` or `datetime_from_date_parsing`.
    pub kind: &'static str,
    /// speedate's description, e.g. `month value is outside expected range of 1-12`.
    pub error: &'static str,
}

impl fmt::Display for DateTimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind == "datetime_from_date_parsing" {
            write!(
                f,
                "Input should be a valid datetime or date, {}",
                self.error
            )
        } else {
            write!(f, "Input should be a valid datetime, {}", self.error)
        }
    }
}

impl std::error::Error for DateTimeError {}

// speedate's error texts (`ParseError` documentation strings), which pydantic
// puts after its "Input should be a valid datetime, " prefix.
const TOO_SHORT: &str = "input is too short";
const EXTRA: &str = "unexpected extra characters at the end of the input";
const DT_SEP: &str = "invalid datetime separator, expected `T`, `t`, `_` or space";
const DATE_SEP: &str = "invalid date separator, expected `-`";
const CHAR_YEAR: &str = "invalid character in year";
const CHAR_MONTH: &str = "invalid character in month";
const CHAR_DAY: &str = "invalid character in day";
const TIME_SEP: &str = "invalid time separator, expected `:`";
const CHAR_HOUR: &str = "invalid character in hour";
const CHAR_MINUTE: &str = "invalid character in minute";
const CHAR_SECOND: &str = "invalid character in second";
const TZ_HOUR: &str = "invalid timezone hour";
const TZ_MINUTE: &str = "invalid timezone minute";
const RANGE_TZ_MINUTE: &str = "timezone minute value is outside expected range of 0-59";
const RANGE_TZ: &str = "timezone offset must be less than 24 hours";
const RANGE_MONTH: &str = "month value is outside expected range of 1-12";
const RANGE_DAY: &str = "day value is outside expected range";
const RANGE_HOUR: &str = "hour value is outside expected range of 0-23";
const RANGE_MINUTE: &str = "minute value is outside expected range of 0-59";
const RANGE_SECOND: &str = "second value is outside expected range of 0-59";
const FRACTION_MISSING: &str = "second fraction digits missing after `.`";
const TOO_SMALL: &str = "dates before 1600 are not supported as unix timestamps";
const TOO_LARGE: &str = "dates after 9999 are not supported as unix timestamps";

const MICROS_PER_SEC: i64 = 1_000_000;
const SECS_PER_DAY: i64 = 86_400;
/// speedate: a number above this magnitude is milliseconds, not seconds.
const MS_WATERSHED: i64 = 20_000_000_000;
const UNIX_1600: i64 = -11_676_096_000;
const UNIX_10000: i64 = 253_402_300_800;

impl Timestamp {
    /// From microseconds since the unix epoch.
    pub const fn from_unix_micros(micros: i64) -> Self {
        Timestamp { micros }
    }

    /// From nanoseconds since the unix epoch, truncated to the microsecond.
    pub const fn from_unix_nano(nanos: u64) -> Self {
        Timestamp {
            micros: (nanos / 1_000) as i64,
        }
    }

    /// Microseconds since the unix epoch (negative before 1970).
    pub const fn unix_micros(self) -> i64 {
        self.micros
    }

    /// Nanoseconds since the unix epoch; 0 for instants before 1970 (OTLP
    /// times are unsigned), saturating after 2554.
    pub fn unix_nano(self) -> u64 {
        u64::try_from(self.micros)
            .unwrap_or(0)
            .saturating_mul(1_000)
    }

    /// Parses a string as pydantic parses a `datetime` from a JSON string.
    pub fn parse(s: &str) -> Result<Timestamp, DateTimeError> {
        let bytes = s.as_bytes();
        let datetime_error = match parse_datetime(bytes) {
            Ok(t) => return Ok(t),
            Err(e) => e,
        };
        // speedate falls back to a unix timestamp written as text.
        if let Some(n) = parse_number(s) {
            return match n {
                Number::Int(i) => Timestamp::from_number_int(i),
                Number::Float(f) => Timestamp::from_number_float(f),
            };
        }
        // Lax mode then tries a bare date. A date followed by something else
        // (`ExtraCharacters`) keeps the datetime's own error; any other date
        // error is reported as `datetime_from_date_parsing`.
        match parse_date(bytes) {
            Ok(days) if bytes.len() == 10 => Ok(Timestamp {
                micros: days * SECS_PER_DAY * MICROS_PER_SEC,
            }),
            Ok(_) => Err(DateTimeError {
                kind: "datetime_parsing",
                error: datetime_error,
            }),
            Err(error) => Err(DateTimeError {
                kind: "datetime_from_date_parsing",
                error,
            }),
        }
    }

    /// A JSON integer read as pydantic does: unix seconds, or milliseconds
    /// above the watershed.
    pub fn from_number_int(n: i64) -> Result<Timestamp, DateTimeError> {
        let micros = if n.unsigned_abs() > MS_WATERSHED as u64 {
            i128::from(n) * 1_000
        } else {
            i128::from(n) * i128::from(MICROS_PER_SEC)
        };
        Timestamp::checked_range(micros)
    }

    /// A JSON float read as pydantic does (seconds or milliseconds with a
    /// fraction, rounded to the microsecond).
    pub fn from_number_float(f: f64) -> Result<Timestamp, DateTimeError> {
        if !f.is_finite() {
            return Err(parse_err(TOO_LARGE));
        }
        let scale = if f.abs() > MS_WATERSHED as f64 {
            1e3
        } else {
            1e6
        };
        let micros = (f * scale).round();
        if micros.abs() > 1e18 {
            return Err(parse_err(if f < 0.0 { TOO_SMALL } else { TOO_LARGE }));
        }
        Timestamp::checked_range(micros as i128)
    }

    fn checked_range(micros: i128) -> Result<Timestamp, DateTimeError> {
        let secs = micros.div_euclid(i128::from(MICROS_PER_SEC));
        if secs < i128::from(UNIX_1600) {
            return Err(parse_err(TOO_SMALL));
        }
        if secs >= i128::from(UNIX_10000) {
            return Err(parse_err(TOO_LARGE));
        }
        Ok(Timestamp {
            micros: micros as i64,
        })
    }
}

fn parse_err(error: &'static str) -> DateTimeError {
    DateTimeError {
        kind: "datetime_parsing",
        error,
    }
}

enum Number {
    Int(i64),
    Float(f64),
}

/// A string speedate would read as a number (digits, optional sign, optional
/// fraction); `None` otherwise.
fn parse_number(s: &str) -> Option<Number> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    if let Ok(i) = s.parse::<i64>() {
        return Some(Number::Int(i));
    }
    s.parse::<f64>().ok().map(Number::Float)
}

fn digit(bytes: &[u8], at: usize, error: &'static str) -> Result<i64, &'static str> {
    match bytes.get(at) {
        Some(c) if c.is_ascii_digit() => Ok(i64::from(c - b'0')),
        _ => Err(error),
    }
}

fn two_digits(bytes: &[u8], at: usize, error: &'static str) -> Result<i64, &'static str> {
    Ok(digit(bytes, at, error)? * 10 + digit(bytes, at + 1, error)?)
}

/// `YYYY-MM-DD` at the start of `bytes`, as days since the epoch.
fn parse_date(bytes: &[u8]) -> Result<i64, &'static str> {
    if bytes.len() < 10 {
        return Err(TOO_SHORT);
    }
    let year = two_digits(bytes, 0, CHAR_YEAR)? * 100 + two_digits(bytes, 2, CHAR_YEAR)?;
    if bytes[4] != b'-' {
        return Err(DATE_SEP);
    }
    let month = two_digits(bytes, 5, CHAR_MONTH)?;
    if bytes[7] != b'-' {
        return Err(DATE_SEP);
    }
    let day = two_digits(bytes, 8, CHAR_DAY)?;
    if !(1..=12).contains(&month) {
        return Err(RANGE_MONTH);
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err(RANGE_DAY);
    }
    Ok(days_from_civil(year, month, day))
}

/// A full datetime; the error is speedate's text.
fn parse_datetime(bytes: &[u8]) -> Result<Timestamp, &'static str> {
    let days = parse_date(bytes)?;
    match bytes.get(10) {
        Some(b'T' | b't' | b' ' | b'_') => {}
        None => return Err(TOO_SHORT),
        Some(_) => return Err(DT_SEP),
    }
    let mut pos = 11;
    if bytes.len() < pos + 5 {
        return Err(TOO_SHORT);
    }
    let hour = two_digits(bytes, pos, CHAR_HOUR)?;
    if bytes[pos + 2] != b':' {
        return Err(TIME_SEP);
    }
    let minute = two_digits(bytes, pos + 3, CHAR_MINUTE)?;
    pos += 5;
    let (mut second, mut micros) = (0, 0);
    if bytes.get(pos) == Some(&b':') {
        second = two_digits(bytes, pos + 1, CHAR_SECOND)?;
        pos += 3;
        if matches!(bytes.get(pos), Some(b'.' | b',')) {
            pos += 1;
            let start = pos;
            while bytes.get(pos).is_some_and(u8::is_ascii_digit) {
                if pos - start < 6 {
                    micros = micros * 10 + i64::from(bytes[pos] - b'0');
                }
                pos += 1;
            }
            let count = pos - start;
            if count == 0 {
                return Err(FRACTION_MISSING);
            }
            for _ in count..6 {
                micros *= 10;
            }
        }
    }
    if hour > 23 {
        return Err(RANGE_HOUR);
    }
    if minute > 59 {
        return Err(RANGE_MINUTE);
    }
    if second > 59 {
        return Err(RANGE_SECOND);
    }
    let mut offset_secs = 0;
    match bytes.get(pos) {
        Some(b'Z' | b'z') => pos += 1,
        Some(sign @ (b'+' | b'-')) => {
            let sign = if *sign == b'-' { -1 } else { 1 };
            let tz_hour = two_digits(bytes, pos + 1, TZ_HOUR)?;
            pos += 3;
            if bytes.get(pos) == Some(&b':') {
                pos += 1;
            }
            let tz_minute = two_digits(bytes, pos, TZ_MINUTE)?;
            pos += 2;
            if tz_minute > 59 {
                return Err(RANGE_TZ_MINUTE);
            }
            offset_secs = sign * (tz_hour * 3600 + tz_minute * 60);
            if offset_secs.abs() >= SECS_PER_DAY {
                return Err(RANGE_TZ);
            }
        }
        _ => {}
    }
    if pos != bytes.len() {
        return Err(EXTRA);
    }
    let secs = days * SECS_PER_DAY + hour * 3600 + minute * 60 + second - offset_secs;
    Ok(Timestamp {
        micros: secs * MICROS_PER_SEC + micros,
    })
}

/// RFC 3339 in UTC with `Z`: no fraction on a whole second, three digits on a
/// whole millisecond, else six (Python reads at most six).
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.micros.div_euclid(MICROS_PER_SEC);
        let micros = self.micros.rem_euclid(MICROS_PER_SEC);
        let (year, month, day) = civil_from_days(secs.div_euclid(SECS_PER_DAY));
        let tod = secs.rem_euclid(SECS_PER_DAY);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            tod / 3600,
            tod / 60 % 60,
            tod % 60
        )?;
        if micros == 0 {
            f.write_str("Z")
        } else if micros % 1_000 == 0 {
            write!(f, ".{:03}Z", micros / 1_000)
        } else {
            write!(f, ".{micros:06}Z")
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a datetime string or unix time")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Timestamp::parse(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                Timestamp::from_number_int(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                let v = i64::try_from(v).map_err(|_| E::custom(parse_err(TOO_LARGE)))?;
                Timestamp::from_number_int(v).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timestamp, E> {
                Timestamp::from_number_float(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
#[path = "timestamp_tests.rs"]
mod tests;
